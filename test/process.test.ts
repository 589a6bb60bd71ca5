import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnBerth, jsonLines, type BerthProcess } from './support/berth-process.js';
import { ensureBuilt } from './support/build.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { ADMIN_PASSWORD, postGraphQL } from './support/server.js';
import { Feed } from './support/subscriptions.js';

/*
 * Berth as npm start runs it: the compiled dist/src/main.js in a process of its own, stopped by SIGTERM.
 * The build runs first, so the process runs the code under test, not an older dist/.
 */

let db: TestDatabase | undefined;
let dataDir: string | undefined;
let berth: BerthProcess | undefined;
let feed: Feed | undefined;

beforeAll(async () => {
  await ensureBuilt();
  // empty, as a first start finds it: the process migrates it (an embedded folder starts as the build's template)
  if (process.env.TEST_DATABASE_URL) db = await createTestDatabase('empty');
  else dataDir = mkdtempSync(join(tmpdir(), 'berth-process-test-'));
}, 120_000);

afterAll(async () => {
  await feed?.dispose();
  // only when a test failed before the process exited
  await berth?.kill();
  await db?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('SIGTERM: the process closes its WebSockets as going away (1001), logs the shutdown and exits with 0', async () => {
  const database = db ? { DATABASE_URL: db.target.kind === 'postgres' ? db.target.url : '' } : { DATABASE_URL: '', BERTH_DATA_DIR: dataDir! };
  berth = spawnBerth({ LOG_LEVEL: 'info', GRAPHQL_IDE: 'false', BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD, ...database });
  const { stdout, stderr, exited } = berth;

  // PORT=0: the port is the one it prints, once it listens (migrations and the first admin done by then)
  const serving = await stdout.line((l) => l.startsWith('Berth is serving GraphQL on '), exited);
  const [, url, wsUrl] = /^Berth is serving GraphQL on (\S+) \(WebSocket (\S+)\)$/.exec(serving)!;
  const readyz = await fetch(new URL('/readyz', url));
  expect(readyz.status).toBe(200);
  expect(await readyz.json()).toEqual({ status: 'ready', database: true });
  const startLog = jsonLines(stdout.lines).map((l) => l.msg);
  expect(startLog).toContain('created the first admin user');
  // the template holds every migration (test/startup.test.ts)
  if (db) expect(startLog).toContain('applied migrations');
  else expect(startLog).not.toContain('applied migrations');

  const login = await postGraphQL<{ login: { accessToken: string } }>(url, `mutation($p: String!) { login(usernameOrEmail: "admin", password: $p) { accessToken } }`, { p: ADMIN_PASSWORD });
  expect(login.errors).toBeUndefined();
  feed = new Feed(wsUrl, { authorization: `Bearer ${login.data!.login.accessToken}` }, `subscription { events(types: [ENV]) { operation cursor id } }`);
  await feed.live();

  berth.child.kill('SIGTERM');
  expect(await exited).toEqual({ code: 0, signal: null });
  await feed.until((f) => f.closed !== null, 'the socket to close');
  expect(feed.closed).toMatchObject({ code: 1001 });
  // graphql-ws hands the subscription that close as its error: nothing else went wrong
  expect(feed.errors.map((e) => (e as { code?: number }).code)).toEqual([1001]);

  // the signal is acknowledged on stdout (a plain line, not JSON) after start-up; nothing went to stderr but warnings
  const shutdownAt = stdout.lines.indexOf('SIGTERM: draining and shutting down');
  expect(shutdownAt).toBeGreaterThan(stdout.lines.indexOf(serving));
  expect(jsonLines(stderr.lines).filter((l) => l.level !== 'warn')).toEqual([]);
  expect(stderr.lines.filter((l) => !l.startsWith('{') && !/ExperimentalWarning|--trace-warnings/.test(l))).toEqual([]);
}, 120_000);
