import { createClient } from 'redis';
import type { Logger } from '../../logging/logger.js';
import { EVENT_CHANNEL, parseCursor, type EventBus } from './event-bus.js';
import { StartupError } from '../../errors/startup-error.js';

type RedisClient = ReturnType<typeof createClient>;

/** Redis pub/sub: a subscribing connection and a publishing one (a subscribed connection can only subscribe). */
export class RedisBus implements EventBus {
  readonly engine = 'redis';
  private readonly handlers: ((cursor: number) => void)[] = [];
  private readonly publisher: RedisClient;
  private readonly subscriber: RedisClient;

  private started = false;

  constructor(url: string, logger: Logger) {
    // Unreachable at start: fail the start with the cause (node-redis would retry forever).
    // Lost later: reconnect with backoff, resubscribing by itself, and let a publish made meanwhile
    // fail at once instead of queueing; the other replicas catch up on their poll.
    const reconnectStrategy = (retries: number) => (this.started ? Math.min(100 * 2 ** retries, 2000) : false);
    this.publisher = createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy, connectTimeout: 5000 } });
    this.subscriber = createClient({ url, socket: { reconnectStrategy, connectTimeout: 5000 } });
    for (const client of [this.publisher, this.subscriber]) client.on('error', (err: unknown) => logger.warn({ err }, 'event bus Redis connection failed'));
  }

  async start(): Promise<void> {
    try {
      await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    } catch (err) {
      await this.close();
      throw new StartupError([`Redis at REDIS_URL is unreachable: ${(err as Error).message}`]);
    }
    this.started = true;
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
