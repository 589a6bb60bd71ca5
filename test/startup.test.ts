import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { migrationsList } from '../src/db/migrations/index.js';
import { openOrm } from '../src/db/orm.js';
import { spawnBerth, jsonLines, type BerthProcess } from './support/berth-process.js';
import { ensureBuilt } from './support/build.js';
import { createTestDatabase, engineName, type TestDatabase } from './support/database.js';
import { TcpProxy } from './support/tcp-proxy.js';

/*
 * What an operator sees when Berth cannot start: one line per problem naming the variable, no stack trace, exit 1;
 * and a database that comes up after Berth is waited for.
 */

const processes: BerthProcess[] = [];
const start = (env: Record<string, string>) => {
  const berth = spawnBerth({ LOG_LEVEL: 'info', GRAPHQL_IDE: 'false', K8S_WATCH: 'false', CHART_DISCOVERY: 'false', ...env });
  processes.push(berth);
  return berth;
};

const folder = mkdtempSync(join(tmpdir(), 'berth-startup-test-'));

beforeAll(() => ensureBuilt(), 120_000);
afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill()));
  rmSync(folder, { recursive: true, force: true });
});

/** Lines that look like a stack trace or an uncaught exception's dump. */
const crashLines = (lines: string[]) => lines.filter((l) => /^\s+at |triggerUncaughtException|node:internal|^\s*\^\s*$|errno:/.test(l));

test('bad variables: one line per problem, naming each variable, no stack, exit 1; values are not echoed', async () => {
  const berth = start({ PORT: 'abc', DATABASE_URL: 'mysql://user:hunter2@db/x', BERTH_JWT_SECRET: 'short', BERTH_EMBEDDED_SHARED_BUFFERS: '16', BERTH_EMBEDDED_OPTIMIZE_WASM: 'maybe' });
  expect(await berth.exited).toEqual({ code: 1, signal: null });
  expect(berth.stderr.lines[0]).toBe('berth: Invalid configuration:');
  expect(berth.stderr.lines.slice(1).sort()).toEqual([
    '  BERTH_EMBEDDED_OPTIMIZE_WASM: Invalid option: expected one of "0"|"1"|"true"|"false"|"yes"|"no"',
    '  BERTH_EMBEDDED_SHARED_BUFFERS: must be a size in kB, MB or GB, such as 16MB',
    '  BERTH_JWT_SECRET: must be at least 32 characters',
    '  DATABASE_URL: must be a postgres:// URL',
    '  PORT: must be a number',
  ]);
  expect(crashLines([...berth.stderr.lines, ...berth.stdout.lines])).toEqual([]);
  expect(berth.stderr.lines.join('\n')).not.toContain('hunter2');
}, 60_000);

test('an unreachable DATABASE_URL is retried for DATABASE_CONNECT_TIMEOUT_SECONDS, then named without its password', async () => {
  const proxy = await TcpProxy.reserve({ host: '127.0.0.1', port: 5432 });
  const berth = start({ DATABASE_URL: `postgres://berth:hunter2@127.0.0.1:${proxy.port}/berth`, DATABASE_CONNECT_TIMEOUT_SECONDS: '1' });
  expect(await berth.exited).toEqual({ code: 1, signal: null });
  expect(berth.stderr.lines).toEqual([
    'berth: Cannot start:',
    expect.stringMatching(
      new RegExp(`^  DATABASE_URL \\(postgres://berth:\\*\\*\\*@127\\.0\\.0\\.1:${proxy.port}/berth\\) cannot be reached: connection refused \\(ECONNREFUSED\\); tried (once|\\d+ times) within DATABASE_CONNECT_TIMEOUT_SECONDS \\(1 s\\)$`),
    ),
  ]);
  // each retry is a warning naming the database without its password
  expect(jsonLines(berth.stdout.lines).filter((l) => l.level !== 'warn' || JSON.stringify(l).includes('hunter2'))).toEqual([]);
  expect(crashLines(berth.stderr.lines)).toEqual([]);
}, 60_000);

