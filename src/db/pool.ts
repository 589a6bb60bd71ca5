import type { MikroORM } from '@mikro-orm/core';
import type { Pool } from 'pg';
import type { DatabaseTarget } from './orm.js';

/** The connection pool as it stands; `idle` and `waiting` only where the engine reports them. */
export interface PoolUse {
  /** connections open, busy or idle */
  connections: number;
  /** the most it opens (DATABASE_POOL_MAX) */
  max: number;
  idle?: number;
  /** queries waiting for a connection */
  waiting?: number;
}

/** What the pool holds now: node-postgres's pool on PostgreSQL; the embedded engine is one connection, taking one query at a time. */
export async function poolUse(orm: MikroORM, target: DatabaseTarget): Promise<PoolUse> {
  if (target.kind === 'pglite') return { connections: 1, max: 1 };
  const pool = (await orm.em.getConnection().getNativeClient()) as Pool;
  return { connections: pool.totalCount, max: pool.options.max ?? 10, idle: pool.idleCount, waiting: pool.waitingCount };
}
