import { Validator } from '@seriousme/openapi-schema-validator';
import * as oidcClient from 'openid-client';
import { Keyring } from '../src/auth/encryption.js';
import { Env, Group, GroupMember, GroupWebApp, K8sCluster, K8sNamespace, K8sServiceAccount, User, WebApp } from '../src/entities/index.js';
import { EnvUserRole, UserApprovalState } from '../src/entities/enums.js';
import { countRows, expectUnchanged, withWrites } from './support/assertions.js';
import { build, persist, unique } from './support/fixtures.js';
import { createUser, grantEnvRole, signJwt } from './support/identities.js';
import { kubeconfigFor, startKubeApiDouble, type KubeApiDouble } from './support/kube-api/index.js';
import { KUBPORTAL, numberOf, PASSWORD, passwordUser, portalLogin, portalUser, type PortalUser } from './support/kubportal.js';
import { createOidcProvider, type TestOidcProvider } from './support/oidc-provider.js';
import { restClient, type Rest } from './support/rest.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * Kubportal's backend API v1.4.0 (src/rest/kubportal/CONTRACT.md) through HTTP: every route of its document, its
 * errors as DRF writes them, its self-only rule, and its authorization matrix. The server has single sign-on with a
 * real provider (its Google login) and a cluster on the Kubernetes API double (its statistics).
 */
const KEYS = Keyring.generateSpec('kubportal');
let server: TestServer;
let rest: Rest;
let provider: TestOidcProvider;
let kube: KubeApiDouble;
let admin: Record<string, string>;
let env: Env;

beforeAll(async () => {
  provider = await createOidcProvider();
  await provider.listen();
  server = await startTestServer({
    BERTH_ENCRYPTION_KEYS: KEYS,
    // no identity cache: a logout must be refused at the token's next request on any replica
    AUTH_CACHE_SECONDS: '0',
    K8S_STATISTICS_CACHE_SECONDS: '3600',
    // a username's second failed login from one address waits
    LOGIN_FREE_FAILURES: '0',
    OIDC_ISSUER_URL: provider.issuer,
    OIDC_CLIENT_ID: provider.clientId,
    OIDC_CLIENT_SECRET: provider.clientSecret,
    OIDC_REDIRECT_URI: provider.redirectUri,
  });
  rest = restClient(server);
  admin = await server.adminAuth();
  env = build(Env, { name: `kubportal-${unique()}` });
  await persist(server, env);
  kube = await startKubeApiDouble();
  kube.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { capacity: { cpu: '4', memory: '16000000Ki' } } });
  kube.create({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'kube-system', name: 'kube-proxy-1' }, spec: { containers: [{ name: 'p', image: 'registry.k8s.io/kube-proxy:v1.30.2' }] } });
});
afterAll(async () => {
  await server?.stop();
  await provider?.stop();
  await kube?.close();
});

/** Imports one context of the double as a cluster of `env`; returns its id. */
async function importCluster(context: string): Promise<string> {
  const res = await server.gql<any, object>(
    `mutation($input: CreateClustersFromKubeconfigInput!) { createClustersFromKubeconfig(input: $input) { id } }`,
    { input: { kubeconfig: kubeconfigFor(kube, { contexts: [context] }), contexts: [context], envId: env.id } },
    admin,
  );
  expect(res.errors).toBeUndefined();
  return res.data.createClustersFromKubeconfig[0].id;
}

/** A group with these members and web apps. */
async function groupOf(members: PortalUser[], webApps: WebApp[] = [], fields: Partial<Group> = {}): Promise<Group> {
  const group = build(Group, { name: `group-${unique()}`, ...fields });
  await persist(server, group, ...members.map((m) => build(GroupMember, { group, user: server.em.fork().getReference(User, m.id) })), ...webApps.map((webApp) => build(GroupWebApp, { group, webApp })));
  return group;
}

/** A user with the User role in `env`: it sees the env's clusters. */
async function envMember(fields: Partial<User> = {}): Promise<PortalUser> {
  const user = await portalUser(server, fields);
  await grantEnvRole(server, env.id, { userId: user.id }, EnvUserRole.User);
  return user;
}

