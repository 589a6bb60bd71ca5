import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlEntityManager } from '@mikro-orm/sql';
import pg from 'pg';
import { openOrm, type DatabaseTarget } from '../src/db/orm.js';
import { startBerth } from '../src/server/app.js';
import { databaseDigest } from './support/assertions.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { recordingLogger } from './support/logger.js';
import { testConfig } from './support/server.js';
import { waitFor } from './support/subscriptions.js';

let db: TestDatabase;
let target: DatabaseTarget;
let folder: string | undefined;
let blocker: net.Server | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  target = db.target;
  if (target.kind === 'pglite') {
    // a folder, so that what a failed start left can be read afterwards
    folder = mkdtempSync(join(tmpdir(), 'berth-lifecycle-'));
    target = { ...target, dataDir: folder };
  }
});
afterAll(async () => {
  await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
  await db?.drop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** The whole database, row by row, read with an ORM of its own that is closed afterwards. */
async function digest(): Promise<Record<string, string>> {
  const orm = await openOrm(target, { logger: () => {} });
  try {
    const em = orm.em as SqlEntityManager;
    return await databaseDigest({ sql: (query, params = []) => em.getConnection().execute(query, params) });
  } finally {
    await orm.close(true);
  }
}

/** Sessions on the test database other than this query's own (PostgreSQL). */
async function sessions(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
    return rows[0].n as number;
  } finally {
    await client.end();
  }
}

test('a start that fails after the database opened (its port taken) closes what it started, newest first, and changes nothing', async () => {
  // a first life: migrated, keys kept, the first admin made
  await (await startBerth(testConfig(), { database: target, print: () => {}, ormOverrides: { logger: () => {} } })).stop();
  const before = await digest();

  blocker = net.createServer();
  await new Promise<void>((resolve) => blocker!.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  const logger = recordingLogger();
  await expect(
    startBerth(testConfig({ PORT: String(port), LOG_LEVEL: 'debug', K8S_WATCH: 'true', CHART_DISCOVERY: 'true' }), { database: target, logger, print: () => {}, ormOverrides: { logger: () => {} } }),
  ).rejects.toThrow(/PORT, HOST: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/);

  expect(logger.lines.filter((l) => / closed$| close(d)? in time| failed to close/.test(l.msg)).map((l) => l.msg)).toEqual([
    'HTTP and WebSockets closed',
    'chart discovery closed',
    'cluster watch closed',
    'login throttling closed',
    'event hub closed',
    'event bus closed',
    'database closed',
  ]);
  if (target.kind === 'postgres') {
    const url = target.url;
    // the pool and the bus's listening connection are gone (the server notes a session's end just after it)
    await waitFor(async () => (await sessions(url)) === 0, 'no session left on the database');
  }
  expect(await digest()).toEqual(before);
});
