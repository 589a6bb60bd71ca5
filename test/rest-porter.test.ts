import { Validator } from '@seriousme/openapi-schema-validator';
import { startBerth } from '../src/server/app.js';
import { countRows, expectUnchanged, withAudit, withWrites } from './support/assertions.js';
import { createTestDatabase, engineName } from './support/database.js';
import { unique } from './support/fixtures.js';
import { restClient, type Rest, type RestResponse } from './support/rest.js';
import { ADMIN_PASSWORD, startTestServer, testConfig, type TestServer } from './support/server.js';
import { TcpProxy } from './support/tcp-proxy.js';

// Porter's early API (seed 000) through HTTP: sign-up, login and logout with the `porter` session cookie, each user's
// own kubeconfig and clusters, Porter's errors, its document, and who may call what.

let server: TestServer;
let rest: Rest;
beforeAll(async () => {
  server = await startTestServer({ SIGNUP_ENABLED: 'true' });
  rest = restClient(server);
});
afterAll(() => server?.stop());

/** A Porter client's session: its user's number and email, and the cookie a login or a sign-up set. */
interface Session {
  id: number;
  email: string;
  headers: { cookie: string };
}

const PASSWORD = 'porter-password-1';
const FORBIDDEN = { status: 403, text: 'Forbidden\n', type: 'text/plain; charset=utf-8' };
const DECODE = 'could not process request';

const forbiddenOf = (res: RestResponse) => ({ status: res.status, text: res.text, type: res.headers.get('content-type') });
const cookieOf = (res: RestResponse) => /^porter=([^;]*)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
const sessionOf = (res: RestResponse<{ id: number; email: string }>): Session => ({ id: res.body.id, email: res.body.email, headers: { cookie: `porter=${cookieOf(res)}` } });
const newEmail = () => `porter-${unique()}@example.com`;

async function signUp(email = newEmail(), password = PASSWORD): Promise<Session> {
  const res = await rest('POST', '/api/users', { body: { email, password } });
  expect(res.status).toBe(201);
  return sessionOf(res);
}

async function login(email: string, password = PASSWORD): Promise<Session> {
  const res = await rest('POST', '/api/login', { body: { email, password } });
  expect(res.status).toBe(200);
  return sessionOf(res);
}

const userIdOf = async (email: string) => (await server.sql<{ id: string }>('select id from users where email = ?', [email]))[0]?.id;

/** Three contexts on two clusters, and one whose cluster is missing (not usable); credentials in the users. */
const KUBECONFIG = `apiVersion: v1
kind: Config
current-context: east-admin
clusters:
- name: east
  cluster: { server: "https://east.example.com:6443", certificate-authority-data: Q0EtREFUQQ== }
- name: west
  cluster: { server: "https://west.example.com" }
contexts:
- name: east-admin
  context: { cluster: east, user: admin }
- name: east-dev
  context: { cluster: east, user: dev }
- name: west-admin
  context: { cluster: west, user: admin }
- name: orphan
  context: { cluster: nowhere, user: admin }
users:
- name: admin
  user: { token: admin-token-secret-1 }
- name: dev
  user: { token: dev-token-secret-2 }
`;
const EAST_ADMIN = { name: 'east', server: 'https://east.example.com:6443', context: 'east-admin', user: 'admin' };
const EAST_DEV = { name: 'east', server: 'https://east.example.com:6443', context: 'east-dev', user: 'dev' };
const WEST_ADMIN = { name: 'west', server: 'https://west.example.com', context: 'west-admin', user: 'admin' };