const webApp = async (fields: Partial<WebApp> = {}) => (await persist(server, build(WebApp, { name: `app-${unique()}`, linkName: 'App', linkUrl: 'https://app.example.com', linkShow: true, ...fields })))[0];

const DETAIL = { detail: expect.any(String) };

describe('GET /api/ (bootstrap)', () => {
  test('three keys, no credential needed; a bad credential does not matter', async () => {
    const version = (await server.gql<any, object>('{ serverInfo { version } }')).data.serverInfo.version;
    for (const headers of [{}, { authorization: 'Bearer not-a-jwt' }] as Record<string, string>[]) {
      const res = await rest('GET', '/api/', { headers });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ csrf_token: expect.stringMatching(/^[\w-]{40,}$/), portal_version: `v${version}`, default_api_version: 'v1.4.0' });
    }
  });

  test('/api/v1.4.0/ has no root view, and other versions are not served', async () => {
    expect((await rest('GET', `${KUBPORTAL}/`)).status).toBe(404);
    const user = await portalUser(server);
    for (const version of ['v1.3.0', 'v2.0.0', 'v1.4']) expect((await rest('GET', `/api/${version}/users/${user.number}/`, { headers: user.headers })).status).toBe(404);
    // the trailing slash is part of each route
    const bare = await rest('GET', `${KUBPORTAL}/users/${user.number}`, { headers: user.headers });
    expect([bare.status, bare.body]).toEqual([404, DETAIL]);
  });
});

