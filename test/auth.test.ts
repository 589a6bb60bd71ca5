import { LoginDocument, LogoutDocument, MeDocument, RefreshTokenDocument, ServerInfoDocument } from './generated/graphql.js';
import { startTestServer, ADMIN_PASSWORD, type TestServer } from './support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const login = (usernameOrEmail: string, password: string) => server.gql(LoginDocument, { usernameOrEmail, password });
const me = (headers?: Record<string, string>) => server.gql(MeDocument, {}, headers);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('login, tokens and identity', () => {
  test('the bootstrap admin logs in by username or by email in any case, and me returns it', async () => {
    for (const u of ['admin', 'ADMIN@example.com']) {
      const res = await login(u, ADMIN_PASSWORD);
      expect(res.errors).toBeUndefined();
      expect(res.data!.login.user).toMatchObject({ username: 'admin', isAdmin: true });
      const expiresIn = new Date(res.data!.login.expiresAt).getTime() - Date.now();
      expect(expiresIn).toBeGreaterThan(3500_000);
      expect(expiresIn).toBeLessThanOrEqual(3600_000);
      const caller = await me(bearer(res.data!.login.accessToken));
      expect(caller.data).toEqual({ me: { __typename: 'User', username: 'admin' } });
    }
  });

  test('a wrong password, an unknown user and an empty login are refused with clear codes', async () => {
    const wrong = await login('admin', 'nope');
    expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const unknown = await login('ghost', 'nope');
    expect(unknown.errors?.[0]).toMatchObject({ message: wrong.errors?.[0]?.message, extensions: { code: 'UNAUTHENTICATED' } });
    const empty = await login(' ', 'x');
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'usernameOrEmail' });
  });

  test('without a valid identity every field but login, refreshToken and serverInfo answers UNAUTHENTICATED', async () => {
    const open = await server.gql(ServerInfoDocument, {});
    expect(open.data!.serverInfo.version).toMatch(/^\d+\.\d+\.\d+/);
    for (const query of [MeDocument, '{ users { totalCount } }', '{ deployments { edges { node { id } } } }', '{ env(id: "00000000-0000-0000-0000-000000000000") { id } }']) {
      const res = await server.gql(query, {});
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    }
    const garbage = await me({ authorization: 'Bearer not.a.jwt' });
    expect(garbage.errors?.[0]).toMatchObject({ message: 'Invalid access token', extensions: { code: 'UNAUTHENTICATED' } });
    const badToken = await me({ 'x-platz-token': 'nonsense' });
    expect(badToken.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  test('refresh rotates the token; reusing the old one revokes the session; logout ends access tokens', async () => {
    const refresh = (refreshToken: string) => server.gql(RefreshTokenDocument, { refreshToken });
    const first = (await login('admin', ADMIN_PASSWORD)).data!.login;
    const second = (await refresh(first.refreshToken)).data!.refreshToken;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect((await me(bearer(second.accessToken))).data?.me).toEqual({ __typename: 'User', username: 'admin' });

    const reuse = await refresh(first.refreshToken);
    expect(reuse.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const afterTheft = await refresh(second.refreshToken);
    expect(afterTheft.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const revoked = await me(bearer(second.accessToken));
    expect(revoked.errors?.[0]).toMatchObject({ message: 'Session has ended', extensions: { code: 'UNAUTHENTICATED' } });

    const third = (await login('admin', ADMIN_PASSWORD)).data!.login;
    expect((await server.gql(LogoutDocument, {}, bearer(third.accessToken))).data).toEqual({ logout: true });
    expect((await me(bearer(third.accessToken))).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  test('an inactive user is refused even with a token it obtained before', async () => {
    const session = (await login('admin', ADMIN_PASSWORD)).data!.login;
    await server.sql(`update users set is_active = false where username = 'admin'`);
    try {
      const res = await me(bearer(session.accessToken));
      expect(res.errors?.[0]).toMatchObject({ message: 'User is inactive', extensions: { code: 'UNAUTHENTICATED' } });
      const relogin = await login('admin', ADMIN_PASSWORD);
      expect(relogin.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      await server.sql(`update users set is_active = true where username = 'admin'`);
    }
  });

  test('the password is stored as an argon2id hash', async () => {
    const [row] = await server.sql<{ password_hash: string }>(`select password_hash from users where username = 'admin'`);
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.password_hash).not.toContain(ADMIN_PASSWORD);
  });
});

describe('API tokens and deployment tokens', () => {
  const CALLER = `{ me { __typename ... on User { username } ... on Bot { displayName } ... on Deployment { name } } }`;

  async function insertToken(table: 'user_tokens' | 'bot_tokens', ownerColumn: 'user_id' | 'bot_id', ownerId: string, expiresAt: Date | null = null) {
    const { newOpaqueToken, hashSecret } = await import('../src/auth/opaque-token.js');
    const token = newOpaqueToken();
    await server.sql(`insert into ${table} (id, ${ownerColumn}, secret_hash, expires_at) values (?, ?, ?, ?)`, [token.id, ownerId, hashSecret(token.secret), expiresAt]);
    return token.token;
  }

  test('x-platz-token identifies a user or a bot, and wins over Authorization', async () => {
    const [admin] = await server.sql<{ id: string }>(`select id from users where username = 'admin'`);
    const userToken = await insertToken('user_tokens', 'user_id', admin.id);
    const [bot] = await server.sql<{ id: string }>(`insert into bots (id, display_name) values (gen_random_uuid(), 'deployer') returning id`);
    const botToken = await insertToken('bot_tokens', 'bot_id', bot.id);
    expect((await server.gql<any, unknown>(CALLER, undefined, { 'x-platz-token': userToken })).data).toEqual({ me: { __typename: 'User', username: 'admin' } });
    const both = await server.gql<any, unknown>(CALLER, undefined, { 'x-platz-token': botToken, authorization: 'Bearer garbage' });
    expect(both.data).toEqual({ me: { __typename: 'Bot', displayName: 'deployer' } });
  });

  test('an expired API token is refused', async () => {
    const [admin] = await server.sql<{ id: string }>(`select id from users where username = 'admin'`);
    const expired = await insertToken('user_tokens', 'user_id', admin.id, new Date(Date.now() - 1000));
    const res = await server.gql<any, unknown>(CALLER, undefined, { 'x-platz-token': expired });
    expect(res.errors?.[0]).toMatchObject({ message: 'API token expired', extensions: { code: 'UNAUTHENTICATED' } });
  });

  test("a deployment's JWT (Platz's {identity: {Deployment}} claim) identifies the deployment; an expired or foreign-signed one does not", async () => {
    const { SignJWT } = await import('jose');
    const { seedFleet } = await import('./support/fixtures.js');
    const fleet = await seedFleet(server.em, { deployments: 1, clusters: 1, kinds: 1, tasksPerDeployment: 0, prefix: 'auth' });
    const [{ value: secret }] = await server.sql<{ value: string }>(`select value from settings where key = 'jwt_secret'`);
    const sign = (key: string, exp: number) =>
      new SignJWT({ identity: { Deployment: fleet.deployments[0].id } })
        .setProtectedHeader({ alg: 'HS256' })
        .setNotBefore(Math.floor(Date.now() / 1000) - 60)
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(key));
    const now = Math.floor(Date.now() / 1000);
    const ok = await server.gql<any, unknown>(CALLER, undefined, bearer(await sign(secret, now + 600)));
    expect(ok.data).toEqual({ me: { __typename: 'Deployment', name: 'app-0' } });
    const expired = await server.gql<any, unknown>(CALLER, undefined, bearer(await sign(secret, now - 60)));
    expect(expired.errors?.[0]).toMatchObject({ message: 'Access token expired', extensions: { code: 'UNAUTHENTICATED' } });
    const forged = await server.gql<any, unknown>(CALLER, undefined, bearer(await sign('x'.repeat(40), now + 600)));
    expect(forged.errors?.[0]).toMatchObject({ message: 'Invalid access token', extensions: { code: 'UNAUTHENTICATED' } });
  });
});
