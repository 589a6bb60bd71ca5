import type { DatabaseTarget } from '../../db/orm.js';
import type { Logger } from '../../logging/logger.js';
import type { EventBus } from './event-bus.js';
import { MemoryBus } from './memory-bus.js';
import { PostgresBus } from './postgres-bus.js';

export type { EventBus } from './event-bus.js';

/** Redis when REDIS_URL is set; else LISTEN/NOTIFY on a real PostgreSQL; else in-process (embedded database). */
export async function openEventBus(config: { REDIS_URL?: string }, database: DatabaseTarget, logger: Logger): Promise<EventBus> {
  if (config.REDIS_URL) {
    // loaded only with REDIS_URL: node-redis takes about 100 ms and 25 MB to load
    const { RedisBus } = await import('./redis-bus.js');
    const bus = new RedisBus(config.REDIS_URL, logger);
    await bus.start();
    return bus;
  }
  if (database.kind === 'postgres') {
    const bus = new PostgresBus(database.url, logger);
    await bus.start();
    return bus;
  }
  return new MemoryBus();
}