describe('POST /login/', () => {
  test('{id, firstname, access_token}: the id is the user\'s number, the token works as Bearer', async () => {
    const user = await portalUser(server, { firstName: 'Ada', lastName: 'Lovelace' });
    const res = await rest('POST', `${KUBPORTAL}/login/`, { body: { username: user.username, password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: user.number, firstname: 'Ada', access_token: expect.any(String) });
    const me = await rest('GET', `${KUBPORTAL}/users/${res.body.id}/`, { headers: { authorization: `Bearer ${res.body.access_token}` } });
    expect(me.status).toBe(200);
    expect(me.body.firstname).toBe('Ada');
    expect(await countRows(server, 'user_sessions', 'user_id = ? and revoked_at is null', [user.id])).toBe(1);
  });

  test('by email too; a user first seen at its login gets its number then, the same ever after', async () => {
    const { id, username } = await passwordUser(server);
    expect(await countRows(server, 'numeric_aliases', 'target_id = ?', [id])).toBe(0);
    const first = await rest('POST', `${KUBPORTAL}/login/`, { body: { email: `${username}@example.com`, password: PASSWORD } });
    expect(first.status).toBe(200);
    expect(first.body.firstname).toBe('');
    const again = await rest('POST', `${KUBPORTAL}/login/`, { body: { username, password: PASSWORD } });
    expect(again.body.id).toBe(first.body.id);
    expect(await numberOf(server, 'users', id)).toBe(first.body.id);
  });

  test('refused credentials: 400 non_field_errors, no session; an inactive user says so', async () => {
    const user = await portalUser(server);
    const inactive = await portalUser(server, { isActive: false });
    await expectUnchanged(server, ['user_sessions'], async () => {
      const wrong = await rest('POST', `${KUBPORTAL}/login/`, { body: { username: user.username, password: 'wrong-password' } });
      expect(wrong.status).toBe(400);
      expect(wrong.body).toEqual({ non_field_errors: ['Invalid username, email or password'] });
      const missing = await rest('POST', `${KUBPORTAL}/login/`, { body: { username: `nobody-${unique()}`, password: PASSWORD } });
      expect(missing.body).toEqual(wrong.body);
      const disabled = await rest('POST', `${KUBPORTAL}/login/`, { body: { username: inactive.username, password: PASSWORD } });
      expect([disabled.status, disabled.body]).toEqual([400, { non_field_errors: ['User is inactive'] }]);
    });
  });

  test('a failed login makes the next one of that username wait: 429 with Retry-After, {detail}', async () => {
    const user = await portalUser(server);
    const attempt = () => rest('POST', `${KUBPORTAL}/login/`, { body: { username: user.username, password: 'wrong-password' } });
    expect((await attempt()).status).toBe(400);
    const throttled = await attempt();
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(throttled.body).toEqual(DETAIL);
  });

  test("bad bodies: DRF's field errors (the spec's array is refused), a body that is not JSON a detail", async () => {
    const noPassword = await rest('POST', `${KUBPORTAL}/login/`, { body: { username: 'someone' } });
    expect(noPassword.status).toBe(400);
    expect(noPassword.body).toEqual({ password: [expect.any(String)] });
    const noName = await rest('POST', `${KUBPORTAL}/login/`, { body: { password: PASSWORD } });
    expect(noName.body).toEqual({ non_field_errors: ['Must include "username" and "password".'] });
    const empty = await rest('POST', `${KUBPORTAL}/login/`, { body: { username: ' ', password: PASSWORD } });
    expect(empty.body).toEqual({ username: [expect.stringContaining('must not be empty')] });
    const array = await rest('POST', `${KUBPORTAL}/login/`, { body: [{ username: 'a', password: 'b' }] });
    expect(array.status).toBe(400);
    expect(array.body).toEqual({ non_field_errors: [expect.any(String)] });
    const notJson = await rest('POST', `${KUBPORTAL}/login/`, { body: '{"username":', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toEqual(DETAIL);
  });
});

describe('POST /login_google/', () => {
  /** What Kubportal's frontend does with Google: the code flow as a client of the provider, for an access token. */
  async function providerAccessToken(account: string): Promise<string> {
    const config = await oidcClient.discovery(new URL(provider.issuer), provider.clientId, provider.clientSecret, undefined, { execute: [oidcClient.allowInsecureRequests] });
    const verifier = oidcClient.randomPKCECodeVerifier();
    const state = oidcClient.randomState();
    const url = oidcClient.buildAuthorizationUrl(config, {
      redirect_uri: provider.redirectUri,
      scope: 'openid profile email',
      state,
      code_challenge: await oidcClient.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const callback = await provider.signIn(url.href, account);
    const tokens = await oidcClient.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    return tokens.access_token;
  }

  test("a provider's access token signs in: the user is created (then found), answered as a login", async () => {
    const account = `g-${unique()}`;
    provider.accounts.set(account, { email: `${account}@example.com`, email_verified: true, name: 'Grace Hopper' });
    const res = await rest('POST', `${KUBPORTAL}/login_google/`, { body: { access_token: await providerAccessToken(account) } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: expect.any(Number), firstname: '', access_token: expect.any(String) });
    const [user] = await server.sql<{ id: string; username: string }>('select id, username from users where email = ?', [`${account}@example.com`]);
    expect(await numberOf(server, 'users', user.id)).toBe(res.body.id);
    expect(await countRows(server, 'audit_records', 'operation = ? and target_id = ?', ['signInWithAccessToken', user.id])).toBe(1);
    const me = await rest('GET', `${KUBPORTAL}/users/${res.body.id}/`, { headers: { authorization: `Bearer ${res.body.access_token}` } });
    expect(me.body).toMatchObject({ username: user.username, primary_email: `${account}@example.com` });

    const again = await rest('POST', `${KUBPORTAL}/login_google/`, { body: { access_token: await providerAccessToken(account) } });
    expect(again.body.id).toBe(res.body.id);
  });

  test('a token the provider refuses: 400 invalid credentials, nothing written', async () => {
    const { result: res, written } = await withWrites(server, () => rest('POST', `${KUBPORTAL}/login_google/`, { body: { access_token: 'not-a-token-of-the-provider' } }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ non_field_errors: [expect.stringMatching(/^Invalid credentials: /)] });
    expect(written).toEqual([]);
    const noToken = await rest('POST', `${KUBPORTAL}/login_google/`, { body: { code: 'a-code' } });
    expect(noToken.status).toBe(400);
    expect(noToken.body).toEqual({ access_token: [expect.any(String)] });
  });

  test('without single sign-on configured: 400 invalid credentials', async () => {
    const plain = await startTestServer();
    try {
      const res = await restClient(plain)('POST', `${KUBPORTAL}/login_google/`, { body: { access_token: 'anything' } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ non_field_errors: ['Invalid credentials: Single sign-on is not configured'] });
    } finally {
      await plain.stop();
    }
  });
});

describe('/logout/', () => {
  test.each(['GET', 'POST'])('%s ends the session of the token sent: it, and the login\'s every token, stop working', async (method) => {
    const user = await portalUser(server);
    const login = await portalLogin(rest, user.username);
    const res = await rest(method, `${KUBPORTAL}/logout/`, { headers: login.headers });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ detail: 'Successfully logged out.' });
    expect(await countRows(server, 'user_sessions', 'user_id = ? and revoked_at is not null', [user.id])).toBe(1);
    const after = await rest('GET', `${KUBPORTAL}/users/${login.id}/`, { headers: login.headers });
    expect(after.status).toBe(401);
    expect(after.body).toEqual(DETAIL);
  });

  test('200 to any caller, as Kubportal: none, a bad token, a token without a session; nothing written', async () => {
    const user = await portalUser(server);
    for (const headers of [{}, { authorization: 'Bearer not-a-jwt' }, user.headers]) {
      const { result: res, written } = await withWrites(server, () => rest('POST', `${KUBPORTAL}/logout/`, { headers }));
      expect(res.status).toBe(200);
      expect(written).toEqual([]);
    }
  });
});

describe('/users/{id}/', () => {
  test("the caller's User: names, emails, site admin, its service account, namespace and provisioned token", async () => {
    const keyring = Keyring.parse(KEYS);
    const namespace = build(K8sNamespace, { name: 'team1' });
    const account = build(K8sServiceAccount, { name: 'ada', namespace });
    await persist(server, namespace, account);
    const user = build(User, {
      username: `ada-${unique()}`,
      displayName: 'Ada',
      firstName: 'Ada',
      lastName: 'Lovelace',
      alternativeEmails: ['ada@other.example.com'],
      approvalState: UserApprovalState.ACCESS_APPROVED,
      serviceAccount: account,
    });
    user.email = `${user.username}@example.com`;
    user.k8sTokenEncrypted = keyring.encrypt('the-k8s-token', `users:${user.id}`);
    await persist(server, user);
    const headers = { authorization: `Bearer ${await signJwt(server, { User: user.id })}` };
    const res = await rest('GET', `${KUBPORTAL}/users/${await numberOf(server, 'users', user.id)}/`, { headers });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      firstname: 'Ada',
      name: 'Lovelace',
      username: user.username,
      primary_email: user.email,
      all_emails: ['ada@other.example.com'],
      admin: false,
      k8s_serviceaccount: 'team1:ada',
      k8s_namespace: 'team1',
      k8s_token: 'the-k8s-token',
    });
  });

  test('admin: an admin, or a member of a can_admin group; no account: nulls', async () => {
    const flagged = await portalUser(server, { isAdmin: true });
    expect((await rest('GET', `${KUBPORTAL}/users/${flagged.number}/`, { headers: flagged.headers })).body).toMatchObject({ admin: true, k8s_serviceaccount: null, k8s_namespace: null, k8s_token: null });
    const member = await portalUser(server);
    await groupOf([member], [], { canAdmin: true });
    expect((await rest('GET', `${KUBPORTAL}/users/${member.number}/`, { headers: member.headers })).body.admin).toBe(true);
  });

  test('self only, site admins included: another user 403, no such user 404, an id that is not a number 404', async () => {
    const user = await portalUser(server);
    const other = await portalUser(server);
    const siteAdmin = await portalUser(server, { isAdmin: true });
    for (const caller of [user, siteAdmin]) {
      const res = await rest('GET', `${KUBPORTAL}/users/${other.number}/`, { headers: caller.headers });
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ detail: 'You may only read and change your own user' });
    }
    const missing = await rest('GET', `${KUBPORTAL}/users/2000000000/`, { headers: user.headers });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(DETAIL);
    // a number given to a group is no user's
    const group = await groupOf([user]);
    expect((await rest('GET', `${KUBPORTAL}/users/${await numberOf(server, 'groups', group.id)}/`, { headers: user.headers })).status).toBe(404);
    for (const id of ['abc', '0', '-1', '1.5']) expect((await rest('GET', `${KUBPORTAL}/users/${id}/`, { headers: user.headers })).body).toEqual({ detail: 'Not found.' });
  });

  test('PATCH writes primary_email through Berth\'s rules and audits it: 204; other fields are ignored', async () => {
    const user = await portalUser(server, { firstName: 'Old' });
    const email = `new-${unique()}@example.com`;
    const res = await rest('PATCH', `${KUBPORTAL}/users/${user.number}/`, { headers: user.headers, body: { primary_email: ` ${email} `, firstname: 'New', admin: true, username: 'taken' } });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    const [row] = await server.sql<{ email: string; first_name: string; is_admin: boolean; username: string }>('select email, first_name, is_admin, username from users where id = ?', [user.id]);
    expect(row).toEqual({ email, first_name: 'Old', is_admin: false, username: user.username });
    expect(await countRows(server, 'audit_records', 'operation = ? and target_id = ?', ['updateUser', user.id])).toBe(1);
    expect((await rest('GET', `${KUBPORTAL}/users/${user.number}/`, { headers: user.headers })).body.primary_email).toBe(email);
  });

  test('PATCH refusals write nothing: no primary_email, not an email, one another user has, another user, no such user', async () => {
    const user = await portalUser(server);
    const other = await portalUser(server);
    const patch = (id: number, body: unknown) => rest('PATCH', `${KUBPORTAL}/users/${id}/`, { headers: user.headers, body });
    await expectUnchanged(server, ['users', 'audit_records'], async () => {
      const none = await patch(user.number, {});
      expect(none.status).toBe(400);
      expect(none.body).toEqual({ primary_email: [expect.any(String)] });
      const notEmail = await patch(user.number, { primary_email: 'not an email' });
      expect(notEmail.status).toBe(400);
      expect(notEmail.body).toEqual({ primary_email: ['must be an email address'] });
      const taken = await patch(user.number, { primary_email: `${other.username}@EXAMPLE.com` });
      expect(taken.status).toBe(409);
      expect(taken.body).toEqual({ detail: expect.stringContaining('already exists') });
      const foreign = await patch(other.number, { primary_email: `x-${unique()}@example.com` });
      expect(foreign.status).toBe(403);
      expect(foreign.body).toEqual({ detail: 'You may only read and change your own user' });
      expect((await patch(2000000000, { primary_email: `x-${unique()}@example.com` })).status).toBe(404);
    });
  });
});

