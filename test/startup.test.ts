import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
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

beforeAll(() => ensureBuilt(), 120_000);
afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill()));
});

/** Lines that look like a stack trace or an uncaught exception's dump. */
const crashLines = (lines: string[]) => lines.filter((l) => /^\s+at |triggerUncaughtException|node:internal|^\s*\^\s*$|errno:/.test(l));

test('bad variables: one line per problem, naming each variable, no stack, exit 1; values are not echoed', async () => {
  const berth = start({ PORT: 'abc', DATABASE_URL: 'mysql://user:hunter2@db/x', BERTH_JWT_SECRET: 'short' });
  expect(await berth.exited).toEqual({ code: 1, signal: null });
  expect(berth.stderr.lines[0]).toBe('berth: Invalid configuration:');
  expect(berth.stderr.lines.slice(1).sort()).toEqual([
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