describe('POST /api/users', () => {
  test('201: the user is created and logged in (the `porter` cookie), and told its id', async () => {
    const email = newEmail();
    const res = await rest('POST', '/api/users', { body: { email, password: PASSWORD } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(Number), email });
    expect(res.headers.get('set-cookie')).toMatch(/^porter=[\w-]+\.[\w-]+; Path=\/; Max-Age=2592000; HttpOnly; SameSite=Lax$/);
    const [user] = await server.sql<{ id: string; username: string; display_name: string; password_hash: string; is_admin: boolean }>(
      'select id, username, display_name, password_hash, is_admin from users where email = ?',
      [email],
    );
    expect(user).toMatchObject({ username: email.split('@')[0], display_name: email, is_admin: false });
    expect(user.password_hash).toMatch(/^\$argon2id\$/);
    expect(await countRows(server, 'user_sessions', 'user_id = ? and revoked_at is null', [user.id])).toBe(1);
    expect(await countRows(server, 'audit_records', "operation = 'signUp' and target_id = ?", [user.id])).toBe(1);
    const me = await rest('GET', `/api/users/${res.body.id}`, { headers: sessionOf(res).headers });
    expect(me.body).toEqual({ id: res.body.id, email, clusters: [], rawKubeConfig: '' });
  });

  test("the username is made from the email's local part, numbered when taken", async () => {
    const local = `ann.${unique()}`;
    await signUp(`${local}@one.example.com`);
    await signUp(`${local}@two.example.com`);
    await signUp(`${local}@three.example.com`);
    const rows = await server.sql<{ username: string }>('select username from users where email like ? order by created_at', [`${local}@%`]);
    expect(rows.map((r) => r.username)).toEqual([local, `${local}-2`, `${local}-3`]);
  });

  test.each([
    ['nothing', {}, ['required validation failed', 'required validation failed']],
    ['an email that is not one', { email: 'notanemail', password: PASSWORD }, ['email validation failed']],
    ['empty and short', { email: '', password: 'short' }, ['required validation failed', 'min validation failed']],
    ['null email', { email: null, password: PASSWORD }, ['required validation failed']],
    ['too long', { email: `${'a'.repeat(250)}@example.com`, password: 'p'.repeat(256) }, ['max validation failed', 'max validation failed']],
  ])('422 601 for %s: one "<rule> validation failed" per field; nothing written', async (_, body, errors) => {
    const res = await expectUnchanged(server, ['users', 'user_sessions', 'audit_records'], () => rest('POST', '/api/users', { body }));
    expect({ status: res.status, body: res.body, cookie: res.headers.get('set-cookie') }).toEqual({ status: 422, body: { code: 601, errors }, cookie: null });
  });

  test.each([
    ['a value of the wrong type', { email: 5, password: PASSWORD }],
    ['a body that is not an object', ['a@example.com']],
    ['a body that is not JSON', '{"email": '],
  ])('400 600 for %s; nothing written', async (_, body) => {
    const res = await expectUnchanged(server, ['users', 'user_sessions'], () => rest('POST', '/api/users', { body }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 600, errors: [DECODE, expect.any(String)] });
  });

  test('422 "Email already taken", whatever its case; nothing written', async () => {
    const { email } = await signUp();
    const res = await expectUnchanged(server, ['users', 'user_sessions', 'audit_records'], () => rest('POST', '/api/users', { body: { email: email.toUpperCase(), password: PASSWORD } }));
    expect({ status: res.status, body: res.body }).toEqual({ status: 422, body: { code: 601, errors: ['Email already taken'] } });
  });

  test('a stale cookie does not stand in the way', async () => {
    const res = await rest('POST', '/api/users', { headers: { cookie: 'porter=stale.cookie' }, body: { email: newEmail(), password: PASSWORD } });
    expect(res.status).toBe(201);
  });

  test('403 `Forbidden` when sign-up is disabled (SIGNUP_ENABLED), nothing written', async () => {
    const closed = await startTestServer();
    try {
      const res = await expectUnchanged(closed, ['users', 'user_sessions', 'audit_records'], () => restClient(closed)('POST', '/api/users', { body: { email: newEmail(), password: PASSWORD } }));
      expect(forbiddenOf(res)).toEqual(FORBIDDEN);
    } finally {
      await closed.stop();
    }
  });
});