describe('/users/{id}/webapps/ and /users/{id}/groups/', () => {
  test("the caller's groups, the automatic ones included; their shown web apps, each once, placeholders filled", async () => {
    const namespace = build(K8sNamespace, { name: 'teamx' });
    const account = build(K8sServiceAccount, { name: 'sa-x', namespace });
    await persist(server, namespace, account);
    const user = await portalUser(server, { approvalState: UserApprovalState.ACCESS_APPROVED, serviceAccount: account });
    const shown = await webApp({ linkName: 'Dash {{namespace}}', linkUrl: 'https://dash.example.com/{{namespace}}/{{serviceaccount}}' });
    const hidden = await webApp({ linkShow: false });
    const explicit = await groupOf([user], [shown, hidden]);
    const k8s = await groupOf([], [shown], { specialK8sAccounts: true });

    const apps = await rest('GET', `${KUBPORTAL}/users/${user.number}/webapps/`, { headers: user.headers });
    expect(apps.status).toBe(200);
    expect(apps.body).toEqual([{ link_name: 'Dash teamx', link_url: 'https://dash.example.com/teamx/sa-x' }]);
    const groups = await rest('GET', `${KUBPORTAL}/users/${user.number}/groups/`, { headers: user.headers });
    expect(groups.status).toBe(200);
    expect(groups.body).toEqual(expect.arrayContaining([{ name: explicit.name }, { name: k8s.name }]));
    expect(groups.body.every((g: object) => Object.keys(g).join() === 'name')).toBe(true);
  });

  test('a site admin sees only its own shown web apps too', async () => {
    const siteAdmin = await portalUser(server, { isAdmin: true });
    const app = await webApp({ linkName: 'Own' });
    await groupOf([siteAdmin], [app, await webApp({ linkShow: false })]);
    const res = await rest('GET', `${KUBPORTAL}/users/${siteAdmin.number}/webapps/`, { headers: siteAdmin.headers });
    expect(res.body.filter((w: { link_name: string }) => w.link_name === 'Own' || w.link_name === 'App')).toEqual([{ link_name: 'Own', link_url: 'https://app.example.com' }]);
  });

  test.each(['webapps', 'groups'])('/%s/: any id but the caller\'s is 403, one that names no user too', async (what) => {
    const user = await portalUser(server);
    const other = await portalUser(server);
    for (const id of [other.number, 2000000000]) {
      const res = await rest('GET', `${KUBPORTAL}/users/${id}/${what}/`, { headers: user.headers });
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ detail: 'You may only read and change your own user' });
    }
  });
});

