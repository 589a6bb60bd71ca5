import type { MikroORM } from '@mikro-orm/core';
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis } from 'rate-limiter-flexible';
import type { DatabaseTarget } from '../db/orm.js';
import type { Logger } from '../logging/logger.js';
import type { LimiterFactory } from './login-throttle.js';

/** The table migration LoginThrottle creates, in RateLimiterPostgres's format. */
const TABLE = 'login_throttle';

/** How often the PostgreSQL store deletes counters and locks that have run out. */
const PRUNE_EVERY_MS = 5 * 60_000;

export interface LimiterStore {
  engine: 'redis' | 'postgres' | 'memory';
  limiter: LimiterFactory;
  close(): Promise<void>;
}

/**
 * Where login throttling keeps its counts, shared by the replicas: Redis when REDIS_URL is set, else the PostgreSQL
 * database (table login_throttle), else this process's memory (the embedded engine serves one process). A store that
 * fails fails the login (INTERNAL_SERVER_ERROR) rather than letting it through unthrottled.
 */
export async function openLimiterStore(config: { REDIS_URL?: string }, database: DatabaseTarget, orm: MikroORM, logger: Logger): Promise<LimiterStore> {
  if (config.REDIS_URL) {
    // loaded only with REDIS_URL: node-redis takes about 100 ms and 25 MB to load
    const { createClient } = await import('redis');
    let started = false;
    // unreachable at start: fail the start with the cause; lost later: reconnect, and fail logins meanwhile at once
    const client = createClient({
      url: config.REDIS_URL,
      disableOfflineQueue: true,
      socket: { connectTimeout: 5000, reconnectStrategy: (retries: number) => (started ? Math.min(100 * 2 ** retries, 2000) : false) },
    });
    client.on('error', (err: unknown) => logger.warn({ err }, 'login throttling Redis connection failed'));
    try {
      await client.connect();
    } catch (err) {
      await client.close().catch(() => undefined);
      throw new Error(`Redis at REDIS_URL is unreachable: ${(err as Error).message}`);
    }
    started = true;
    return {
      engine: 'redis',
      limiter: (options) => new RateLimiterRedis({ ...options, keyPrefix: `berth:${options.keyPrefix}`, storeClient: client, useRedisPackage: true }),
      close: () => client.close().catch(() => undefined),
    };
  }
  if (database.kind === 'postgres') {
    const pool = (await orm.em.getConnection().getNativeClient()) as pg.Pool;
    const prune = setInterval(() => {
      pool.query(`delete from ${TABLE} where expire < $1`, [Date.now()]).catch((err: unknown) => logger.warn({ err }, 'pruning login throttling failed'));
    }, PRUNE_EVERY_MS);
    prune.unref();
    return {
      engine: 'postgres',
      limiter: (options) => new RateLimiterPostgres({ ...options, storeClient: pool, storeType: 'pool', tableName: TABLE, tableCreated: true, clearExpiredByTimeout: false }),
      close: async () => clearInterval(prune),
    };
  }
  return { engine: 'memory', limiter: (options) => new RateLimiterMemory(options), close: async () => {} };
}
