import { createBot, createUser, deploymentCaller } from './support/identities.js';
import { createOidcProvider, type TestOidcProvider } from './support/oidc-provider.js';
import { seedFleet } from './support/fixtures.js';
import { restClient, type Rest } from './support/rest.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let rest: Rest;
let admin: Record<string, string>;
let adminId: string;
beforeAll(async () => {
  server = await startTestServer();
  rest = restClient(server);
  admin = await server.adminAuth();
  [{ id: adminId }] = await server.sql<{ id: string }>(`select id from users where username = 'admin'`);
});
afterAll(() => server?.stop());

describe('GET /api/v2/auth/me', () => {
  test('a user, by access token or API token: {"User": User}, externally tagged as Platz writes it', async () => {
    const res = await rest('GET', '/api/v2/auth/me', { headers: admin });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      User: { id: adminId, created_at: expect.stringMatching(/Z$/), display_name: expect.any(String), email: 'admin@example.com', is_admin: true, is_active: true },
    });
    const user = await createUser(server);
    expect((await rest('GET', '/api/v2/auth/me', { headers: user.headers })).body).toEqual({ User: expect.objectContaining({ id: user.id, is_admin: false }) });
  });

  test('a bot: {"Bot": Bot}; a deployment with its own token: {"Deployment": {id, name}}', async () => {
    const bot = await createBot(server, 'the-bot');
    expect((await rest('GET', '/api/v2/auth/me', { headers: bot.headers })).body).toEqual({ Bot: { id: bot.id, created_at: expect.stringMatching(/Z$/), display_name: 'the-bot' } });
    const { deployments } = await seedFleet(server.em, { deployments: 1, clusters: 1, kinds: 1, tasksPerDeployment: 0, prefix: 'me' });
    const deployment = await deploymentCaller(server, deployments[0].id);
    expect((await rest('GET', '/api/v2/auth/me', { headers: deployment.headers })).body).toEqual({ Deployment: { id: deployments[0].id, name: deployments[0].name } });
  });

  test('x-platz-token wins when both credentials are sent, a bad one too', async () => {
    const user = await createUser(server);
    const both = await rest('GET', '/api/v2/auth/me', { headers: { ...admin, ...user.headers } });
    expect(both.body.User.id).toBe(user.id);
    const badToken = await rest('GET', '/api/v2/auth/me', { headers: { ...admin, 'x-platz-token': 'not-a-token' } });
    expect(badToken.status).toBe(401);
  });

  test('no credential, or one that is not valid: 401 with a JSON message saying why', async () => {
    const none = await rest('GET', '/api/v2/auth/me');
    expect([none.status, none.body]).toEqual([401, { message: 'Authentication required' }]);
    const badJwt = await rest('GET', '/api/v2/auth/me', { headers: { authorization: 'Bearer not.a.jwt' } });
    expect([badJwt.status, badJwt.body]).toEqual([401, { message: expect.stringMatching(/access token/i) }]);
    const notBearer = await rest('GET', '/api/v2/auth/me', { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
    expect(notBearer.status).toBe(401);
  });

  test('the caller comes first: without a valid credential, a body that is not even JSON is 401, not 400', async () => {
    for (const body of ['{not json', JSON.stringify({ name: 42 })]) {
      const res = await rest('POST', '/api/v2/envs', { body, headers: { 'content-type': 'application/json' } });
      expect([res.status, res.body]).toEqual([401, { message: 'Authentication required' }]);
    }
    const bad = await rest('POST', '/api/v2/envs', { body: '{not json', headers: { 'content-type': 'application/json', 'x-platz-token': 'not-a-token' } });
    expect(bad.status).toBe(401);
  });
});

