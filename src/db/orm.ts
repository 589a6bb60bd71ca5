import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MikroORM, Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import pg from 'pg';
import { entities } from '../entities/index.js';
import { StartupError } from '../errors/startup-error.js';
import type { Logger } from '../logging/logger.js';
import { BUILD_TEMPLATE, copyTemplate } from './embedded-template.js';
import { migrationsList } from './migrations/index.js';

/** Where the data lives: a real PostgreSQL, or the embedded engine in a folder (or in memory). */
export type DatabaseTarget =
  | { kind: 'postgres'; url: string }
  /**
   * A new data folder starts as `loadDataDir`, a dump (PGlite's `dumpDataDir`; tests load a migrated schema), or as
   * `template` (src/db/embedded-template.ts) when it fits, or empty. `sharedBuffers`: PostgreSQL's shared_buffers,
   * EMBEDDED_SHARED_BUFFERS when absent.
   */
  | { kind: 'pglite'; dataDir: string; loadDataDir?: Blob; template?: string; sharedBuffers?: string };

/**
 * The embedded engine's shared_buffers unless BERTH_EMBEDDED_SHARED_BUFFERS says otherwise. The engine's memory holds
 * all of it from the start: PostgreSQL's default, 128MB, would be most of an idle server, for a database of a few
 * thousand rows. 16MB holds Berth's working set; a page that is not in it is read again through the OS's page cache.
 */
const EMBEDDED_SHARED_BUFFERS = '16MB';

export function databaseTarget(config: { DATABASE_URL?: string; BERTH_DATA_DIR: string; BERTH_EMBEDDED_SHARED_BUFFERS?: string }): DatabaseTarget {
  if (config.DATABASE_URL) return { kind: 'postgres', url: config.DATABASE_URL };
  const sharedBuffers = config.BERTH_EMBEDDED_SHARED_BUFFERS ? { sharedBuffers: config.BERTH_EMBEDDED_SHARED_BUFFERS } : {};
  return { kind: 'pglite', dataDir: config.BERTH_DATA_DIR, template: BUILD_TEMPLATE, ...sharedBuffers };
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

/** Errors of a database that is not (yet) there: connection refused or reset, a name not resolving yet, starting up. */
const TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P03']);

/** DATABASE_URL without its password, to name it in a message. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'DATABASE_URL';
  }
}

/** What went wrong, in words, with the driver's code: "connection refused (ECONNREFUSED)". */
function describeConnectError(err: unknown): string {
  const { code, message } = (err ?? {}) as { code?: string; message?: string };
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ETIMEDOUT: 'timed out',
    '57P03': 'the database is starting up',
    '28P01': 'password authentication failed',
    '3D000': 'the database does not exist',
  };
  return code ? `${words[code] ?? message ?? 'failed'} (${code})` : (message ?? String(err));
}

/**
 * Opens the ORM on a real PostgreSQL, retrying the first connection with exponential backoff (250 ms to 5 s) for up
 * to `timeoutMs`: a pod may start before its database. Anything but an unreachable database fails at once. Either way
 * the error is a StartupError naming DATABASE_URL, without its password.
 */
export async function connectOrm(target: DatabaseTarget, overrides: Partial<Options>, retry: { timeoutMs: number; logger: Logger }): Promise<MikroORM> {
  const deadline = Date.now() + retry.timeoutMs;
  for (let attempt = 0, delay = 250; ; attempt++, delay = Math.min(delay * 2, 5000)) {
    let orm: MikroORM | undefined;
    try {
      orm = await openOrm(target, overrides);
      // the pool connects lazily: ask now, so an unreachable database is found here rather than mid-migration
      await orm.em.getConnection().execute('select 1');
      return orm;
    } catch (err) {
      await orm?.close(true).catch(() => {});
      if (target.kind !== 'postgres') throw err;
      const code = (err as { code?: string }).code ?? '';
      const reason = describeConnectError(err);
      const where = `DATABASE_URL (${redactedUrl(target.url)})`;
      if (!TRANSIENT.has(code)) throw new StartupError([`${where}: ${reason}`]);
      if (Date.now() + delay > deadline) {
        const tries = attempt ? `${attempt + 1} times` : 'once';
        throw new StartupError([`${where} cannot be reached: ${reason}; tried ${tries} within DATABASE_CONNECT_TIMEOUT_SECONDS (${retry.timeoutMs / 1000} s)`]);
      }
      retry.logger.warn({ database: redactedUrl(target.url), reason, retryInMs: delay }, 'the database cannot be reached yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Opens the ORM; the embedded driver is imported only when used. */
export async function openOrm(target: DatabaseTarget, overrides: Partial<Options> = {}): Promise<MikroORM> {
  if (target.kind === 'pglite') {
    const inMemory = target.dataDir === 'memory://';
    // A folder opened before keeps its data (PGlite refuses a dump over a database). A new one starts as the dump
    // given, else as the template when it fits, else empty: PGlite runs initdb, and every migration follows.
    const fresh = inMemory || !existsSync(join(target.dataDir, 'PG_VERSION'));
    if (!inMemory) mkdirSync(target.dataDir, { recursive: true });
    const loadDataDir = fresh ? target.loadDataDir : undefined;
    if (fresh && !inMemory && !loadDataDir && target.template) copyTemplate(target.template, target.dataDir, migrationsList.map((m) => m.name));
    const { MikroORM: PgliteOrm } = await import('@mikro-orm/pglite');
    const { PGlite } = await import('@electric-sql/pglite');
    const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${target.sharedBuffers ?? EMBEDDED_SHARED_BUFFERS}`];
    // a function, because the ORM deep-copies option objects and a copied Blob loses its contents
    const driverOptions = () => ({ startParams, ...(loadDataDir ? { loadDataDir } : {}) });
    return (await PgliteOrm.init({ ...ormOptions(overrides), dbName: target.dataDir, driverOptions })) as unknown as MikroORM;
  }
  const { MikroORM: PgOrm } = await import('@mikro-orm/postgresql');
  return (await PgOrm.init({ ...ormOptions(overrides), clientUrl: target.url })) as unknown as MikroORM;
}

/** The ORM on `target` with every migration applied. */
export async function openMigrated(target: DatabaseTarget): Promise<MikroORM> {
  const orm = await openOrm(target);
  try {
    await migrate(orm, target);
    return orm;
  } catch (error) {
    await orm.close(true);
    throw error;
  }
}

/**
 * A dump (PGlite's dumpDataDir, an uncompressed tar) of an in-memory embedded database with every migration applied:
 * what the build's template (src/scripts/embedded-template.ts) and the tests' databases start as.
 */
export async function migratedDump(): Promise<Blob> {
  const orm = await openMigrated({ kind: 'pglite', dataDir: 'memory://' });
  try {
    const pglite = (await orm.em.getConnection().getNativeClient()) as { dumpDataDir(compression: 'none'): Promise<Blob> };
    return await pglite.dumpDataDir('none');
  } finally {
    await orm.close(true);
  }
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
