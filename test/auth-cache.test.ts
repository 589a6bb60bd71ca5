import { startTestServer, type TestServer } from './support/server.js';
import { sqlLog } from './support/sql-log.js';
import { waitFor } from './support/subscriptions.js';

/** Every SQL statement the server runs but the event hub's polls (see sqlLog). */
const log = sqlLog();
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ AUTH_CACHE_SECONDS: '1' }, { ormOverrides: log.ormOverrides });
});
afterAll(() => server?.stop());

const ME = '{ me { ... on User { username } } }';

test('a verified credential is trusted for AUTH_CACHE_SECONDS without a query, then checked again', async () => {
  const auth = await server.adminAuth();
  log.clear();
  expect((await server.gql<any, unknown>(ME, undefined, auth)).data).toEqual({ me: { username: 'admin' } });
  expect(log.statements().filter((s) => /from users u left join user_sessions/.test(s))).toHaveLength(1);

  log.clear();
  expect((await server.gql<any, unknown>(ME, undefined, auth)).data).toEqual({ me: { username: 'admin' } });
  expect(log.statements()).toEqual([]); // neither the caller nor anything else was read

  // a change made behind the server's back (another replica) applies once the cached entry expires
  await server.sql(`update users set is_active = false where username = 'admin'`);
  try {
    let refused: Awaited<ReturnType<typeof server.gql<any, unknown>>> | undefined;
    await waitFor(async () => !!(refused = await server.gql<any, unknown>(ME, undefined, auth)).errors, 'the cached entry to expire');
    expect(refused!.errors?.[0]).toMatchObject({ message: 'User is inactive', extensions: { code: 'UNAUTHENTICATED' } });
  } finally {
    await server.sql(`update users set is_active = true where username = 'admin'`);
  }
});

test('logout on this replica ends the cached session at once', async () => {
  const login = await server.gql<any, unknown>(`mutation { login(usernameOrEmail: "admin", password: "admin-password-for-tests") { accessToken } }`);
  const auth = { authorization: `Bearer ${login.data.login.accessToken}` };
  expect((await server.gql<any, unknown>(ME, undefined, auth)).data).toEqual({ me: { username: 'admin' } });
  expect((await server.gql<any, unknown>('mutation { logout }', undefined, auth)).data).toEqual({ logout: true });
  expect((await server.gql<any, unknown>(ME, undefined, auth)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
});

test('API tokens: the secret is checked on every request, cached or not', async () => {
  const { newOpaqueToken, hashSecret } = await import('../src/auth/opaque-token.js');
  const token = newOpaqueToken();
  const [admin] = await server.sql<{ id: string }>(`select id from users where username = 'admin'`);
  await server.sql(`insert into user_tokens (id, user_id, secret_hash) values (?, ?, ?)`, [token.id, admin.id, hashSecret(token.secret)]);
  expect((await server.gql<any, unknown>(ME, undefined, { 'x-platz-token': token.token })).data).toEqual({ me: { username: 'admin' } });
  const forged = `${token.token.split('.')[0]}.${'A'.repeat(43)}`;
  const res = await server.gql<any, unknown>(ME, undefined, { 'x-platz-token': forged });
  expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  const [row] = await server.sql<{ last_used_at: Date | null }>(`select last_used_at from user_tokens where id = ?`, [token.id]);
  expect(row.last_used_at).not.toBeNull();
});