describe('/webapps/{id}/ and /groups/{id}/', () => {
  test("a web app one of the caller's groups shows; hidden or not the caller's 403; none 404", async () => {
    const user = await portalUser(server);
    const [shown, hidden, foreign] = [await webApp({ linkUrl: 'https://x.example.com/{{namespace}}' }), await webApp({ linkShow: false }), await webApp()];
    await groupOf([user], [shown, hidden]);
    const get = async (app: WebApp) => rest('GET', `${KUBPORTAL}/webapps/${await numberOf(server, 'web_apps', app.id)}/`, { headers: user.headers });
    const ok = await get(shown);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ link_name: 'App', link_url: 'https://x.example.com/' });
    for (const app of [hidden, foreign]) {
      const res = await get(app);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ detail: 'None of your groups shows this web application' });
    }
    expect((await rest('GET', `${KUBPORTAL}/webapps/2000000000/`, { headers: user.headers })).status).toBe(404);
    await server.sql('delete from web_apps where id = ?', [foreign.id]);
    expect((await get(foreign)).status).toBe(404);
  });

  test("a group the caller is in (an automatic one too); another 403, a site admin's included; none 404", async () => {
    const user = await portalUser(server);
    const siteAdmin = await portalUser(server, { isAdmin: true });
    const mine = await groupOf([user]);
    const everyone = await groupOf([], [], { specialAllAccounts: true });
    const foreign = await groupOf([]);
    const get = async (group: Group, caller = user) => rest('GET', `${KUBPORTAL}/groups/${await numberOf(server, 'groups', group.id)}/`, { headers: caller.headers });
    expect((await get(mine)).body).toEqual({ name: mine.name });
    expect((await get(everyone)).body).toEqual({ name: everyone.name });
    for (const [group, caller] of [[foreign, user], [mine, siteAdmin]] as const) {
      const res = await get(group, caller);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ detail: 'You are not in this group' });
    }
    expect((await rest('GET', `${KUBPORTAL}/groups/2000000000/`, { headers: user.headers })).status).toBe(404);
  });
});

