import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MikroORM, Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import pg from 'pg';
import { entities } from '../entities/index.js';
import { migrationsList } from './migrations/index.js';

/** Where the data lives: a real PostgreSQL, or the embedded engine in a folder (or in memory). */
export type DatabaseTarget =
  | { kind: 'postgres'; url: string }
  /** `loadDataDir`: a new data directory starts as this dump (PGlite's `dumpDataDir`; tests load a migrated schema) */
  | { kind: 'pglite'; dataDir: string; loadDataDir?: Blob };

export function databaseTarget(config: { DATABASE_URL?: string; BERTH_DATA_DIR: string }): DatabaseTarget {
  return config.DATABASE_URL ? { kind: 'postgres', url: config.DATABASE_URL } : { kind: 'pglite', dataDir: config.BERTH_DATA_DIR };
}

export function ormOptions(overrides: Partial<Options> = {}): Partial<Options> {
  return {
    entities,
    extensions: [Migrator],
    // silent: startBerth logs what was applied through the app's logger
    migrations: { migrationsList, snapshot: false, transactional: true, allOrNothing: true, silent: true },
    // the change-event triggers and their functions are written by migration Issue4Events, not declared on entities, and
    // login throttling's table is rate-limiter-flexible's (migration LoginThrottle): the diff leaves them alone
    schemaGenerator: { ignoreTriggers: true, ignoreRoutines: true, skipTables: ['login_throttle'] },
    // explicit types on every property; no reflection, no discovery at run time
    discovery: { checkDuplicateTableNames: true },
    forceUtcTimezone: true,
    colors: false,
    ...overrides,
  };
}

/** Opens the ORM; the embedded driver is imported only when used. */
export async function openOrm(target: DatabaseTarget, overrides: Partial<Options> = {}): Promise<MikroORM> {
  if (target.kind === 'pglite') {
    if (target.dataDir !== 'memory://') mkdirSync(target.dataDir, { recursive: true });
    const { MikroORM: PgliteOrm } = await import('@mikro-orm/pglite');
    // PGlite refuses a dump over an existing database: a folder opened before keeps its data
    const loadDataDir = target.dataDir === 'memory://' || !existsSync(join(target.dataDir, 'PG_VERSION')) ? target.loadDataDir : undefined;
    // a function, because the ORM deep-copies option objects and a copied Blob loses its contents
    const driverOptions = loadDataDir ? { driverOptions: () => ({ loadDataDir }) } : {};
    return (await PgliteOrm.init({ ...ormOptions(overrides), dbName: target.dataDir, ...driverOptions })) as unknown as MikroORM;
  }
  const { MikroORM: PgOrm } = await import('@mikro-orm/postgresql');
  return (await PgOrm.init({ ...ormOptions(overrides), clientUrl: target.url })) as unknown as MikroORM;
}

/** Any fixed number: the advisory lock that lets one replica at a time migrate a shared database. */
const MIGRATION_LOCK = 0x62657274; // "bert"

/**
 * Applies pending migrations; returns the names applied. On PostgreSQL, replicas starting together
 * take turns under an advisory lock, held on a connection of its own (the migrator uses the pool);
 * the ones that follow find nothing pending.
 */
export async function migrate(orm: MikroORM, target: DatabaseTarget): Promise<string[]> {
  if (target.kind === 'pglite') return (await orm.migrator.up()).map((m) => m.name);
  const lock = new pg.Client({ connectionString: target.url });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    return (await orm.migrator.up()).map((m) => m.name);
  } finally {
    await lock.end(); // ending the session releases the lock
  }
}

/** True when the database answers and no migration is pending (readiness). */
export async function isReady(orm: MikroORM): Promise<boolean> {
  try {
    return (await orm.migrator.getPending()).length === 0;
  } catch {
    return false;
  }
}
