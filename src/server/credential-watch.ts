import type { Credentials } from '../request/identity.js';
import { CloseCode } from '../events/event-stream.js';
import type { ServiceContext } from '../request/context.js';
import type { Logger } from '../logging/logger.js';

interface Closable {
  close(code: number, reason: string): void;
}

/**
 * A WebSocket outlives the credential it opened with: a token is revoked, a session ends, a JWT
 * expires. Every `everyMs` each distinct credential of the open sockets is checked again (once,
 * however many sockets share it), and the sockets of one that fails are closed with 4403.
 */
export class CredentialWatch {
  private readonly sockets = new Map<Closable, string>();
  private readonly timer: NodeJS.Timeout;
  private sweeping = false;

  constructor(
    private readonly authenticate: (credentials: Credentials) => Promise<ServiceContext>,
    private readonly logger: Logger,
    everyMs: number,
  ) {
    this.timer = setInterval(() => void this.sweep(), everyMs).unref();
  }

  /** Sockets without a credential have nothing to revoke. */
  watch(socket: Closable, credentials: Credentials): void {
    if (credentials.authorization || credentials.platzToken) this.sockets.set(socket, JSON.stringify(credentials));
  }

  forget(socket: Closable): void {
    this.sockets.delete(socket);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sockets.clear();
  }

  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const bySecret = new Map<string, Closable[]>();
      for (const [socket, key] of this.sockets) {
        const group = bySecret.get(key);
        if (group) group.push(socket);
        else bySecret.set(key, [socket]);
      }
      for (const [key, sockets] of bySecret) {
        const { authError } = await this.authenticate(JSON.parse(key) as Credentials);
        if (!authError) continue;
        for (const socket of sockets) {
          this.sockets.delete(socket);
          socket.close(CloseCode.Forbidden, 'Forbidden: the credential is no longer valid');
        }
      }
    } catch (err) {
      this.logger.warn({ err }, 'checking WebSocket credentials again failed; retrying on the next sweep');
    } finally {
      this.sweeping = false;
    }
  }
}