describe('/cluster/{slug}/', () => {
  let member: PortalUser;
  beforeAll(async () => {
    await importCluster('first');
    member = await envMember();
  });

  test('each of the ten slugs: one entry, its value, from the cluster the caller may see', async () => {
    const [{ n: users }] = await server.sql<{ n: number }>('select count(*)::int as n from users');
    const version = (await server.gql<any, object>('{ serverInfo { version } }')).data.serverInfo.version;
    const expected = {
      portal_user_count: users,
      portal_version: version,
      k8s_version: 'v1.30.2',
      k8s_node_count: 1,
      k8s_cpu_count: 4,
      k8s_mem_sum: 16,
      k8s_pod_count: 1,
      k8s_volume_count: 0,
      k8s_apiserver_url: kube.url,
      k8s_cluster_name: 'first',
    };
    for (const [slug, value] of Object.entries(expected)) {
      const res = await rest('GET', `${KUBPORTAL}/cluster/${slug}/`, { headers: member.headers });
      expect([res.status, res.body]).toEqual([200, { [slug]: value }]);
    }
  });

  test("the cluster of the caller's service account comes first, also for a user no env role shows it", async () => {
    const second = await importCluster('second');
    const namespace = build(K8sNamespace, { name: `ns${unique().replace(/-/g, '')}`, cluster: server.em.fork().getReference(K8sCluster, second) });
    const account = build(K8sServiceAccount, { name: 'sa', namespace });
    await persist(server, namespace, account);
    const withAccount = await envMember({ serviceAccount: account, approvalState: UserApprovalState.ACCESS_APPROVED });
    expect((await rest('GET', `${KUBPORTAL}/cluster/k8s_cluster_name/`, { headers: withAccount.headers })).body).toEqual({ k8s_cluster_name: 'second' });
    expect((await rest('GET', `${KUBPORTAL}/cluster/k8s_cluster_name/`, { headers: member.headers })).body).toEqual({ k8s_cluster_name: 'first' });
    const approvedOnly = await portalUser(server, { serviceAccount: account, approvalState: UserApprovalState.ACCESS_APPROVED });
    expect((await rest('GET', `${KUBPORTAL}/cluster/k8s_cluster_name/`, { headers: approvedOnly.headers })).body).toEqual({ k8s_cluster_name: 'second' });
  });

  test('an unknown slug 404 (the cluster not asked); a caller who may see no cluster 404', async () => {
    const asked = kube.requests.length;
    for (const slug of ['k8s_nothing', 'constructor', '__proto__']) {
      const res = await rest('GET', `${KUBPORTAL}/cluster/${slug}/`, { headers: member.headers });
      expect([res.status, res.body]).toEqual([404, DETAIL]);
    }
    expect(kube.requests.length).toBe(asked);
    const outsider = await portalUser(server);
    expect((await rest('GET', `${KUBPORTAL}/cluster/k8s_node_count/`, { headers: outsider.headers })).status).toBe(404);
  });
});