describe('a first start on the embedded engine', () => {
  /** A server on a new data folder, as npm start runs it (background work on), and its JSON log lines once it serves. */
  async function firstStart(env: Record<string, string> = {}) {
    const dataDir = mkdtempSync(join(folder, 'data-'));
    const berth = start({ BERTH_DATA_DIR: dataDir, K8S_WATCH: 'true', CHART_DISCOVERY: 'true', ...env });
    const serving = await berth.stdout.line((l) => l.startsWith('Berth is serving GraphQL on '), berth.exited);
    const readyz = await fetch(new URL('/readyz', serving.split(' ')[5]));
    expect(readyz.status).toBe(200);
    return { berth, dataDir, log: () => jsonLines(berth.stdout.lines) };
  }

  test("starts as the build's template: no migration runs, every one is recorded, and the first admin is created", async () => {
    const { berth, dataDir, log } = await firstStart();
    expect(log().map((l) => l.msg)).toContain('created the first admin user');
    expect(log().filter((l) => /migration/.test(l.msg))).toEqual([]);
    berth.child.kill('SIGTERM');
    expect(await berth.exited).toEqual({ code: 0, signal: null });
    const orm = await openOrm({ kind: 'pglite', dataDir });
    try {
      const rows = (await orm.em.getConnection().execute('select name from mikro_orm_migrations order by id')) as { name: string }[];
      expect(rows.map((r) => r.name)).toEqual(migrationsList.map((m) => m.name));
    } finally {
      await orm.close(true);
    }
  }, 60_000);

  test('loads neither the Kubernetes client nor the Redis client when no cluster and no Redis is configured', async () => {
    // every package module the process loads, named on stderr by a module hook given to node
    const hooks = join(folder, 'log-loads.mjs');
    writeFileSync(
      hooks,
      `import { registerHooks } from 'node:module';
registerHooks({ load(url, context, next) { if (url.includes('/node_modules/')) process.stderr.write('loaded ' + url + '\\n'); return next(url, context); } });`,
    );
    const { berth } = await firstStart({ NODE_OPTIONS: `--import=${pathToFileURL(hooks).href}` });
    // a request, and a moment of the background work's rounds
    expect((await fetch(new URL('/healthz', berth.stdout.lines.find((l) => l.startsWith('Berth is serving'))!.split(' ')[5]))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const packages = new Set(berth.stderr.lines.flatMap((l) => /^loaded .*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(l)?.[1] ?? []));
    // the hook sees what is loaded: the embedded engine is
    expect(packages).toContain('@electric-sql/pglite');
    for (const unused of ['@kubernetes/client-node', 'redis', '@redis/client']) expect(packages).not.toContain(unused);
  }, 60_000);
});

(engineName() === 'postgres' ? describe : describe.skip)('on PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('empty');
  });
  afterAll(() => db.drop());

  test('a database that comes up after Berth: the first connection is retried with backoff, then Berth serves', async () => {
    const url = new URL(db.target.kind === 'postgres' ? db.target.url : '');
    const proxy = await TcpProxy.reserve({ host: url.hostname, port: Number(url.port || 5432) });
    url.host = `127.0.0.1:${proxy.port}`;
    const berth = start({ DATABASE_URL: url.toString(), DATABASE_CONNECT_TIMEOUT_SECONDS: '120' });
    try {
      // Berth has tried and is waiting: only now does the database appear
      await berth.stdout.line((l) => l.includes('the database cannot be reached yet; retrying'), berth.exited);
      await proxy.open();
      const serving = await berth.stdout.line((l) => l.startsWith('Berth is serving GraphQL on '), berth.exited);
      const readyz = await fetch(new URL('/readyz', serving.split(' ')[5]));
      expect(readyz.status).toBe(200);
    } finally {
      await berth.kill();
      await proxy.cut();
    }
  }, 120_000);
});
