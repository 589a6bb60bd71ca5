import { createClient } from 'redis';
import type { Logger } from '../../server/logger.js';
import { EVENT_CHANNEL, parseCursor, type EventBus } from './event-bus.js';

type RedisClient = ReturnType<typeof createClient>;

/** Redis pub/sub: a subscribing connection and a publishing one (a subscribed connection can only subscribe). */
export class RedisBus implements EventBus {
  readonly engine = 'redis';
  private readonly handlers: ((cursor: number) => void)[] = [];
  private readonly publisher: RedisClient;
  private readonly subscriber: RedisClient;

  constructor(url: string, logger: Logger) {
    // the client reconnects by itself; errors are reported, never thrown at the process
    this.publisher = createClient({ url });
    this.subscriber = this.publisher.duplicate();
    for (const client of [this.publisher, this.subscriber]) client.on('error', (err: unknown) => logger.warn({ err }, 'event bus Redis connection failed'));
  }

  async start(): Promise<void> {
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    await this.subscriber.subscribe(EVENT_CHANNEL, (payload: string) => {
      const cursor = parseCursor(payload);
      if (cursor !== null) this.handlers.forEach((handler) => handler(cursor));
    });
  }

  async publish(cursor: number): Promise<void> {
    await this.publisher.publish(EVENT_CHANNEL, String(cursor));
  }

  onMessage(handler: (cursor: number) => void): void {
    this.handlers.push(handler);
  }

  async close(): Promise<void> {
    await Promise.all([this.subscriber.close(), this.publisher.close()].map((p) => p.catch(() => undefined)));
  }
}
