import { setTimeout as sleep } from 'node:timers/promises';
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
 * however many sockets share it), and the sockets of one that fails are closed with 4403. The checks
 * of a sweep are spread over half the period: 2,000 users' tokens checked back to back held the
 * database for over a second (the embedded engine has one connection), and every write and the events
 * behind it waited.
 */
export class CredentialWatch {
  private readonly sockets = new Map<Closable, string>();
  private readonly timer: NodeJS.Timeout;
  private sweeping = false;
  private stopped = false;

  constructor(
    private readonly authenticate: (credentials: Credentials) => Promise<ServiceContext>,
    private readonly logger: Logger,
    private readonly everyMs: number,
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
    this.stopped = true;
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
      const gapMs = this.everyMs / 2 / bySecret.size;
      for (const [key, sockets] of bySecret) {
        if (this.stopped) return;
        // its sockets may have closed while earlier ones were checked
        if (!sockets.some((socket) => this.sockets.has(socket))) continue;
        const { authError } = await this.authenticate(JSON.parse(key) as Credentials);
        if (authError) {
          for (const socket of sockets) {
            this.sockets.delete(socket);
            socket.close(CloseCode.Forbidden, 'Forbidden: the credential is no longer valid');
          }
        }
        await sleep(gapMs, undefined, { ref: false });
      }
    } catch (err) {
      this.logger.warn({ err }, 'checking WebSocket credentials again failed; retrying on the next sweep');
    } finally {
      this.sweeping = false;
    }
  }
}