describe('single sign-on: GET /api/v2/auth/google and POST /api/v2/auth/google/callback', () => {
  let provider: TestOidcProvider;
  let sso: TestServer;
  let ssoRest: Rest;
  beforeAll(async () => {
    provider = await createOidcProvider();
    await provider.listen();
    sso = await startTestServer({ OIDC_ISSUER_URL: provider.issuer, OIDC_CLIENT_ID: provider.clientId, OIDC_CLIENT_SECRET: provider.clientSecret, OIDC_REDIRECT_URI: provider.redirectUri });
    ssoRest = restClient(sso);
  });
  afterAll(async () => {
    await sso?.stop();
    await provider?.stop();
  });

  /** What Platz's frontend does: start, send the browser to the provider, post back the code it returns with. */
  async function startLogin(account: string) {
    provider.accounts.set(account, { email: `${account}@example.com`, email_verified: true, name: `Person ${account}` });
    const started = await ssoRest('GET', '/api/v2/auth/google');
    expect(started.status).toBe(200);
    expect(Object.keys(started.body)).toEqual(['redirect_url']);
    const callback = await provider.signIn(started.body.redirect_url, account);
    return { code: callback.searchParams.get('code')!, state: callback.searchParams.get('state')!, cookie: started.headers.get('set-cookie')! };
  }

  test("Platz's frontend posts only the code: the state comes back in the cookie; the access token works", async () => {
    const { code, state, cookie } = await startLogin('carol');
    expect(cookie).toMatch(/^berth_sso_state=[^;]+; Path=\/api\/v2\/auth\/google; Max-Age=600; HttpOnly; SameSite=Lax$/);
    expect(cookie).toContain(`berth_sso_state=${state}`);
    const finished = await ssoRest('POST', '/api/v2/auth/google/callback', { headers: { cookie: cookie.split(';')[0] }, body: { auth_code: code } });
    expect(finished.status).toBe(200);
    expect(Object.keys(finished.body)).toEqual(['access_token']);
    expect(finished.headers.get('set-cookie')).toMatch(/^berth_sso_state=; .*Max-Age=0/);
    const me = await ssoRest('GET', '/api/v2/auth/me', { headers: { authorization: `Bearer ${finished.body.access_token}` } });
    expect(me.body).toEqual({ User: expect.objectContaining({ email: 'carol@example.com', display_name: 'Person carol', is_admin: false }) });
  });

  test('the state may come in the body instead; a login serves once; no state at all is 400', async () => {
    const { code, state } = await startLogin('dave');
    const finished = await ssoRest('POST', '/api/v2/auth/google/callback', { body: { auth_code: code, state } });
    expect(finished.status).toBe(200);
    const again = await ssoRest('POST', '/api/v2/auth/google/callback', { body: { auth_code: code, state } });
    expect([again.status, again.body]).toEqual([401, { message: 'Invalid or expired login state' }]);
    const none = await ssoRest('POST', '/api/v2/auth/google/callback', { body: { auth_code: code } });
    expect([none.status, none.body.message]).toEqual([400, expect.stringMatching(/^state \(body\): must be sent in the body/)]);
  });

  test('without single sign-on configured, starting one is 403', async () => {
    const res = await rest('GET', '/api/v2/auth/google');
    expect([res.status, res.body]).toEqual([403, { message: 'Single sign-on is not configured' }]);
  });
});

describe("the REST layer's plumbing", () => {
  test('GET /status answers "ok" as plain text, without a credential', async () => {
    const res = await rest('GET', '/status');
    expect([res.status, res.text]).toEqual([200, 'ok']);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  test('an unknown route under /api/v2 is 404 with a JSON message; every answer carries its request id', async () => {
    const res = await rest('GET', '/api/v2/no-such-thing', { headers: admin });
    expect([res.status, res.body]).toEqual([404, { message: 'No route GET /api/v2/no-such-thing' }]);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const asked = await rest('GET', '/api/v2/auth/me', { headers: { ...admin, 'x-request-id': 'trace-123' } });
    expect(asked.headers.get('x-request-id')).toBe('trace-123');
  });

  test('an unexpected failure is 500 {"message": "Internal server error"}, with nothing of the failure in it', async () => {
    await server.sql(`alter table envs rename to envs_gone`);
    try {
      const res = await rest('GET', '/api/v2/envs', { headers: admin });
      expect([res.status, res.body]).toEqual([500, { message: 'Internal server error' }]);
    } finally {
      await server.sql(`alter table envs_gone rename to envs`);
    }
    expect((await rest('GET', '/api/v2/envs', { headers: admin })).status).toBe(200);
  });

  test('a body too large is 413 with a JSON message', async () => {
    const res = await rest('POST', '/api/v2/envs', { headers: admin, body: { name: 'x'.repeat(1_100_000) } });
    expect([res.status, res.body]).toEqual([413, { message: expect.any(String) }]);
  });
});
