import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import type { DatabaseTarget } from '../src/db/orm.js';
import { startBerth, type Berth } from '../src/server/app.js';
import type { Logger } from '../src/logging/logger.js';
import { recordingLogger } from './support/logger.js';
import { postGraphQL, startTestServer, ADMIN_PASSWORD, type TestServer } from './support/server.js';

const folders: string[] = [];
function tempFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-embedded-test-'));
  folders.push(dir);
  return dir;
}

/** servers still running when a test fails midway, stopped after the file */
const running = new Set<TestServer>();
afterAll(async () => {
  await Promise.all([...running].map((server) => server.stop()));
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/** A server on the embedded engine in `dataDir` (each test has its own folder, so each stands alone). */
async function startOn(dataDir: string, env: Record<string, string> = {}, logger?: Logger): Promise<TestServer> {
  const server = await startTestServer(env, { database: { kind: 'pglite', dataDir }, ...(logger ? { logger } : {}), ...quietOrm });
  running.add(server);
  const stop = server.stop;
  server.stop = async () => {
    running.delete(server);
    await stop();
  };
  return server;
}

/** the ORM's own "[migrator] …" console lines are silenced; the recording logger shows what was applied */
const quietOrm = { ormOverrides: { logger: () => {} } };

const gql = <T = any>(berth: Berth, query: string, variables?: object, headers?: Record<string, string>) => postGraphQL<T>(berth.url, query, variables, headers);

const LOGIN = `mutation($p: String!) { login(usernameOrEmail: "admin", password: $p) { accessToken refreshToken user { id } } }`;
const ME = `{ me { ... on User { id username isAdmin } } }`;

async function sql<T = Record<string, unknown>>(berth: Berth, query: string): Promise<T[]> {
  return berth.orm.em.getConnection().execute(query) as Promise<T[]>;
}

describe('the embedded engine keeps its data on disk', () => {
  test('after a restart on the same folder: the same admin, no new admin, no migration re-applied, tokens still valid', async () => {
    // first life, on an empty folder: it migrated and created the admin
    const dataDir = tempFolder();
    const firstLog = recordingLogger();
    let server = await startOn(dataDir, {}, firstLog);
    expect(firstLog.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['applied migrations', 'created the first admin user']));
    const login = await server.gql<any, any>(LOGIN, { p: ADMIN_PASSWORD });
    expect(login.errors).toBeUndefined();
    const { accessToken, refreshToken, user } = login.data.login;
    const me = await server.gql<any, any>(ME, undefined, { authorization: `Bearer ${accessToken}` });
    expect(me.data.me).toEqual({ id: user.id, username: 'admin', isAdmin: true });
    const admins = await server.sql<{ id: string }>(`select id from users where is_admin`);
    expect(admins).toEqual([{ id: user.id }]);
    const migrations = await server.sql<{ name: string }>(`select name from mikro_orm_migrations order by id`);
    expect(migrations.length).toBeGreaterThanOrEqual(1);
    const [secret] = await server.sql<{ value: string }>(`select value from settings where key = 'jwt_secret'`);
    expect(secret.value.length).toBeGreaterThanOrEqual(32);
    await server.stop();
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);

    // second life on the same folder
    const logger = recordingLogger();
    server = await startOn(dataDir, {}, logger);
    expect(logger.lines.filter((l) => /migration/i.test(l.msg))).toEqual([]);
    expect(logger.lines.filter((l) => /admin/i.test(l.msg))).toEqual([]);
    expect(await server.sql<{ name: string }>(`select name from mikro_orm_migrations order by id`)).toEqual(migrations);
    expect(await server.sql<{ id: string }>(`select id from users where is_admin`)).toEqual([{ id: user.id }]);
    expect(Number((await server.sql<{ n: number | string }>(`select count(*) as n from users`))[0].n)).toBe(1);
    // the generated signing key was kept, so an access token from before the restart still works
    expect(await server.sql<{ value: string }>(`select value from settings where key = 'jwt_secret'`)).toEqual([secret]);
    const meAgain = await server.gql<any, any>(ME, undefined, { authorization: `Bearer ${accessToken}` });
    expect(meAgain.data?.me).toEqual({ id: user.id, username: 'admin', isAdmin: true });
    // and so was the session behind the refresh token
    const refreshed = await server.gql<any, any>(`mutation($t: String!) { refreshToken(refreshToken: $t) { user { id } } }`, { t: refreshToken });
    expect(refreshed.data?.refreshToken.user.id).toBe(user.id);
    // the configured BERTH_ADMIN_PASSWORD is the admin's password
    const relogin = await server.gql<any, any>(LOGIN, { p: ADMIN_PASSWORD });
    expect(relogin.data?.login.user.id).toBe(user.id);
    const readyz = await fetch(new URL('/readyz', server.berth.url));
    expect(await readyz.json()).toMatchObject({ database: true });
    await server.stop();
  });

  test('a changed BERTH_ADMIN_PASSWORD does not overwrite the existing admin on the next start', async () => {
    const dataDir = tempFolder();
    let server = await startOn(dataDir);
    const [{ id }] = await server.sql<{ id: string }>(`select id from users where is_admin`);
    await server.stop();
    server = await startOn(dataDir, { BERTH_ADMIN_PASSWORD: 'a-different-password' });
    expect(await server.sql<{ id: string }>(`select id from users where is_admin`)).toEqual([{ id }]);
    expect((await server.gql<any, any>(LOGIN, { p: ADMIN_PASSWORD })).data?.login.user.id).toBe(id);
    expect((await server.gql<any, any>(LOGIN, { p: 'a-different-password' })).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    await server.stop();
  });

  test('without BERTH_ADMIN_PASSWORD a password is generated and printed once, on the first start only', async () => {
    const folder = tempFolder();
    const target: DatabaseTarget = { kind: 'pglite', dataDir: folder };
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
    expect(config.BERTH_ADMIN_PASSWORD).toBeUndefined();

    const printed: string[] = [];
    let berth = await startBerth(config, { database: target, print: (line) => printed.push(line), ...quietOrm });
    let adminId: string;
    let password: string;
    try {
      expect(printed).toHaveLength(1);
      const match = /password "([^"]+)"/.exec(printed[0]);
      expect(match).not.toBeNull();
      password = match![1];
      expect(password.length).toBeGreaterThanOrEqual(16);
      expect(printed[0]).toMatch(/admin/);
      const login = await gql(berth, LOGIN, { p: password });
      expect(login.errors).toBeUndefined();
      adminId = login.data.login.user.id;
      // stored hashed, never as printed
      const [row] = await sql<{ password_hash: string }>(berth, `select password_hash from users where is_admin`);
      expect(row.password_hash).toMatch(/^\$argon2id\$/);
      expect(row.password_hash).not.toContain(password);
    } finally {
      await berth.stop();
    }

    berth = await startBerth(config, { database: target, print: (line) => printed.push(line), ...quietOrm });
    try {
      expect(printed).toHaveLength(1);
      const login = await gql(berth, LOGIN, { p: password });
      expect(login.data?.login.user.id).toBe(adminId);
      expect(await sql(berth, `select id from users where is_admin`)).toEqual([{ id: adminId }]);
    } finally {
      await berth.stop();
    }
  });
});