describe('credentials', () => {
  test("401 {detail} without one, with a bad or expired one, and with Platz's API token (Kubportal takes a Bearer JWT only)", async () => {
    const user = await portalUser(server);
    const apiToken = await createUser(server);
    const expired = `Bearer ${await signJwt(server, { User: user.id }, '-1h')}`;
    for (const headers of [{}, { authorization: 'Bearer not-a-jwt' }, { authorization: expired }, { authorization: 'Basic abc' }, apiToken.headers]) {
      const res = await rest('GET', `${KUBPORTAL}/users/${user.number}/`, { headers });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(DETAIL);
    }
  });
});

/** The document's path for a Fastify route pattern: `/users/:id/` is `/users/{id}/`. */
const documentPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

/** Every route the API serves, as `METHOD /path` in its document's words: its prefix's, and the bootstrap. */
function servedRoutes(): string[] {
  return server.berth.httpRoutes
    .filter((r) => (r.url.startsWith(`${KUBPORTAL}/`) || r.url === '/api/') && r.method !== 'HEAD')
    .map((r) => `${r.method} ${documentPath(r.url)}`)
    .filter((route) => !route.startsWith(`GET ${KUBPORTAL}/openapi.json`) && !route.startsWith(`GET ${KUBPORTAL}/docs`))
    .sort();
}

