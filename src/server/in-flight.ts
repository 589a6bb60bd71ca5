import type { Server, ServerResponse } from 'node:http';

/**
 * The HTTP requests being handled, so that shutdown closes the database only after the last one. Apollo's HTTP drain
 * waits on sockets, not on handlers: a client that hangs up mid-request (or sends its next request on a keep-alive
 * connection just as the drain ends it) leaves a handler running with no socket to wait on, and the pool closed under
 * it ("driver has already been destroyed").
 */
export class InFlightRequests {
  /** each response, with how many of its handlings (its close, its route handler) are still under way */
  private readonly responses = new Map<ServerResponse, number>();
  private draining = false;
  private idle: (() => void) | undefined;
  private readonly closed: Promise<void>;

  constructor(server: Server) {
    // registered now: the drain closes the server while drain() may be waiting on something else
    this.closed = new Promise((resolve) => server.once('close', () => resolve()));
  }

  /**
   * Counts the request answered by `res` until `handling` settles (called once per thing that must end: the
   * response, its route handler); during the drain, its response ends the connection.
   */
  track(res: ServerResponse, handling: Promise<unknown>): void {
    if (this.draining) closeAfter(res);
    this.responses.set(res, (this.responses.get(res) ?? 0) + 1);
    const done = () => {
      const left = this.responses.get(res)! - 1;
      if (left) this.responses.set(res, left);
      else this.responses.delete(res);
      if (!this.responses.size) this.idle?.();
    };
    handling.then(done, done);
  }

  /**
   * From now on every response closes its connection (a keep-alive client then sends nothing more on it); resolves
   * once the server has closed (no request can arrive any more) and no handler is running.
   */
  async drain(): Promise<void> {
    this.draining = true;
    this.responses.forEach((_, res) => closeAfter(res));
    await this.closed;
    if (this.responses.size) await new Promise<void>((resolve) => (this.idle = resolve));
  }
}

function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
}
