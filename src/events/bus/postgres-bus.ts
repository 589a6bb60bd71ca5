import pg from 'pg';
import type { Logger } from '../../logging/logger.js';
import { EVENT_CHANNEL, parseCursor, type EventBus } from './event-bus.js';

const RECONNECT_MS = 1000;

/**
 * PostgreSQL LISTEN/NOTIFY: one dedicated connection listens (reconnecting after errors); publishing
 * goes through a short-lived query on a second connection. Payloads are a cursor, far under
 * NOTIFY's 8,000-byte limit.
 */
export class PostgresBus implements EventBus {
  readonly engine = 'postgres';
  private readonly handlers: ((cursor: number) => void)[] = [];
  private listener: pg.Client | null = null;
  private readonly publisher: pg.Pool;
  private closed = false;

  constructor(private readonly url: string, private readonly logger: Logger) {
    this.publisher = new pg.Pool({ connectionString: url, max: 2 });
    this.publisher.on('error', (err) => logger.warn({ err }, 'event bus publisher connection failed'));
  }

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (message) => {
      const cursor = message.channel === EVENT_CHANNEL ? parseCursor(message.payload ?? '') : null;
      if (cursor !== null) this.handlers.forEach((handler) => handler(cursor));
    });
    client.on('error', (err) => {
      this.logger.warn({ err }, 'event bus listener lost its connection; reconnecting');
      void client.end().catch(() => undefined);
      this.reconnect();
    });
    await client.connect();
    await client.query(`listen ${EVENT_CHANNEL}`);
    this.listener = client;
  }

  private reconnect(): void {
    this.listener = null;
    if (this.closed) return;
    setTimeout(() => {
      if (this.closed) return;
      this.start().catch((err: unknown) => {
        this.logger.warn({ err }, 'event bus listener could not reconnect; retrying');
        this.reconnect();
      });
    }, RECONNECT_MS).unref();
  }

  async publish(cursor: number): Promise<void> {
    await this.publisher.query('select pg_notify($1, $2)', [EVENT_CHANNEL, String(cursor)]);
  }

  onMessage(handler: (cursor: number) => void): void {
    this.handlers.push(handler);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => undefined);
    await this.publisher.end();
  }
}
