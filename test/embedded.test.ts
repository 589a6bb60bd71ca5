import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { copyTemplate, manifestFor, writeTemplate } from '../src/db/embedded-template.js';
import { migrationsList } from '../src/db/migrations/index.js';
import { openOrm, type DatabaseTarget } from '../src/db/orm.js';
import { startBerth, type Berth } from '../src/server/app.js';
import type { Logger } from '../src/logging/logger.js';
import { recordingLogger } from './support/logger.js';
import { postGraphQL, startTestServer, testConfig, ADMIN_PASSWORD, type TestServer } from './support/server.js';

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

/** A server on the embedded engine in `dataDir`, or on `target` (each test has its own folder, so each stands alone). */
async function startOn(dataDir: string | DatabaseTarget, env: Record<string, string> = {}, logger?: Logger): Promise<TestServer> {
  const database: DatabaseTarget = typeof dataDir === 'string' ? { kind: 'pglite', dataDir } : dataDir;
  const server = await startTestServer(env, { database, ...(logger ? { logger } : {}), ...quietOrm });
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

describe('a new folder starts as the template', () => {
  const names = migrationsList.map((m) => m.name);

  /** A template holding every migration but the newest, written as the build writes one (from an in-memory database). */
  async function olderTemplate(): Promise<string> {
    const memory = await openOrm({ kind: 'pglite', dataDir: 'memory://' });
    let dump: Blob;
    try {
      await memory.migrator.up({ to: names.at(-2) });
      dump = await ((await memory.em.getConnection().getNativeClient()) as { dumpDataDir(c: 'none'): Promise<Blob> }).dumpDataDir('none');
    } finally {
      await memory.close(true);
    }
    const template = join(tempFolder(), 'template');
    await writeTemplate(template, manifestFor(names.slice(0, -1)), async (dataDir) => {
      const orm = await openOrm({ kind: 'pglite', dataDir, loadDataDir: dump });
      // PGlite opens, and writes the dump out, at the first statement
      await orm.em.getConnection().execute('select 1');
      await orm.close(true);
    });
    return template;
  }

  test('only the migrations newer than the template run, then the first admin is created; the next start runs none', async () => {
    const template = await olderTemplate();
    const dataDir = join(tempFolder(), 'data');
    const logger = recordingLogger();
    let server = await startOn({ kind: 'pglite', dataDir, template }, {}, logger);
    expect(logger.lines.filter((l) => l.msg === 'applied migrations').map((l) => l.fields)).toEqual([{ applied: names.slice(-1) }]);
    expect(logger.lines.map((l) => l.msg)).toContain('created the first admin user');
    expect((await server.sql<{ name: string }>('select name from mikro_orm_migrations order by id')).map((r) => r.name)).toEqual(names);
    expect((await server.gql<any, any>(LOGIN, { p: ADMIN_PASSWORD })).data?.login.user.id).toEqual(expect.any(String));
    await server.stop();
    // the template is copied, not used in place: it still holds what it held
    expect(JSON.parse(readFileSync(join(template, 'manifest.json'), 'utf8')).migrations).toEqual(names.slice(0, -1));

    const again = recordingLogger();
    server = await startOn({ kind: 'pglite', dataDir, template }, {}, again);
    expect(again.lines.filter((l) => /migration|admin/i.test(l.msg))).toEqual([]);
    await server.stop();
  });

  test('a template that does not fit is not copied: another PGlite made it, or it holds a migration this code does not know', async () => {
    const template = await olderTemplate();
    const manifest = JSON.parse(readFileSync(join(template, 'manifest.json'), 'utf8')) as { pglite: string; migrations: string[] };
    const variant = (name: string, change: object) => {
      const copy = join(tempFolder(), name);
      cpSync(template, copy, { recursive: true });
      writeFileSync(join(copy, 'manifest.json'), JSON.stringify({ ...manifest, ...change }));
      return copy;
    };
    const misfits = [variant('other-pglite', { pglite: '0.0.1' }), variant('unknown-migration', { migrations: [...manifest.migrations, 'Migration29991231000000_FromAnotherBranch'] })];
    for (const misfit of misfits) {
      const dataDir = tempFolder();
      expect(copyTemplate(misfit, dataDir, names)).toBe(false);
      expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(false);
    }
    const dataDir = tempFolder();
    expect(copyTemplate(template, dataDir, names)).toBe(true);
    expect(readFileSync(join(dataDir, 'PG_VERSION'), 'utf8')).toBe(readFileSync(join(template, 'data', 'PG_VERSION'), 'utf8'));

    // a start on a folder the misfit was not copied into makes the database from scratch: every migration runs
    const logger = recordingLogger();
    const server = await startOn({ kind: 'pglite', dataDir: join(tempFolder(), 'data'), template: misfits[1] }, {}, logger);
    expect(logger.lines.filter((l) => l.msg === 'applied migrations').map((l) => l.fields)).toEqual([{ applied: names }]);
    await server.stop();
  });
});

describe('the engine\'s settings', () => {
  test('BERTH_EMBEDDED_SHARED_BUFFERS is the engine\'s shared_buffers; 16MB when unset', async () => {
    // the database chosen by the configuration, as npm start chooses it
    const berth = await startBerth(testConfig({ BERTH_DATA_DIR: 'memory://', BERTH_EMBEDDED_SHARED_BUFFERS: '24MB' }), { print: () => {}, ...quietOrm });
    try {
      expect(await sql(berth, 'show shared_buffers')).toEqual([{ shared_buffers: '24MB' }]);
    } finally {
      await berth.stop();
    }
    const unset = await startBerth(testConfig({ BERTH_DATA_DIR: 'memory://' }), { print: () => {}, ...quietOrm });
    try {
      expect(await sql(unset, 'show shared_buffers')).toEqual([{ shared_buffers: '16MB' }]);
    } finally {
      await unset.stop();
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
    // the embedded engine: shared_buffers as src/db/orm.ts says (16MB), its WebAssembly not optimized
    expect(config.BERTH_EMBEDDED_SHARED_BUFFERS).toBeUndefined();
    expect(config.BERTH_EMBEDDED_OPTIMIZE_WASM).toBe(false);
    expect(loadConfig({ BERTH_EMBEDDED_SHARED_BUFFERS: '128kB', BERTH_EMBEDDED_OPTIMIZE_WASM: 'yes' })).toMatchObject({ BERTH_EMBEDDED_SHARED_BUFFERS: '128kB', BERTH_EMBEDDED_OPTIMIZE_WASM: true });
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
    ['BERTH_EMBEDDED_SHARED_BUFFERS', '16mb'],
    ['BERTH_EMBEDDED_SHARED_BUFFERS', '64kB'],
    ['BERTH_EMBEDDED_SHARED_BUFFERS', '2GB'],
    ['BERTH_EMBEDDED_OPTIMIZE_WASM', 'maybe'],
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
    expect(configError({ BERTH_EMBEDDED_SHARED_BUFFERS: '16 MB' })).toMatch(/BERTH_EMBEDDED_SHARED_BUFFERS: must be a size in kB, MB or GB, such as 16MB$/);
    expect(configError({ BERTH_EMBEDDED_SHARED_BUFFERS: '4096GB' })).toMatch(/BERTH_EMBEDDED_SHARED_BUFFERS: must be from 128kB to 1GB$/);
  });

  test('several bad variables are all named in one error', () => {
    const message = configError({ PORT: 'abc', DATABASE_URL: 'mysql://x', BERTH_JWT_SECRET: 'short', HOST: 'localhost' });
    const problems = message.split('\n').slice(1);
    expect(problems.map((l) => l.trim().split(':')[0]).sort()).toEqual(['BERTH_JWT_SECRET', 'DATABASE_URL', 'PORT']);
  });
});