describe('POST /api/login', () => {
  test('200: a new session in the cookie, and who logged in, with the id its sign-up told', async () => {
    const { id, email } = await signUp();
    const res = await rest('POST', '/api/login', { body: { email: email.toUpperCase(), password: PASSWORD } });
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { id, email } });
    expect(res.headers.get('set-cookie')).toMatch(/^porter=[\w-]+\.[\w-]+; Path=\/; Max-Age=2592000; HttpOnly; SameSite=Lax$/);
    expect(await countRows(server, 'user_sessions', 'user_id = ? and revoked_at is null', [await userIdOf(email)])).toBe(2);
    expect((await rest('GET', `/api/users/${id}`, { headers: sessionOf(res).headers })).status).toBe(200);
  });

  test('a Berth username in `email` logs in too', async () => {
    expect((await rest('POST', '/api/login', { body: { email: 'admin', password: ADMIN_PASSWORD } })).status).toBe(200);
  });

  test('401 in the same words for a wrong password and an unknown email; no session written', async () => {
    const { email } = await signUp();
    for (const body of [
      { email, password: 'wrong-password' },
      { email: newEmail(), password: PASSWORD },
    ]) {
      const res = await expectUnchanged(server, ['user_sessions'], () => rest('POST', '/api/login', { body }));
      expect({ status: res.status, body: res.body, cookie: res.headers.get('set-cookie') }).toEqual({
        status: 401,
        body: { code: 401, errors: ['Invalid username, email or password'] },
        cookie: null,
      });
    }
  });

  test('401 for an inactive user', async () => {
    const { email } = await signUp();
    await server.sql('update users set is_active = false where email = ?', [email]);
    const res = await rest('POST', '/api/login', { body: { email, password: PASSWORD } });
    expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: { code: 401, errors: ['User is inactive'] } });
  });

  test('422 for a missing field, 400 for a body that is not JSON', async () => {
    const missing = await rest('POST', '/api/login', { body: { email: 'someone@example.com' } });
    expect({ status: missing.status, body: missing.body }).toEqual({ status: 422, body: { code: 601, errors: ['required validation failed'] } });
    const broken = await rest('POST', '/api/login', { body: 'email=a' });
    expect({ status: broken.status, code: broken.body.code }).toEqual({ status: 400, code: 600 });
  });

  test('429 with Retry-After once an email has failed too often, as every Berth login is throttled', async () => {
    const { email } = await signUp();
    let res: RestResponse | undefined;
    // five failures are free, the sixth makes the next attempt wait
    for (let attempt = 0; attempt < 7; attempt++) res = await rest('POST', '/api/login', { body: { email, password: 'wrong-password' } });
    expect(res!.status).toBe(429);
    expect(res!.body).toEqual({ code: 429, errors: [expect.stringMatching(/too many/i)] });
    expect(Number(res!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('POST /api/logout', () => {
  test('200 with no body: the session ends in the database, the cookie is cleared and no longer works', async () => {
    const session = await signUp();
    const res = await rest('POST', '/api/logout', { headers: session.headers });
    expect({ status: res.status, text: res.text }).toEqual({ status: 200, text: '' });
    expect(res.headers.get('set-cookie')).toBe('porter=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax');
    expect(await countRows(server, 'user_sessions', 'user_id = ? and revoked_at is null', [await userIdOf(session.email)])).toBe(0);
    expect(forbiddenOf(await rest('GET', `/api/users/${session.id}`, { headers: session.headers }))).toEqual(FORBIDDEN);
    // Porter let an ended session log out again; Berth's session has ended
    expect(forbiddenOf(await rest('POST', '/api/logout', { headers: session.headers }))).toEqual(FORBIDDEN);
  });

  test('403 `Forbidden` without a session, or with a cookie that is not one', async () => {
    expect(forbiddenOf(await rest('POST', '/api/logout'))).toEqual(FORBIDDEN);
    expect(forbiddenOf(await rest('POST', '/api/logout', { headers: { cookie: 'porter=not-a-session' } }))).toEqual(FORBIDDEN);
  });
});

describe('GET /api/users/{id}, PUT and the clusters', () => {
  test('PUT 204 keeps the kubeconfig encrypted and the allowed clusters; GET shows them to the user, in file order', async () => {
    const session = await signUp();
    const path = `/api/users/${session.id}`;
    const { result: res, audited } = await withAudit(server, () => rest('PUT', path, { headers: session.headers, body: { rawKubeConfig: KUBECONFIG, allowedClusters: ['east', 'east', 'gone'] } }));
    expect({ status: res.status, text: res.text, audited }).toEqual({ status: 204, text: '', audited: true });
    const [row] = await server.sql<{ raw_kubeconfig_encrypted: string; allowed_clusters: string[] }>('select raw_kubeconfig_encrypted, allowed_clusters from users where email = ?', [session.email]);
    expect(row.raw_kubeconfig_encrypted).toMatch(/^v1\./);
    expect(row.raw_kubeconfig_encrypted).not.toContain('admin-token-secret-1');
    expect(row.allowed_clusters).toEqual(['east', 'gone']);
    const [audit] = await server.sql<{ after: unknown }>("select after from audit_records where operation = 'setKubeconfig' and target_id = ?", [await userIdOf(session.email)]);
    expect(JSON.stringify(audit.after)).not.toMatch(/token-secret|v1\./);

    // two contexts on the allowed cluster both count: Porter filters by cluster name
    expect((await rest('GET', path, { headers: session.headers })).body).toEqual({ id: session.id, email: session.email, clusters: [EAST_ADMIN, EAST_DEV], rawKubeConfig: KUBECONFIG });
    expect((await rest('GET', `${path}/clusters`, { headers: session.headers })).body).toEqual({ clusters: [EAST_ADMIN, EAST_DEV] });
    expect((await rest('GET', `${path}/clusters/all`, { headers: session.headers })).body).toEqual({ clusters: [EAST_ADMIN, EAST_DEV, WEST_ADMIN] });

    // a second PUT replaces both
    const other = KUBECONFIG.replace('west.example.com', 'west2.example.com');
    expect((await rest('PUT', path, { headers: session.headers, body: { rawKubeConfig: other, allowedClusters: [] } })).status).toBe(204);
    expect((await rest('GET', path, { headers: session.headers })).body).toMatchObject({ clusters: [], rawKubeConfig: other });
    expect((await rest('GET', `${path}/clusters/all`, { headers: session.headers })).body.clusters[2]).toEqual({ ...WEST_ADMIN, server: 'https://west2.example.com' });
  });

  test('before any kubeconfig: no clusters', async () => {
    const session = await signUp();
    expect((await rest('GET', `/api/users/${session.id}/clusters`, { headers: session.headers })).body).toEqual({ clusters: [] });
    expect((await rest('GET', `/api/users/${session.id}/clusters/all`, { headers: session.headers })).body).toEqual({ clusters: [] });
  });

  test.each([
    ['not YAML', '\tkind: [Config'],
    ['not a kubeconfig', 'foo: bar\n'],
    ['a cluster without a server', 'kind: Config\nclusters: [{name: c, cluster: {}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n'],
  ])('PUT 400 600 for a kubeconfig that is %s, saying where but not quoting it; nothing written', async (_, rawKubeConfig) => {
    const session = await signUp();
    const res = await expectUnchanged(server, ['users', 'audit_records'], () =>
      rest('PUT', `/api/users/${session.id}`, { headers: session.headers, body: { rawKubeConfig, allowedClusters: ['c'] } }),
    );
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 600, errors: [DECODE, expect.stringMatching(/^rawKubeConfig \(body\): /)] });
    expect(res.body.errors[1]).not.toContain('[Config');
  });

  test.each([
    ['nothing', {}, 422, { code: 601, errors: ['required validation failed', 'required validation failed'] }],
    ['an empty kubeconfig', { rawKubeConfig: '', allowedClusters: [] }, 422, { code: 601, errors: ['required validation failed'] }],
    ['a cluster name too long', { rawKubeConfig: KUBECONFIG, allowedClusters: ['c'.repeat(256)] }, 422, { code: 601, errors: ['max validation failed'] }],
    ['allowedClusters not a list', { rawKubeConfig: KUBECONFIG, allowedClusters: 'east' }, 400, { code: 600, errors: [DECODE, expect.any(String)] }],
  ])('PUT refuses %s; nothing written', async (_, body, status, error) => {
    const session = await signUp();
    const res = await expectUnchanged(server, ['users', 'audit_records'], () => rest('PUT', `/api/users/${session.id}`, { headers: session.headers, body }));
    expect({ status: res.status, body: res.body }).toEqual({ status, body: error });
  });

  test("403 `Forbidden` for another user's id or no one's, site admins included, and without this API's session; nothing written", async () => {
    const [owner, other] = [await signUp(), await signUp()];
    const admin = await login('admin@example.com', ADMIN_PASSWORD);
    for (const headers of [other.headers, admin.headers, {}, { cookie: 'porter=not-a-session' }, await server.adminAuth()]) {
      expect(forbiddenOf(await rest('GET', `/api/users/${owner.id}`, { headers }))).toEqual(FORBIDDEN);
      const put = await expectUnchanged(server, ['users', 'audit_records'], () => rest('PUT', `/api/users/${owner.id}`, { headers, body: { rawKubeConfig: KUBECONFIG, allowedClusters: [] } }));
      expect(forbiddenOf(put)).toEqual(FORBIDDEN);
    }
    expect(forbiddenOf(await rest('GET', '/api/users/999999999', { headers: owner.headers }))).toEqual(FORBIDDEN);
  });

  test('400 600 for an id that is not a number', async () => {
    const session = await signUp();
    for (const id of ['abc', '0', '1.5', '99999999999']) {
      const res = await rest('GET', `/api/users/${id}/clusters`, { headers: session.headers });
      expect([id, res.status, res.body]).toEqual([id, 400, { code: 600, errors: [DECODE, expect.stringMatching(/^id \(path parameter\): /)] }]);
    }
  });

  test('500 "internal server error" when the stored kubeconfig cannot be read, and nothing of why', async () => {
    const session = await signUp();
    await rest('PUT', `/api/users/${session.id}`, { headers: session.headers, body: { rawKubeConfig: KUBECONFIG, allowedClusters: [] } });
    await server.sql("update users set raw_kubeconfig_encrypted = 'v1.k1.AAAA.BBBB.CCCC' where email = ?", [session.email]);
    const res = await rest('GET', `/api/users/${session.id}`, { headers: session.headers });
    expect({ status: res.status, body: res.body }).toEqual({ status: 500, body: { code: 500, errors: ['internal server error'] } });
  });
});

describe('DELETE /api/users/{id}', () => {
  test('204 with the right password: the user, its sessions and its cookie are gone; audited', async () => {
    const session = await signUp();
    const userId = await userIdOf(session.email);
    const { result: res, audited } = await withAudit(server, () => rest('DELETE', `/api/users/${session.id}`, { headers: session.headers, body: { password: PASSWORD } }));
    expect({ status: res.status, text: res.text, audited }).toEqual({ status: 204, text: '', audited: true });
    expect(await countRows(server, 'users', 'id = ?', [userId])).toBe(0);
    expect(await countRows(server, 'user_sessions', 'user_id = ?', [userId])).toBe(0);
    expect(forbiddenOf(await rest('GET', `/api/users/${session.id}`, { headers: session.headers }))).toEqual(FORBIDDEN);
    // its number is not given to anyone else
    expect((await signUp()).id).not.toBe(session.id);
  });

  test('422 601 for a wrong password (Porter never checked it) or none; nothing written', async () => {
    const session = await signUp();
    for (const [body, errors] of [
      [{ password: 'wrong-password' }, ['password (body): is not correct']],
      [{}, ['required validation failed']],
      [{ password: 'p'.repeat(256) }, ['max validation failed']],
    ] as const) {
      const { result: res, written } = await withWrites(server, () => rest('DELETE', `/api/users/${session.id}`, { headers: session.headers, body }));
      expect({ status: res.status, body: res.body, written }).toEqual({ status: 422, body: { code: 601, errors }, written: [] });
    }
  });

  test("422 for a site admin, and for a user owning envs, as GraphQL's deleteUser refuses them; nothing written", async () => {
    const admin = await login('admin@example.com', ADMIN_PASSWORD);
    const owner = await signUp();
    await server.sql('insert into envs (id, name, owner_id) values (gen_random_uuid(), ?, ?)', [`Owned ${unique()}`, await userIdOf(owner.email)]);
    for (const [session, password, error] of [
      [admin, ADMIN_PASSWORD, 'A site admin cannot be deleted; take its admin flag away first'],
      [owner, PASSWORD, expect.stringMatching(/^The user still owns envs: Owned /)],
    ] as const) {
      const { result: res, written } = await withWrites(server, () => rest('DELETE', `/api/users/${session.id}`, { headers: session.headers, body: { password } }));
      expect({ status: res.status, body: res.body, written }).toEqual({ status: 422, body: { code: 601, errors: [error] }, written: [] });
    }
  });

  test("403 `Forbidden` for another user's id, even with its password; nothing written", async () => {
    const [owner, other] = [await signUp(), await signUp()];
    const { result: res, written } = await withWrites(server, () => rest('DELETE', `/api/users/${owner.id}`, { headers: other.headers, body: { password: PASSWORD } }));
    expect({ ...forbiddenOf(res), written }).toEqual({ ...FORBIDDEN, written: [] });
  });
});

// through a relay the test cuts; the embedded engine lives in the process and cannot go away
(engineName() === 'postgres' ? test : test.skip)('500 "could not read from database" while the database is out of reach, for a session and for a login', async () => {
  const db = await createTestDatabase();
  const url = new URL(db.target.kind === 'postgres' ? db.target.url : '');
  const proxy = await TcpProxy.reserve({ host: url.hostname, port: Number(url.port || 5432) });
  await proxy.open();
  url.host = `127.0.0.1:${proxy.port}`;
  // no credential cache: every request asks the database who is calling
  const berth = await startBerth(testConfig({ AUTH_CACHE_SECONDS: '0', SIGNUP_ENABLED: 'true' }), { database: { kind: 'postgres', url: url.toString() }, print: () => {} });
  try {
    const away = restClient({ berth });
    const session = sessionOf(await away('POST', '/api/users', { body: { email: newEmail(), password: PASSWORD } }));
    await proxy.cut();
    for (const res of [await away('GET', `/api/users/${session.id}`, { headers: session.headers }), await away('POST', '/api/login', { body: { email: session.email, password: PASSWORD } })]) {
      expect({ status: res.status, body: res.body }).toEqual({ status: 500, body: { code: 500, errors: ['could not read from database'] } });
    }
  } finally {
    await proxy.open();
    await berth.stop();
    await proxy.cut();
    await db.drop();
  }
});

describe('paths', () => {
  test("an unknown path under /api is Porter's 602; the other APIs under /api keep their own answers", async () => {
    const res = await rest('GET', '/api/nothing-here');
    expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: { code: 602, errors: ['could not find requested object'] } });
    const platz = await rest('GET', '/api/v2/unknown');
    expect({ status: platz.status, body: platz.body }).toEqual({ status: 404, body: { message: 'No route GET /api/v2/unknown' } });
  });
});