describe('loadConfig', () => {
  /** the error loadConfig throws for env, as text */
  function configError(env: Record<string, string>): string {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(Error);
      return (err as Error).message;
    }
    throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
  }

  test('defaults: port 4000, the embedded engine in ./.berth-data, introspection and IDE on', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 4000, BERTH_DATA_DIR: './.berth-data', GRAPHQL_INTROSPECTION: true, GRAPHQL_IDE: true });
    expect(config.DATABASE_URL).toBeUndefined();
    // empty values count as unset
    expect(loadConfig({ PORT: '', DATABASE_URL: '' }).PORT).toBe(4000);
    expect(loadConfig({ PORT: '8080', DATABASE_URL: 'postgresql://u@h/db', GRAPHQL_INTROSPECTION: 'no' })).toMatchObject({
      PORT: 8080,
      DATABASE_URL: 'postgresql://u@h/db',
      GRAPHQL_INTROSPECTION: false,
    });
  });

  test.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['DATABASE_URL', 'mysql://x'],
    ['BERTH_JWT_SECRET', 'too-short-secret'],
    ['BERTH_ENCRYPTION_KEYS', 'k1:not-32-bytes'],
    ['BERTH_ADMIN_PASSWORD', 'short'],
    ['BERTH_ADMIN_EMAIL', 'not an email'],
    ['GRAPHQL_INTROSPECTION', 'maybe'],
    ['LOG_LEVEL', 'verbose'],
    ['DATABASE_POOL_MAX', '0'],
  ])('%s=%s is rejected with one readable error naming the variable', (name, value) => {
    const message = configError({ [name]: value });
    expect(message).toMatch(/^Invalid configuration/);
    expect(message).toContain(name);
    // exactly one problem line, for that variable
    const problems = message.split('\n').slice(1);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^\\s*${name}: \\S`));
    // secrets are never echoed back
    if (/SECRET|PASSWORD|URL/.test(name)) expect(message).not.toContain(value);
  });

  test('the reasons are specific', () => {
    expect(configError({ DATABASE_URL: 'mysql://x' })).toMatch(/DATABASE_URL: .*postgres/);
    expect(configError({ BERTH_JWT_SECRET: 'short' })).toMatch(/BERTH_JWT_SECRET: .*32/);
  });

  test('several bad variables are all named in one error', () => {
    const message = configError({ PORT: 'abc', DATABASE_URL: 'mysql://x', BERTH_JWT_SECRET: 'short', HOST: 'localhost' });
    const problems = message.split('\n').slice(1);
    expect(problems.map((l) => l.trim().split(':')[0]).sort()).toEqual(['BERTH_JWT_SECRET', 'DATABASE_URL', 'PORT']);
  });
});
