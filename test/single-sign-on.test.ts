import { createHash } from 'node:crypto';
import { loadConfig } from '../src/config/config.js';
import { Env } from '../src/entities/index.js';
import { startBerth } from '../src/server/app.js';
import { engineName } from './support/database.js';
import { countRows } from './support/assertions.js';
import { build, persist } from './support/fixtures.js';
import { createUser } from './support/identities.js';
import { createOidcProvider, type AccountClaims, type TestOidcProvider } from './support/oidc-provider.js';
import { postGraphQL, startTestServer, type GraphQLResponse, type TestServer } from './support/server.js';

const START = 'mutation { startSingleSignOn { authorizationUrl state } }';
const FINISH = `mutation ($code: String!, $state: String!) {
  finishSingleSignOn(code: $code, state: $state) { accessToken refreshToken user { id username email displayName isAdmin envPermissions { role } } }
}`;
const ME = '{ me { ... on User { id username } } }';

interface Start { startSingleSignOn: { authorizationUrl: string; state: string } }
interface Finish {
  finishSingleSignOn: {
    accessToken: string;
    refreshToken: string;
    user: { id: string; username: string; email: string; displayName: string; isAdmin: boolean; envPermissions: { role: string }[] };
  };
}
type Post = (query: string, variables?: object, headers?: Record<string, string>) => Promise<GraphQLResponse<any>>;

let provider: TestOidcProvider;
let server: TestServer;
let beforeProviderUp: GraphQLResponse<Start>;

beforeAll(async () => {
  provider = await createOidcProvider();
  server = await startTestServer(oidcEnv(provider));
  // the provider is not listening yet: the first discovery fails, and must not be remembered
  beforeProviderUp = await server.gql(START);
  await provider.listen();
});
afterAll(async () => {
  await server?.stop();
  await provider?.stop();
});

function oidcEnv(p: TestOidcProvider): Record<string, string> {
  return {
    OIDC_ISSUER_URL: p.issuer,
    OIDC_CLIENT_ID: p.clientId,
    OIDC_CLIENT_SECRET: p.clientSecret,
    OIDC_REDIRECT_URI: p.redirectUri,
    OIDC_ADMIN_EMAILS: 'Boss@Example.com  root@example.com',
  };
}

const gql: Post = (query, variables, headers) => server.gql(query, variables, headers);
const audits = (operation: string) => countRows(server, 'audit_records', 'operation = ?', [operation]);
const errorOf = (res: GraphQLResponse<unknown>) => ({ message: res.errors?.[0]?.message, code: res.errors?.[0]?.extensions?.code });
const hashOf = (state: string) => createHash('sha256').update(state).digest('base64url');

/** The browser's round trip: Berth's authorization URL, the provider's pages, back with code and state. */
async function authorize(account: string, claims?: AccountClaims, post: Post = gql): Promise<{ code: string; state: string }> {
  if (claims) provider.accounts.set(account, claims);
  const started = await post(START);
  expect(started.errors).toBeUndefined();
  const callback = await provider.signIn(started.data.startSingleSignOn.authorizationUrl, account);
  expect(callback.searchParams.get('state')).toBe(started.data.startSingleSignOn.state);
  return { code: callback.searchParams.get('code')!, state: started.data.startSingleSignOn.state };
}

async function signIn(account: string, claims?: AccountClaims): Promise<Finish['finishSingleSignOn']> {
  const res = await gql(FINISH, await authorize(account, claims));
  expect(res.errors).toBeUndefined();
  return (res as GraphQLResponse<Finish>).data!.finishSingleSignOn;
}

