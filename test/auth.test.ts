import { startTestServer, ADMIN_PASSWORD, type TestServer } from './support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const LOGIN = `mutation($u: String!, $p: String!) { login(usernameOrEmail: $u, password: $p) { accessToken refreshToken expiresAt user { username isAdmin } } }`;
const ME = `{ me { __typename ... on User { username } } }`;

describe('login, tokens and identity', () => {
  test('the bootstrap admin logs in by username or by email in any case, and me returns it', async () => {
    for (const u of ['admin', 'ADMIN@example.com']) {
      const res = await server.gql<any, any>(LOGIN, { u, p: ADMIN_PASSWORD });
      expect(res.errors).toBeUndefined();
      expect(res.data.login.user).toEqual({ username: 'admin', isAdmin: true });
      const expiresIn = new Date(res.data.login.expiresAt).getTime() - Date.now();
      expect(expiresIn).toBeGreaterThan(3500_000);
      expect(expiresIn).toBeLessThanOrEqual(3600_000);
      const me = await server.gql<any, any>(ME, undefined, { authorization: `Bearer ${res.data.login.accessToken}` });
      expect(me.data).toEqual({ me: { __typename: 'User', username: 'admin' } });
    }
  });

  test('a wrong password, an unknown user and an empty login are refused with clear codes', async () => {
    const wrong = await server.gql<any, any>(LOGIN, { u: 'admin', p: 'nope' });
    expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const unknown = await server.gql<any, any>(LOGIN, { u: 'ghost', p: 'nope' });
    expect(unknown.errors?.[0]).toMatchObject({ message: wrong.errors?.[0]?.message, extensions: { code: 'UNAUTHENTICATED' } });
    const empty = await server.gql<any, any>(LOGIN, { u: ' ', p: 'x' });
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'usernameOrEmail' });
  });

  test('without a valid identity every field but login, refreshToken and serverInfo answers UNAUTHENTICATED', async () => {
    const open = await server.gql<any, any>(`{ serverInfo { version } }`);
    expect(open.data.serverInfo.version).toMatch(/^\d+\.\d+\.\d+/);
    for (const query of [ME, '{ users { totalCount } }', '{ deployments { edges { node { id } } } }', '{ env(id: "00000000-0000-0000-0000-000000000000") { id } }']) {
      const res = await server.gql<any, any>(query);
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    }
    const garbage = await server.gql<any, any>(ME, undefined, { authorization: 'Bearer not.a.jwt' });
    expect(garbage.errors?.[0]).toMatchObject({ message: 'Invalid access token', extensions: { code: 'UNAUTHENTICATED' } });
    const badToken = await server.gql<any, any>(ME, undefined, { 'x-platz-token': 'nonsense' });
    expect(badToken.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  test('refresh rotates the token; reusing the old one revokes the session; logout ends access tokens', async () => {
    const first = (await server.gql<any, any>(LOGIN, { u: 'admin', p: ADMIN_PASSWORD })).data.login;
    const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`;
    const second = (await server.gql<any, any>(REFRESH, { t: first.refreshToken })).data.refreshToken;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const me = await server.gql<any, any>(ME, undefined, { authorization: `Bearer ${second.accessToken}` });
    expect(me.data.me.username).toBe('admin');

    const reuse = await server.gql<any, any>(REFRESH, { t: first.refreshToken });
    expect(reuse.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const afterTheft = await server.gql<any, any>(REFRESH, { t: second.refreshToken });
    expect(afterTheft.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const revoked = await server.gql<any, any>(ME, undefined, { authorization: `Bearer ${second.accessToken}` });
    expect(revoked.errors?.[0]).toMatchObject({ message: 'Session has ended', extensions: { code: 'UNAUTHENTICATED' } });

    const third = (await server.gql<any, any>(LOGIN, { u: 'admin', p: ADMIN_PASSWORD })).data.login;
    const auth = { authorization: `Bearer ${third.accessToken}` };
    expect((await server.gql<any, any>(`mutation { logout }`, undefined, auth)).data).toEqual({ logout: true });
    expect((await server.gql<any, any>(ME, undefined, auth)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  test('an inactive user is refused even with a token it obtained before', async () => {
    const login = (await server.gql<any, any>(LOGIN, { u: 'admin', p: ADMIN_PASSWORD })).data.login;
    await server.sql(`update users set is_active = false where username = 'admin'`);
    try {
      const res = await server.gql<any, any>(ME, undefined, { authorization: `Bearer ${login.accessToken}` });
      expect(res.errors?.[0]).toMatchObject({ message: 'User is inactive', extensions: { code: 'UNAUTHENTICATED' } });
      const relogin = await server.gql<any, any>(LOGIN, { u: 'admin', p: ADMIN_PASSWORD });
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
