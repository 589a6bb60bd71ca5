import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { migratedDump, openMigrated, type DatabaseTarget } from '../../src/db/orm.js';

export interface TestDatabase {
  target: DatabaseTarget;
  /** drops the database (PostgreSQL); nothing to do for the in-memory engine */
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file (or one server): in-memory PGlite by default, or a new database on the
 * PostgreSQL server named by TEST_DATABASE_URL (created here, dropped afterwards). It starts with every migration
 * applied, copied from a schema migrated once per run (a template database, a dump of PGlite's data directory), or
 * `empty`.
 */
export async function createTestDatabase(schema: 'migrated' | 'empty' = 'migrated'): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    const loadDataDir = schema === 'migrated' ? await migratedSnapshot() : undefined;
    return { target: { kind: 'pglite', dataDir: 'memory://', ...(loadDataDir ? { loadDataDir } : {}) }, drop: async () => {} };
  }
  const template = schema === 'migrated' ? ` template "${await migratedTemplate(serverUrl)}"` : '';
  const name = `berth_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, `create database "${name}"${template}`);
  return {
    target: { kind: 'postgres', url: databaseUrl(serverUrl, name) },
    drop: () => adminQuery(serverUrl, `drop database if exists "${name}" with (force)`),
  };
}

export const engineName = () => (process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite');

/** Set by test/support/global-setup.ts for the whole run. */
function fromRun(variable: 'BERTH_TEST_RUN_DIR' | 'BERTH_TEST_TEMPLATE_DATABASE'): string {
  const value = process.env[variable];
  if (!value) throw new Error(`${variable} is unset: run the tests with jest, whose globalSetup (test/support/global-setup.ts) sets it`);
  return value;
}

let snapshot: Promise<Blob> | undefined;

/**
 * The run's migrated embedded database, as a dump of its data directory in the run's folder. Workers that find none
 * each build one and rename it into place: the same bytes, whichever lands last.
 */
function migratedSnapshot(): Promise<Blob> {
  snapshot ??= (async () => {
    const file = join(fromRun('BERTH_TEST_RUN_DIR'), 'migrated.tar');
    if (!existsSync(file)) {
      const partial = `${file}.${process.pid}`;
      writeFileSync(partial, Buffer.from(await (await migratedDump()).arrayBuffer()));
      renameSync(partial, file);
    }
    return new Blob([readFileSync(file)]);
  })();
  return snapshot;
}

let template: Promise<string> | undefined;

/** The run's migrated PostgreSQL database, created by the first worker to need it while the others wait on a lock. */
function migratedTemplate(serverUrl: string): Promise<string> {
  template ??= (async () => {
    const name = fromRun('BERTH_TEST_TEMPLATE_DATABASE');
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query('select pg_advisory_lock(hashtext($1))', [name]);
      const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
      if (!rowCount) {
        await client.query(`create database "${name}"`);
        // closed before the lock is released: a database is copied only while nobody is connected to it
        await (await openMigrated({ kind: 'postgres', url: databaseUrl(serverUrl, name) })).close(true);
      }
    } finally {
      await client.end(); // ends the session, and with it the lock
    }
    return name;
  })();
  return template;
}

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
