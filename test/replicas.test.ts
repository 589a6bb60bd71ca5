import { loadConfig } from '../src/config/config.js';
import { migrationsList } from '../src/db/migrations/index.js';
import { startBerth, type Berth } from '../src/server/app.js';
import { createTestDatabase, engineName, type TestDatabase } from './support/database.js';
import { postGraphQL } from './support/server.js';
import { waitFor } from './support/subscriptions.js';

// Several replicas over one database: only a real PostgreSQL is shared between processes
// (the embedded engine serves the one process that opened it).
const onPostgres = engineName() === 'postgres' ? describe : describe.skip;

onPostgres('replicas over one PostgreSQL', () => {
  let db: TestDatabase;
  const replicas: Berth[] = [];
  const printed: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('empty');
    // started together on an empty database: migrations, the JWT key and the first admin all race
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
    replicas.push(
      ...(await Promise.all([1, 2, 3].map(() => startBerth(config, { database: db.target, print: (line) => printed.push(line) })))),
    );
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await db?.drop();
  });

  test('they start together: migrations applied once, one JWT key, one encryption key, one admin, its password printed once', async () => {
    const [one] = replicas;
    const conn = (one.orm.em as any).getConnection();
    expect(await conn.execute('select count(*)::int as n from mikro_orm_migrations')).toEqual([{ n: migrationsList.length }]);
    expect(await conn.execute(`select count(*)::int as n from settings where key = 'jwt_secret'`)).toEqual([{ n: 1 }]);
    expect(await conn.execute(`select count(*)::int as n from settings where key = 'encryption_keys'`)).toEqual([{ n: 1 }]);
    expect(await conn.execute('select count(*)::int as n from users where is_admin')).toEqual([{ n: 1 }]);
    expect(printed).toHaveLength(1);
  });

  test('a login on one replica is honoured by the others, and logout on one ends it everywhere', async () => {
    const password = /password "([^"]+)"/.exec(printed[0])![1];
    const post = (replica: Berth, query: string, headers?: Record<string, string>) => postGraphQL<any>(replica.url, query, undefined, headers);
    const login = await post(replicas[0], `mutation { login(usernameOrEmail: "admin", password: "${password}") { accessToken refreshToken } }`);
    const auth = { authorization: `Bearer ${login.data.login.accessToken}` };
    for (const replica of replicas) expect((await post(replica, '{ me { ... on User { username } } }', auth)).data).toEqual({ me: { username: 'admin' } });

    const refreshed = await post(replicas[1], `mutation { refreshToken(refreshToken: "${login.data.login.refreshToken}") { accessToken } }`);
    expect(refreshed.errors).toBeUndefined();

    expect((await post(replicas[2], 'mutation { logout }', auth)).data).toEqual({ logout: true });
    // other replicas may trust their cached check for AUTH_CACHE_SECONDS (2 s by default), then ask the database
    for (const replica of replicas) {
      await waitFor(async () => (await post(replica, '{ me { ... on User { username } } }', auth)).errors?.[0]?.extensions?.code === 'UNAUTHENTICATED', 'the logout to apply');
    }
  });
});