describe('single sign-on with OpenID Connect', () => {
  test('an unreachable provider is reported clearly and not remembered: the next start discovers it', async () => {
    expect(errorOf(beforeProviderUp)).toEqual({ message: 'The single sign-on provider could not be reached', code: 'UNAUTHENTICATED' });
    expect(await audits('startSingleSignOn')).toBe(0);
    expect(await countRows(server, 'oidc_logins')).toBe(0);
    expect((await gql(START)).errors).toBeUndefined();
  });

  test('start returns a PKCE (S256) authorization URL and keeps only a hash of the state, for 10 minutes', async () => {
    // a stale credential on the request does not stand in the way of signing in
    const res = await gql(START, {}, { authorization: 'Bearer not.a.jwt' });
    expect(res.errors).toBeUndefined();
    const { authorizationUrl, state } = (res as GraphQLResponse<Start>).data!.startSingleSignOn;
    const url = new URL(authorizationUrl);
    expect(url.origin).toBe(provider.issuer);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: provider.clientId,
      redirect_uri: provider.redirectUri,
      response_type: 'code',
      scope: 'openid profile email',
      code_challenge_method: 'S256',
      state,
    });
    expect(url.searchParams.get('nonce')).toBeTruthy();
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);

    const [row] = await server.sql<{ id: string; state_hash: string; redirect_uri: string; expires_at: Date }>(
      'select * from oidc_logins where state_hash = ?',
      [hashOf(state)],
    );
    expect(row.redirect_uri).toBe(provider.redirectUri);
    expect(new Date(row.expires_at).getTime() - Date.now()).toBeGreaterThan(9.9 * 60_000);
    expect(new Date(row.expires_at).getTime() - Date.now()).toBeLessThanOrEqual(10 * 60_000);
    expect(await countRows(server, 'oidc_logins', 'state_hash = ?', [state])).toBe(0);
    const [audit] = await server.sql<{ actor_kind: string; target_type: string; after: Record<string, unknown> }>(
      'select * from audit_records where target_id = ?',
      [row.id],
    );
    expect(audit).toMatchObject({ actor_kind: 'anonymous', target_type: 'OidcLogin' });
    // no secret in the audit trail
    expect(Object.keys(audit.after).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'redirectUri']);
  });

  test('a first sign-in creates the user (a site admin when listed), joins auto-add envs, and its token works', async () => {
    const [open] = await persist(server, build(Env, { name: 'sso-open', autoAddNewUsers: true }), build(Env, { name: 'sso-closed' }));

    const boss = await signIn('boss-sub', { email: 'boss@example.com', email_verified: true, name: 'The Boss' });
    expect(boss.user).toMatchObject({ username: 'boss', email: 'boss@example.com', displayName: 'The Boss', isAdmin: true });
    expect(boss.user.envPermissions).toEqual([{ role: 'User' }]);
    expect((await gql(ME, {}, { authorization: `Bearer ${boss.accessToken}` })).data).toEqual({ me: { id: boss.user.id, username: 'boss' } });

    const [row] = await server.sql<{ oidc_issuer: string; oidc_subject: string; password_hash: string | null }>('select * from users where id = ?', [boss.user.id]);
    expect(row).toMatchObject({ oidc_issuer: `${provider.issuer}`, oidc_subject: 'boss-sub', password_hash: null });
    expect(await server.sql('select env_id, role from env_user_permissions where user_id = ?', [boss.user.id])).toEqual([{ env_id: open.id, role: 'User' }]);
    expect(await countRows(server, 'user_sessions', 'user_id = ?', [boss.user.id])).toBe(1);
    // signing in is done by no one yet: the actor is anonymous, the target the user
    const trail = 'select actor_kind, target_type, env_id, before from audit_records where operation = ? order by target_type';
    expect(await server.sql(trail, ['finishSingleSignOn'])).toEqual([
      { actor_kind: 'anonymous', target_type: 'EnvUserPermission', env_id: open.id, before: null },
      { actor_kind: 'anonymous', target_type: 'User', env_id: null, before: null },
    ]);

    const carol = await signIn('carol-sub', { email: 'carol@example.com', name: 'Carol' });
    expect(carol.user).toMatchObject({ username: 'carol', isAdmin: false });
  });

  test('signing in again reuses the same user, without new roles', async () => {
    const first = await signIn('dora-sub', { email: 'dora@example.com', name: 'Dora' });
    const users = await countRows(server, 'users');
    const again = await signIn('dora-sub');
    expect(again.user.id).toBe(first.user.id);
    expect(again.accessToken).not.toBe(first.accessToken);
    expect(await countRows(server, 'users')).toBe(users);
    expect(await countRows(server, 'user_sessions', 'user_id = ?', [first.user.id])).toBe(2);
    const [last] = await server.sql<{ before: { id: string } | null }>(
      'select before from audit_records where operation = ? and target_id = ? order by created_at desc limit 1',
      ['finishSingleSignOn', first.user.id],
    );
    expect(last.before?.id).toBe(first.user.id);
  });

  test('an account with the same email (any case) is linked once; another identity cannot take it over', async () => {
    const existing = await createUser(server, { username: 'erin', email: 'Erin@Example.com' });
    const linked = await signIn('erin-sub', { email: 'erin@example.com', name: 'Erin' });
    expect(linked.user).toMatchObject({ id: existing.id, username: 'erin', email: 'Erin@Example.com' });
    expect(await server.sql('select oidc_subject from users where id = ?', [existing.id])).toEqual([{ oidc_subject: 'erin-sub' }]);

    const users = await countRows(server, 'users');
    const logins = await audits('finishSingleSignOn');
    const intruder = await gql(FINISH, await authorize('erin-impostor', { email: 'ERIN@example.com', name: 'Not Erin' }));
    expect(errorOf(intruder)).toEqual({ message: 'The account with this email is linked to another single sign-on identity', code: 'UNAUTHENTICATED' });
    expect(await countRows(server, 'users')).toBe(users);
    expect(await audits('finishSingleSignOn')).toBe(logins);
  });

  test('the username comes from the email, made unique', async () => {
    await createUser(server, { username: 'frank', email: 'frank@elsewhere.org' });
    await createUser(server, { username: 'frank-2', email: 'frank2@elsewhere.org' });
    expect((await signIn('frank-sub', { email: 'Frank@example.com', name: 'Frank' })).user.username).toBe('frank-3');
    expect((await signIn('odd-sub', { email: '+.Mr O Dd+@example.com', name: 'Odd' })).user.username).toBe('mr-o-dd');
  });

  test('a tampered or unknown state is refused, and a state serves one attempt only', async () => {
    const { code, state } = await authorize('gina-sub', { email: 'gina@example.com', name: 'Gina' });
    const users = await countRows(server, 'users');
    const sessions = await countRows(server, 'user_sessions');
    for (const wrong of [`${state}x`, 'unknown']) {
      expect(errorOf(await gql(FINISH, { code, state: wrong }))).toEqual({ message: 'Invalid or expired login state', code: 'UNAUTHENTICATED' });
    }
    expect(await countRows(server, 'oidc_logins', 'state_hash = ?', [hashOf(state)])).toBe(1);
    const first = await gql(FINISH, { code, state });
    expect(first.errors).toBeUndefined();
    const replayedUser = first.data.finishSingleSignOn.user.id;
    expect(await countRows(server, 'oidc_logins', 'state_hash = ?', [hashOf(state)])).toBe(0);

    const replay = await gql(FINISH, { code, state });
    expect(errorOf(replay)).toEqual({ message: 'Invalid or expired login state', code: 'UNAUTHENTICATED' });
    expect(await countRows(server, 'users')).toBe(users + 1);
    expect(await countRows(server, 'user_sessions')).toBe(sessions + 1);
    expect(await countRows(server, 'audit_records', 'operation = ? and target_id = ?', ['finishSingleSignOn', replayedUser])).toBe(1);
  });

  test('an expired state is refused and deleted; the next start clears expired logins', async () => {
    const login = await authorize('hank-sub', { email: 'hank@example.com', name: 'Hank' });
    const abandoned = (await gql(START)).data.startSingleSignOn.state;
    await server.sql(`update oidc_logins set expires_at = now() - interval '1 second' where state_hash in (?, ?)`, [hashOf(login.state), hashOf(abandoned)]);
    expect(errorOf(await gql(FINISH, login))).toEqual({ message: 'Invalid or expired login state', code: 'UNAUTHENTICATED' });
    expect(await countRows(server, 'oidc_logins', 'state_hash = ?', [hashOf(login.state)])).toBe(0);
    expect(await countRows(server, 'users', 'email = ?', ['hank@example.com'])).toBe(0);

    expect(await countRows(server, 'oidc_logins', 'state_hash = ?', [hashOf(abandoned)])).toBe(1);
    expect((await gql(START)).errors).toBeUndefined();
    expect(await countRows(server, 'oidc_logins', 'expires_at <= now()')).toBe(0);
  });

  test('a code the provider refuses is a clear UNAUTHENTICATED, and the state is used up', async () => {
    const { state } = await authorize('ivy-sub', { email: 'ivy@example.com', name: 'Ivy' });
    const res = await gql(FINISH, { code: 'not-a-code', state });
    expect(errorOf(res)).toEqual({ message: 'The single sign-on provider refused the login (invalid_grant)', code: 'UNAUTHENTICATED' });
    expect(await countRows(server, 'oidc_logins', 'state_hash = ?', [hashOf(state)])).toBe(0);
    expect(await countRows(server, 'users', 'email = ?', ['ivy@example.com'])).toBe(0);
  });

  test('email and name are required, the email must not be unverified, and an inactive user is refused', async () => {
    const cases: [string, AccountClaims, string][] = [
      ['no-email', { name: 'No Email' }, 'The single sign-on provider did not share an email address'],
      ['no-name', { email: 'noname@example.com' }, 'The single sign-on provider did not share a name'],
      ['unverified', { email: 'root@example.com', email_verified: false, name: 'Would Be Admin' }, 'The single sign-on provider has not verified this email address'],
    ];
    const users = await countRows(server, 'users');
    const logins = await audits('finishSingleSignOn');
    for (const [account, claims, message] of cases) {
      expect(errorOf(await gql(FINISH, await authorize(account, claims)))).toEqual({ message, code: 'UNAUTHENTICATED' });
    }
    expect(await countRows(server, 'users')).toBe(users);
    expect(await audits('finishSingleSignOn')).toBe(logins);

    const jack = await signIn('jack-sub', { email: 'jack@example.com', name: 'Jack' });
    await server.sql('update users set is_active = false where id = ?', [jack.user.id]);
    const sessions = await countRows(server, 'user_sessions', 'user_id = ?', [jack.user.id]);
    expect(errorOf(await gql(FINISH, await authorize('jack-sub')))).toEqual({ message: 'User is inactive', code: 'UNAUTHENTICATED' });
    expect(await countRows(server, 'user_sessions', 'user_id = ?', [jack.user.id])).toBe(sessions);
  });

  test('an empty code or state is bad input and uses up nothing', async () => {
    const { state } = await authorize('kim-sub', { email: 'kim@example.com', name: 'Kim' });
    const empty = await gql(FINISH, { code: ' ', state });
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'code' });
    expect((await gql(FINISH, { code: 'x', state: '' })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'state' });
    expect(await countRows(server, 'oidc_logins', 'state_hash = ?', [hashOf(state)])).toBe(1);
  });

  test('without OIDC_ISSUER_URL both mutations say single sign-on is not configured', async () => {
    const plain = await startTestServer();
    try {
      for (const [query, variables] of [[START, {}], [FINISH, { code: 'c', state: 's' }]] as const) {
        expect(errorOf(await plain.gql(query, variables))).toEqual({ message: 'Single sign-on is not configured', code: 'FORBIDDEN' });
      }
      expect(await countRows(plain, 'audit_records')).toBe(0);
    } finally {
      await plain.stop();
    }
  });

  // a second Berth over the same database needs a real PostgreSQL (the embedded engine serves one instance)
  (engineName() === 'postgres' ? test : test.skip)('a login started on one replica finishes on another', async () => {
    const replica = await startBerth(loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...oidcEnv(provider) }), {
      database: server.db.target,
      print: () => {},
    });
    try {
      const onReplica: Post = (query, variables, headers) => postGraphQL(replica.url, query, variables, headers);
      const login = await authorize('lena-sub', { email: 'lena@example.com', name: 'Lena' });
      const finished = await onReplica(FINISH, login);
      expect(finished.errors).toBeUndefined();
      const { accessToken, user } = (finished as GraphQLResponse<Finish>).data!.finishSingleSignOn;
      expect(user.username).toBe('lena');
      expect((await gql(ME, {}, { authorization: `Bearer ${accessToken}` })).data).toEqual({ me: { id: user.id, username: 'lena' } });

      // and the other way round
      const back = await authorize('lena-sub', undefined, onReplica);
      expect((await gql(FINISH, back)).data?.finishSingleSignOn.user.id).toBe(user.id);
    } finally {
      await replica.stop();
    }
  });
});
