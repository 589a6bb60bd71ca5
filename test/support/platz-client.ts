import WebSocket from 'ws';
import { Observed } from './subscriptions.js';

type Frame = Record<string, unknown>;

/** A Platz WebSocket (`/api/v2/ws`) client as Platz's frontend uses it, collecting the frames it receives. */
export class PlatzClient extends Observed {
  readonly frames: Frame[] = [];
  closed: { code: number; reason: string } | null = null;

  constructor(readonly socket: WebSocket) {
    super();
    socket.on('message', (data) => this.update(() => this.frames.push(JSON.parse(String(data)) as Frame)));
    socket.on('close', (code, reason) => this.update(() => (this.closed = { code, reason: String(reason) })));
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  subscribe(table: string, envId: string | null): void {
    this.send({ type: 'subscribe', table, env_id: envId });
  }

  unsubscribe(table: string, envId: string | null): void {
    this.send({ type: 'unsubscribe', table, env_id: envId });
  }

  /** Resolves once the server has read every frame sent before: it answers a ping only after them. */
  sync(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.once('pong', () => resolve());
      this.socket.ping();
    });
  }

  /** Waits for the event about object `id`. */
  received(id: string): Promise<void> {
    return this.until((c) => c.frames.some((f) => (f.data as { id?: string } | undefined)?.id === id), `the event of ${id}`);
  }
}

/** Opens a socket at `url` with these headers or subprotocols; rejects with the HTTP status when the upgrade is refused. */
export function connectPlatz(url: string, headers: Record<string, string>, protocols: string[] = []): Promise<PlatzClient> {
  const socket = new WebSocket(url, protocols, { headers });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(new PlatzClient(socket)));
    socket.once('unexpected-response', (_req, res) => {
      res.resume();
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }));
    });
    socket.once('error', reject);
  });
}