describe('the OpenAPI document', () => {
  test(`${KUBPORTAL}/openapi.json is a valid OpenAPI 3.1 document, public, with DRF's error body and the JWT scheme`, async () => {
    const res = await rest('GET', `${KUBPORTAL}/openapi.json`);
    expect(res.status).toBe(200);
    const result = await new Validator().validate(res.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(res.body.info).toMatchObject({ version: 'v1.4.0' });
    expect(res.body.components.securitySchemes).toEqual({ JWT: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
    const user = res.body.paths[`${KUBPORTAL}/users/{id}/`];
    expect(user.get.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', schema: expect.objectContaining({ type: 'integer' }) })]);
    expect(Object.keys(user.patch.responses).sort()).toEqual(['204', '400', '401', '403', '404', '409']);
    expect(res.body.paths['/api/'].get.security).toEqual([]);
  });

  test('every route served is in the document, with its method, and the document names no route that is not served', async () => {
    const { body: document } = await rest<{ paths: Record<string, Record<string, unknown>> }>('GET', `${KUBPORTAL}/openapi.json`);
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(servedRoutes()).toHaveLength(12);
    expect(documented).toEqual(servedRoutes());
  });
});

describe('authorization matrix', () => {
  /** Kubportal's callers: none, a credential that is not valid, the user the route names, another user, a site admin. */
  const WHO = ['none', 'bad', 'self', 'other', 'admin'] as const;
  type Who = (typeof WHO)[number];
  interface World {
    self: PortalUser;
    app: number;
    group: number;
  }
  const everyone = (status: number): Record<Who, number> => ({ none: status, bad: status, self: status, other: status, admin: status });
  /** a route of the caller's own: itself, its groups, its web apps; site admins included */
  const selfOnly = (status: number): Record<Who, number> => ({ none: 401, bad: 401, self: status, other: 403, admin: 403 });

  /** For every route served, the status each caller gets, and the call (its targets belong to `self`). */
  const MATRIX: Record<string, { call: (w: World) => { path: string; body?: unknown }; expect: Record<Who, number> }> = {
    'GET /api/': { call: () => ({ path: '/api/' }), expect: everyone(200) },
    [`POST ${KUBPORTAL}/login/`]: { call: (w) => ({ path: `${KUBPORTAL}/login/`, body: { username: w.self.username, password: PASSWORD } }), expect: everyone(200) },
    [`POST ${KUBPORTAL}/login_google/`]: { call: () => ({ path: `${KUBPORTAL}/login_google/`, body: { access_token: 'refused' } }), expect: everyone(400) },
    [`GET ${KUBPORTAL}/logout/`]: { call: () => ({ path: `${KUBPORTAL}/logout/` }), expect: everyone(200) },
    [`POST ${KUBPORTAL}/logout/`]: { call: () => ({ path: `${KUBPORTAL}/logout/` }), expect: everyone(200) },
    [`GET ${KUBPORTAL}/users/{id}/`]: { call: (w) => ({ path: `${KUBPORTAL}/users/${w.self.number}/` }), expect: selfOnly(200) },
    [`PATCH ${KUBPORTAL}/users/{id}/`]: { call: (w) => ({ path: `${KUBPORTAL}/users/${w.self.number}/`, body: { primary_email: `m-${unique()}@example.com` } }), expect: selfOnly(204) },
    [`GET ${KUBPORTAL}/users/{id}/webapps/`]: { call: (w) => ({ path: `${KUBPORTAL}/users/${w.self.number}/webapps/` }), expect: selfOnly(200) },
    [`GET ${KUBPORTAL}/users/{id}/groups/`]: { call: (w) => ({ path: `${KUBPORTAL}/users/${w.self.number}/groups/` }), expect: selfOnly(200) },
    [`GET ${KUBPORTAL}/webapps/{id}/`]: { call: (w) => ({ path: `${KUBPORTAL}/webapps/${w.app}/` }), expect: selfOnly(200) },
    [`GET ${KUBPORTAL}/groups/{id}/`]: { call: (w) => ({ path: `${KUBPORTAL}/groups/${w.group}/` }), expect: selfOnly(200) },
    // a cluster is seen through an env role (self's) or as a site admin; the statistics are not the caller's own
    [`GET ${KUBPORTAL}/cluster/{slug}/`]: { call: () => ({ path: `${KUBPORTAL}/cluster/k8s_node_count/` }), expect: { none: 401, bad: 401, self: 200, other: 404, admin: 200 } },
  };

  let world: World;
  let headers: Record<Who, Record<string, string>>;
  beforeAll(async () => {
    const self = await envMember();
    await importCluster('matrix');
    const app = await webApp();
    const group = await groupOf([self], [app]);
    world = { self, app: await numberOf(server, 'web_apps', app.id), group: await numberOf(server, 'groups', group.id) };
    headers = { none: {}, bad: { authorization: 'Bearer not-a-jwt' }, self: self.headers, other: (await portalUser(server)).headers, admin: (await portalUser(server, { isAdmin: true })).headers };
  });

  test('every route served has a row, and every row a served route', () => {
    expect(Object.keys(MATRIX).sort()).toEqual(servedRoutes());
  });

  describe.each(WHO.map((who) => [who]))('as %s', (who) => {
    test.each(Object.keys(MATRIX).map((route) => [route]))('%s', async (route) => {
      const { call, expect: expected } = MATRIX[route];
      const { path, body } = call(world);
      const method = route.split(' ')[0];
      const { result: res, written } = await withWrites(server, () => rest(method, path, { headers: headers[who], body }));
      expect(res.status).toBe(expected[who]);
      // a refused call changes nothing
      if (res.status >= 400) {
        expect(written).toEqual([]);
        expect(res.body).toEqual(res.body.detail ? DETAIL : { non_field_errors: [expect.any(String)] });
      }
    });
  });
});