/** Porter's routes among everything served: under /api, but not the other APIs there (Platz's /api/v2, Kubportal's /api/v1.4.0 and GET /api/, Lighthouse's /api/v0.2). */
const porterRoutes = () =>
  server.berth.httpRoutes
    .filter((r) => r.url.startsWith('/api/') && !/^\/api\/v\d/.test(r.url) && r.url !== '/api/' && r.method !== 'HEAD')
    .filter((r) => r.url !== '/api/openapi.json' && !r.url.startsWith('/api/docs'))
    .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`)
    .sort();

describe('the OpenAPI document', () => {
  test('/api/openapi.json is a valid OpenAPI 3.1 document naming every route served, and no other', async () => {
    const { status, body: document } = await rest('GET', '/api/openapi.json');
    expect(status).toBe(200);
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    const documented = Object.entries(document.paths as Record<string, object>)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(porterRoutes());
    expect(documented).toHaveLength(8);
  });

  test("the cookie is its credential, the login and sign-up are public, and each route documents Porter's answers", async () => {
    const { body: document } = await rest('GET', '/api/openapi.json');
    expect(document.components.securitySchemes).toEqual({ porterSession: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'porter' }) });
    expect(document.paths['/api/login'].post.security).toEqual([]);
    expect(document.paths['/api/users'].post.security).toEqual([]);
    expect(Object.keys(document.paths['/api/users'].post.responses).sort()).toEqual(['201', '400', '403', '422', '500']);
    expect(Object.keys(document.paths['/api/login'].post.responses).sort()).toEqual(['200', '400', '401', '422', '429', '500']);
    expect(Object.keys(document.paths['/api/logout'].post.responses).sort()).toEqual(['200', '403', '500']);
    expect(Object.keys(document.paths['/api/users/{id}'].get.responses).sort()).toEqual(['200', '400', '403', '500']);
    expect(Object.keys(document.paths['/api/users/{id}'].put.responses).sort()).toEqual(['204', '400', '403', '422', '500']);
    expect(Object.keys(document.paths['/api/users/{id}'].delete.responses).sort()).toEqual(['204', '400', '403', '422', '500']);
    expect(document.paths['/api/users/{id}'].put.responses['422'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect(document.components.schemas.Error.properties).toHaveProperty('errors');
    expect(document.paths['/api/users/{id}/clusters'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Clusters' });
  });
});

/**
 * Who may call what. Callers: none, a cookie that is not a session, Platz's credential (not this API's), the user the
 * path names, another user, a site admin (another user too). Each call is made on a fresh user (logout and delete use
 * up a session or the user); a refused call writes nothing.
 */
const CALLERS = ['anonymous', 'badCookie', 'platzBearer', 'self', 'otherUser', 'siteAdmin'] as const;
type CallerKind = (typeof CALLERS)[number];

interface MatrixRow {
  /** a body that would be accepted */
  body?: (target: Session) => unknown;
  expected: Record<CallerKind, number>;
}

const everyone = (status: number) => Object.fromEntries(CALLERS.map((c) => [c, status])) as Record<CallerKind, number>;
const ownOnly = (status: number): Record<CallerKind, number> => ({ ...everyone(403), self: status });

const MATRIX: Record<string, MatrixRow> = {
  'POST /api/users': { body: () => ({ email: newEmail(), password: PASSWORD }), expected: everyone(201) },
  'POST /api/login': { body: (target) => ({ email: target.email, password: PASSWORD }), expected: everyone(200) },
  // the caller's own session, whoever it is
  'POST /api/logout': { expected: { ...everyone(200), anonymous: 403, badCookie: 403, platzBearer: 403 } },
  'GET /api/users/{id}': { expected: ownOnly(200) },
  'GET /api/users/{id}/clusters': { expected: ownOnly(200) },
  'GET /api/users/{id}/clusters/all': { expected: ownOnly(200) },
  'PUT /api/users/{id}': { body: () => ({ rawKubeConfig: KUBECONFIG, allowedClusters: ['west'] }), expected: ownOnly(204) },
  'DELETE /api/users/{id}': { body: () => ({ password: PASSWORD }), expected: ownOnly(204) },
};

test('every route served under /api has a row in the matrix, and every row a served route', () => {
  expect(Object.keys(MATRIX).sort()).toEqual(porterRoutes());
});

describe.each(Object.entries(MATRIX))('%s', (route, row) => {
  test.each(CALLERS.map((c) => [c]))('as %s', async (caller) => {
    const target = await signUp();
    const headers: Record<CallerKind, Record<string, string>> = {
      anonymous: {},
      badCookie: { cookie: 'porter=not.a-session' },
      platzBearer: await server.adminAuth(),
      self: target.headers,
      otherUser: (await signUp()).headers,
      siteAdmin: (await login('admin@example.com', ADMIN_PASSWORD)).headers,
    };
    const [method, path] = route.split(' ');
    const call = () => rest(method, path.replace('{id}', String(target.id)), { headers: headers[caller], body: row.body?.(target) });
    const expected = row.expected[caller];
    const { result: res, written } = await withWrites(server, call);
    expect([res.status, res.status === 403 ? res.text : '']).toEqual([expected, expected === 403 ? 'Forbidden\n' : '']);
    if (expected === 403) expect(written).toEqual([]);
  });
});
