import { Validator } from '@seriousme/openapi-schema-validator';
import { hashSecret } from '../src/auth/opaque-token.js';
import { loadConfig } from '../src/config/config.js';
import { StartupError } from '../src/errors/startup-error.js';
import { expectUnchanged, withAudit, withWrites } from './support/assertions.js';
import { seedFleet, unique } from './support/fixtures.js';
import { MISSING, restClient, type Rest } from './support/rest.js';
import { startTestServer, type TestServer } from './support/server.js';
import { STORJ_TOKEN, storjClient, storjMatrixRows, type Storj } from './support/storj.js';

let server: TestServer;
let storj: Storj;
let rest: Rest;
beforeAll(async () => {
  server = await startTestServer({ BERTH_STORJ_ADMIN_TOKEN: STORJ_TOKEN });
  storj = storjClient(server);
  rest = restClient(server);
});
afterAll(() => server?.stop());

const PASSWORD = 'password-1234';
/** Storj's error envelope, with an empty detail. */
const storjError = (error: string | RegExp) => ({ error: typeof error === 'string' ? error : expect.stringMatching(error), detail: '' });

async function newUser(fields: { fullName?: string; shortName?: string } = {}): Promise<{ id: string; email: string }> {
  const email = `person-${unique()}@example.com`;
  const res = await storj('POST', '/users', { body: { email, fullName: 'A Person', password: PASSWORD, ...fields } });
  expect(res.status).toBe(200);
  return { id: res.body.id, email };
}

async function newProject(ownerId?: string): Promise<{ id: string; name: string; ownerId: string }> {
  const owner = ownerId ?? (await newUser()).id;
  const name = `project-${unique()}`;
  const res = await storj('POST', '/projects', { body: { ownerId: owner, projectName: name } });
  expect(res.status).toBe(200);
  return { id: res.body.projectId, name, ownerId: owner };
}

async function newKey(projectId: string, name = `key-${unique()}`): Promise<{ name: string; key: string }> {
  const res = await storj('POST', `/projects/${projectId}/apikeys`, { body: { name } });
  expect(res.status).toBe(200);
  return { name, key: res.body.apikey };
}

/** The latest audit record of a target. */
const auditOf = async (targetId: string) =>
  (await server.sql<{ actor_kind: string; actor_id: string | null; operation: string; request_id: string }>(`select actor_kind, actor_id, operation, request_id from audit_records where target_id = ? order by created_at desc limit 1`, [targetId]))[0];

const USER_TABLES = ['users', 'envs', 'env_user_permissions', 'audit_records'];
const PROJECT_TABLES = ['envs', 'env_user_permissions', 'env_api_keys', 'audit_records'];

/** A refused call: its request, the status and error expected. */
type Refusal = [method: string, path: string, options: { body?: unknown; query?: Record<string, string | number> }, status: number, error: string | RegExp];

/** Each call is refused as expected, in the Storj envelope, and writes nothing to `tables`. */
async function expectRefusals(tables: readonly string[], refusals: readonly Refusal[]): Promise<void> {
  for (const [method, path, options, status, error] of refusals) {
    const res = await expectUnchanged(server, tables, () => storj(method, path, options));
    expect([method, path, options, res.status, res.body]).toEqual([method, path, options, status, storjError(error)]);
  }
}

describe('POST /storj/api/users', () => {
  test("a Berth user with Berth's rules: a username from the email, the password hashed; audited as storj-admin under the request's id", async () => {
    const email = `Alice.${unique()}@Mail.test`;
    const res = await storj('POST', '/users', { body: { email, fullName: 'Alice Test', password: PASSWORD, shortName: 'Ali', partnerId: 'ignored' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: expect.any(String), email, fullName: 'Alice Test', shortName: 'Ali', passwordHash: '' });
    const [row] = await server.sql<{ username: string; display_name: string; first_name: string; password_hash: string; is_admin: boolean }>(
      `select username, display_name, first_name, password_hash, is_admin from users where id = ?`,
      [res.body.id],
    );
    expect(row).toMatchObject({ username: email.split('@')[0].toLowerCase(), display_name: 'Alice Test', first_name: 'Ali', is_admin: false });
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(await auditOf(res.body.id)).toEqual({ actor_kind: 'system', actor_id: null, operation: 'createUser', request_id: `storj-admin:${res.headers.get('x-request-id')}` });
    // the new user signs in to Berth with its email and password
    const login = await server.gql<{ login: { accessToken: string } }, object>(`mutation { login(usernameOrEmail: "${email}", password: "${PASSWORD}") { accessToken } }`);
    expect(login.data?.login.accessToken).toEqual(expect.any(String));
  });

  test('400 for a bad email, a short password, no full name; 409 for an email taken in any case; nothing written', async () => {
    const { email } = await newUser();
    await expectRefusals(USER_TABLES, [
      ['POST', '/users', { body: { email: 'not-an-email', fullName: 'X', password: PASSWORD } }, 400, 'email: must be an email address'],
      ['POST', '/users', { body: { email: `x-${unique()}@example.com`, fullName: 'X', password: 'short' } }, 400, 'password: must be at least 8 characters long'],
      ['POST', '/users', { body: { email: `x-${unique()}@example.com`, fullName: ' ', password: PASSWORD } }, 400, 'fullName: must not be empty'],
      ['POST', '/users', { body: { email: `x-${unique()}@example.com`, password: PASSWORD } }, 400, /^fullName: /],
      ['POST', '/users', { body: { email: email.toUpperCase(), fullName: 'X', password: PASSWORD } }, 409, `A user with the email ${email.toUpperCase()} already exists`],
    ]);
  });
});

describe('GET /storj/api/users/{email}', () => {
  test('the user, found by its email in any case, and the projects (envs) it owns, oldest first', async () => {
    const user = await newUser();
    const first = await newProject(user.id);
    const second = await newProject(user.id);
    await newProject();
    await server.sql(`update envs set description = 'Project to store data.' where id = ?`, [first.id]);
    const res = await storj('GET', `/users/${user.email.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      user: { id: user.id, fullName: 'A Person', email: user.email, projectLimit: 0 },
      projects: [
        { id: first.id, name: first.name, description: 'Project to store data.', ownerId: user.id },
        { id: second.id, name: second.name, description: '', ownerId: user.id },
      ],
    });
  });

  test('404 for an email no user has', async () => {
    const res = await storj('GET', '/users/nobody@example.com');
    expect([res.status, res.body]).toEqual([404, storjError('User not found')]);
  });
});

describe('PUT /storj/api/users/{email}', () => {
  test('changes the names, email and project limit; empty and zero values are left as they are', async () => {
    const user = await newUser({ shortName: 'Al' });
    const newEmail = `renamed-${unique()}@example.com`;
    const res = await storj('PUT', `/users/${user.email}`, { body: { fullName: 'Alice Renamed', email: newEmail, projectLimit: 200 } });
    expect([res.status, res.text]).toEqual([200, '']);
    const unchanged = await storj('PUT', `/users/${newEmail}`, { body: { fullName: '', shortName: '', email: '', projectLimit: 0 } });
    expect(unchanged.status).toBe(200);
    const [row] = await server.sql(`select email, display_name, first_name, project_limit from users where id = ?`, [user.id]);
    expect(row).toEqual({ email: newEmail, display_name: 'Alice Renamed', first_name: 'Al', project_limit: 200 });
    expect((await storj('GET', `/users/${newEmail}`)).body.user).toEqual({ id: user.id, fullName: 'Alice Renamed', email: newEmail, projectLimit: 200 });
    expect((await auditOf(user.id)).operation).toBe('updateUser');
  });

  test('404 for an unknown email, 409 for an email another user has, 400 for a negative limit; nothing written', async () => {
    const [user, other] = [await newUser(), await newUser()];
    await expectRefusals(USER_TABLES, [
      ['PUT', '/users/nobody@example.com', { body: { fullName: 'X' } }, 404, 'User not found'],
      ['PUT', `/users/${user.email}`, { body: { email: other.email } }, 409, `A user with the email ${other.email} already exists`],
      ['PUT', `/users/${user.email}`, { body: { projectLimit: -1 } }, 400, /^projectLimit: /],
      ['PUT', `/users/${user.email}`, { body: { email: 'not-an-email' } }, 400, 'email: must be an email address'],
    ]);
  });
});

describe('DELETE /storj/api/users/{email}', () => {
  test('409 while the user owns a project; then the user goes, its sessions with it, its email free again', async () => {
    const user = await newUser();
    const project = await newProject(user.id);
    const login = await server.gql<{ login: { accessToken: string } }, object>(`mutation { login(usernameOrEmail: "${user.email}", password: "${PASSWORD}") { accessToken } }`);
    const session = { authorization: `Bearer ${login.data!.login.accessToken}` };
    const me = () => server.gql<{ me: { __typename: string } }, object>('{ me { __typename } }', {}, session);
    expect((await me()).data?.me.__typename).toBe('User');
    const refused = await expectUnchanged(server, USER_TABLES, () => storj('DELETE', `/users/${user.email}`));
    expect([refused.status, refused.body]).toEqual([409, storjError(`The user still owns envs: ${project.name}`)]);
    expect((await storj('DELETE', `/projects/${project.id}`)).status).toBe(200);
    const res = await storj('DELETE', `/users/${user.email}`);
    expect([res.status, res.text]).toEqual([200, '']);
    expect(await server.sql(`select id from users where id = ?`, [user.id])).toEqual([]);
    expect(await server.sql(`select id from env_user_permissions where user_id = ?`, [user.id])).toEqual([]);
    expect(await server.sql(`select id from user_sessions where user_id = ?`, [user.id])).toEqual([]);
    expect((await me()).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await auditOf(user.id)).toMatchObject({ actor_kind: 'system', operation: 'deleteUser', request_id: expect.stringMatching(/^storj-admin:/) });
    expect((await storj('GET', `/users/${user.email}`)).status).toBe(404);
    expect((await storj('POST', '/users', { body: { email: user.email, fullName: 'Again', password: PASSWORD } })).status).toBe(200);
  });

  test("404 for an unknown email; 409 for a site admin, whom Berth's own admin needs", async () => {
    const missing = await storj('DELETE', '/users/nobody@example.com');
    expect([missing.status, missing.body]).toEqual([404, storjError('User not found')]);
    const admin = await expectUnchanged(server, USER_TABLES, () => storj('DELETE', '/users/admin@example.com'));
    expect([admin.status, admin.body]).toEqual([409, storjError('A site admin cannot be deleted; take its admin flag away first')]);
  });
});

describe('POST /storj/api/projects', () => {
  test('an env owned by the user, who becomes its Admin', async () => {
    const owner = await newUser();
    const name = `project-${unique()}`;
    const res = await storj('POST', '/projects', { body: { ownerId: owner.id, projectName: name } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ projectId: expect.any(String) });
    const [env] = await server.sql(`select name, owner_id from envs where id = ?`, [res.body.projectId]);
    expect(env).toEqual({ name, owner_id: owner.id });
    expect(await server.sql(`select user_id, role from env_user_permissions where env_id = ?`, [res.body.projectId])).toEqual([{ user_id: owner.id, role: 'Admin' }]);
    expect(await auditOf(res.body.projectId)).toMatchObject({ actor_kind: 'system', operation: 'createEnv' });
  });

  test('400 without a name or with an owner that is no id, 404 for an unknown owner, 409 for a name taken; nothing written', async () => {
    const taken = await newProject();
    await expectRefusals(PROJECT_TABLES, [
      ['POST', '/projects', { body: { ownerId: taken.ownerId } }, 400, /^projectName: /],
      ['POST', '/projects', { body: { ownerId: taken.ownerId, projectName: '' } }, 400, 'projectName: must not be empty'],
      ['POST', '/projects', { body: { ownerId: 'nobody', projectName: 'x' } }, 400, /^ownerId: /],
      ['POST', '/projects', { body: { projectName: 'x' } }, 400, /^ownerId: /],
      ['POST', '/projects', { body: { ownerId: MISSING, projectName: `p-${unique()}` } }, 404, 'User not found'],
      ['POST', '/projects', { body: { ownerId: taken.ownerId, projectName: taken.name.toUpperCase() } }, 409, `An env named "${taken.name}" already exists`],
    ]);
  });
});

describe('GET, PUT and DELETE /storj/api/projects/{id}', () => {
  test('GET: the env, its owner and limits', async () => {
    const project = await newProject();
    await storj('POST', `/projects/${project.id}/limit`, { query: { usage: 1000, buckets: 3 } });
    const [{ created_at }] = await server.sql<{ created_at: Date }>(`select created_at from envs where id = ?`, [project.id]);
    const res = await storj('GET', `/projects/${project.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: project.id,
      name: project.name,
      description: '',
      ownerId: project.ownerId,
      createdAt: new Date(created_at).toISOString(),
      storageLimit: 1000,
      bandwidthLimit: null,
      rateLimit: null,
      burstLimit: null,
      maxBuckets: 3,
      segmentLimit: null,
    });
  });

  test('GET: 404 for an unknown project, 400 for an id that is no UUID', async () => {
    expect(await storj('GET', `/projects/${MISSING}`)).toMatchObject({ status: 404, body: storjError('Env not found') });
    expect(await storj('GET', '/projects/nope')).toMatchObject({ status: 400, body: storjError(/^id: /) });
  });

  test('PUT: a new name and description; an empty description is left as it is', async () => {
    const project = await newProject();
    const name = `renamed-${unique()}`;
    const res = await storj('PUT', `/projects/${project.id}`, { body: { projectName: name, description: 'My new awesome description!' } });
    expect([res.status, res.text]).toEqual([200, '']);
    expect((await storj('PUT', `/projects/${project.id}`, { body: { projectName: name, description: '' } })).status).toBe(200);
    expect(await server.sql(`select name, description from envs where id = ?`, [project.id])).toEqual([{ name, description: 'My new awesome description!' }]);
    expect(await auditOf(project.id)).toMatchObject({ actor_kind: 'system', operation: 'updateEnv' });
  });

  test('PUT: 400 without a name, 404 for an unknown project, 409 for a name taken; nothing written', async () => {
    const [project, other] = [await newProject(), await newProject()];
    await expectRefusals(PROJECT_TABLES, [
      ['PUT', `/projects/${project.id}`, { body: { description: 'x' } }, 400, /^projectName: /],
      ['PUT', `/projects/${MISSING}`, { body: { projectName: 'x' } }, 404, 'Env not found'],
      ['PUT', `/projects/${project.id}`, { body: { projectName: other.name } }, 409, `An env named "${other.name}" already exists`],
    ]);
  });

  test('DELETE: 409 while it has API keys, 409 while it has deployments; then the env goes', async () => {
    const project = await newProject();
    const { name } = await newKey(project.id);
    const withKey = await expectUnchanged(server, PROJECT_TABLES, () => storj('DELETE', `/projects/${project.id}`));
    expect([withKey.status, withKey.body]).toEqual([409, storjError(`Env "${project.name}" still has API keys: 1`)]);
    expect((await storj('DELETE', `/projects/${project.id}/apikeys/${name}`)).status).toBe(200);
    const res = await storj('DELETE', `/projects/${project.id}`);
    expect([res.status, res.text]).toEqual([200, '']);
    expect(await server.sql(`select id from envs where id = ?`, [project.id])).toEqual([]);
    expect(await auditOf(project.id)).toMatchObject({ actor_kind: 'system', operation: 'deleteEnv' });

    const fleet = await seedFleet(server.em, { deployments: 1, clusters: 1, kinds: 1, tasksPerDeployment: 0, prefix: `storj-${unique()}` });
    const withDeployment = await expectUnchanged(server, PROJECT_TABLES, () => storj('DELETE', `/projects/${fleet.env.id}`));
    expect(withDeployment.status).toBe(409);
    expect(withDeployment.body.error).toMatch(/still has deployments/);
    expect(await storj('DELETE', `/projects/${MISSING}`)).toMatchObject({ status: 404, body: storjError('Env not found') });
  });
});

describe('GET /storj/api/projects/{id}/usage', () => {
  test('200 while no deployment is in use; 409 while one is enabled and running or being installed; 404', async () => {
    const fleet = await seedFleet(server.em, { deployments: 2, clusters: 1, kinds: 1, tasksPerDeployment: 0, prefix: `usage-${unique()}` });
    const [one, two] = fleet.deployments.map((d) => d.id);
    const usage = () => storj('GET', `/projects/${fleet.env.id}/usage`);
    const setStatus = (id: string, status: string, enabled = true) => server.sql(`update deployments set status = ?, enabled = ? where id = ?`, [status, enabled, id]);
    expect(await usage()).toMatchObject({ status: 200, body: { result: 'no project usage exist' } });
    await setStatus(one, 'Running');
    expect(await usage()).toMatchObject({ status: 409, body: storjError('usage for current month exists') });
    await setStatus(one, 'Running', false);
    await setStatus(two, 'Error');
    expect((await usage()).status).toBe(200);
    await setStatus(two, 'Upgrading');
    expect((await usage()).status).toBe(409);
    expect(await storj('GET', `/projects/${MISSING}/usage`)).toMatchObject({ status: 404, body: storjError('Env not found') });
  });
});

describe('/storj/api/projects/{id}/limit', () => {
  test('GET: every limit 0 until set; POST and PUT set any of them by query parameters, the others stay', async () => {
    const project = await newProject();
    const limit = () => storj('GET', `/projects/${project.id}/limit`);
    expect((await limit()).body).toEqual({ usage: { amount: '0 B', bytes: 0 }, bandwidth: { amount: '0 B', bytes: 0 }, rate: { rps: 0, burst: 0 }, maxBuckets: 0, maxSegments: 0 });
    const post = await storj('POST', `/projects/${project.id}/limit`, { query: { usage: 1_000_000_000_000, bandwidth: 9_000_000, rate: 100, buckets: 10 } });
    expect([post.status, post.text]).toEqual([200, '']);
    const put = await storj('PUT', `/projects/${project.id}/limit`, { query: { burst: 200, segments: 50_000 } });
    expect(put.status).toBe(200);
    expect((await limit()).body).toEqual({
      usage: { amount: '1.0 TB', bytes: 1_000_000_000_000 },
      bandwidth: { amount: '9.0 MB', bytes: 9_000_000 },
      rate: { rps: 100, burst: 200 },
      maxBuckets: 10,
      maxSegments: 50_000,
    });
    expect(await auditOf(project.id)).toMatchObject({ actor_kind: 'system', operation: 'setEnvLimits' });
  });

  test('sizes with a unit, as Storj reads them; amounts as Storj writes them', async () => {
    const project = await newProject();
    await storj('POST', `/projects/${project.id}/limit`, { query: { usage: '1.5TiB', bandwidth: '700GB' } });
    const { body } = await storj('GET', `/projects/${project.id}/limit`);
    expect(body.usage).toEqual({ amount: '1.6 TB', bytes: 1.5 * 1024 ** 4 });
    expect(body.bandwidth).toEqual({ amount: '0.7 TB', bytes: 700_000_000_000 });
  });

  test('400 for a negative or malformed value, and nothing is set; 404 for an unknown project', async () => {
    const project = await newProject();
    const invalid = [
      [{ usage: -1 }, /^usage: must not be negative/],
      [{ rate: 'fast' }, /^rate: must be a whole number/],
      [{ buckets: 1.5 }, /^buckets: must be a whole number/],
      [{ bandwidth: '5 parsecs' }, /^bandwidth: must be a size/],
      [{ buckets: 3, segments: -2 }, /^segments: must not be negative/],
    ] as const;
    await expectRefusals(PROJECT_TABLES, [
      ...['POST', 'PUT'].flatMap((method) => invalid.map(([query, error]): Refusal => [method, `/projects/${project.id}/limit`, { query }, 400, error])),
      ...['GET', 'POST', 'PUT'].map((method): Refusal => [method, `/projects/${MISSING}/limit`, { query: { rate: 1 } }, 404, 'Env not found']),
    ]);
  });
});

describe('API keys', () => {
  test('POST shows the key once and keeps only its hash; GET lists the keys by name, never the key', async () => {
    const project = await newProject();
    const partnerId = 'a9d3b7ee-17da-4848-bb0e-1f64cf45af18';
    const res = await storj('POST', `/projects/${project.id}/apikeys`, { body: { name: 'mine', partnerId } });
    expect(res.status).toBe(200);
    const apikey: string = res.body.apikey;
    expect(apikey).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    await newKey(project.id, 'family');
    const [row] = await server.sql<{ id: string; secret_hash: string; partner_id: string }>(`select id, secret_hash, partner_id from env_api_keys where env_id = ? and name = 'mine'`, [project.id]);
    expect(row.secret_hash).toBe(hashSecret(apikey.split('.')[1]));
    expect(row.partner_id).toBe(partnerId);
    expect(await auditOf(row.id)).toMatchObject({ actor_kind: 'system', operation: 'createEnvApiKey' });
    const list = await storj('GET', `/projects/${project.id}/apikeys`);
    expect(list.status).toBe(200);
    expect(list.body.map((k: { name: string }) => k.name)).toEqual(['family', 'mine']);
    expect(list.body[1]).toEqual({ id: row.id, projectId: project.id, ownerId: project.ownerId, name: 'mine', partnerID: partnerId, partnerId, createdAt: expect.stringMatching(/Z$/) });
    expect(list.body[0]).toMatchObject({ partnerID: '', partnerId: '' });
    expect(list.text).not.toContain(apikey.split('.')[1]);
  });

  test('POST: 400 without a name or with a partnerId that is no UUID (an empty one included), 409 for a name taken in the project, 404; nothing written', async () => {
    const project = await newProject();
    await newKey(project.id, 'taken');
    const other = await newProject();
    expect((await storj('POST', `/projects/${other.id}/apikeys`, { body: { name: 'taken' } })).status).toBe(200);
    const keys = `/projects/${project.id}/apikeys`;
    await expectRefusals(PROJECT_TABLES, [
      ['POST', keys, { body: {} }, 400, /^name: /],
      ['POST', keys, { body: { name: '  ' } }, 400, 'name: must not be empty'],
      ['POST', keys, { body: { name: 'x', partnerId: '' } }, 400, /^partnerId: /],
      ['POST', keys, { body: { name: 'x', partnerId: 'partner' } }, 400, /^partnerId: /],
      ['POST', keys, { body: { name: 'taken' } }, 409, `An API key named "taken" already exists in env "${project.name}"`],
      ['POST', `/projects/${MISSING}/apikeys`, { body: { name: 'x' } }, 404, 'Env not found'],
      ['GET', `/projects/${MISSING}/apikeys`, {}, 404, 'Env not found'],
    ]);
  });

  test('DELETE by name: the key of that name in that project goes; 404 for a name it does not have', async () => {
    const [project, other] = [await newProject(), await newProject()];
    await newKey(project.id, 'mine');
    await newKey(other.id, 'mine');
    const res = await storj('DELETE', `/projects/${project.id}/apikeys/mine`);
    expect([res.status, res.text]).toEqual([200, '']);
    expect(await server.sql(`select env_id from env_api_keys where name = 'mine' and env_id in (?, ?)`, [project.id, other.id])).toEqual([{ env_id: other.id }]);
    await expectRefusals(PROJECT_TABLES, [
      ['DELETE', `/projects/${project.id}/apikeys/mine`, {}, 404, 'API key not found'],
      ['DELETE', `/projects/${MISSING}/apikeys/mine`, {}, 404, 'Env not found'],
    ]);
  });

  test('DELETE by key: the key goes; 400 for what is no key, 404 for a key with another secret or one already gone', async () => {
    const project = await newProject();
    const { key } = await newKey(project.id);
    const forged = `${key.split('.')[0]}.${'A'.repeat(43)}`;
    await expectRefusals(PROJECT_TABLES, [
      ['DELETE', `/apikeys/${forged}`, {}, 404, 'API key not found'],
      ['DELETE', '/apikeys/not-a-key', {}, 400, 'apikey: is not an API key'],
    ]);
    const res = await storj('DELETE', `/apikeys/${key}`);
    expect([res.status, res.text]).toEqual([200, '']);
    expect(await server.sql(`select id from env_api_keys where env_id = ?`, [project.id])).toEqual([]);
    expect((await storj('DELETE', `/apikeys/${key}`)).status).toBe(404);
  });
});

describe('credentials: the admin token in Authorization, as is', () => {
  let rows: ReturnType<typeof storjMatrixRows>;
  beforeAll(() => {
    rows = storjMatrixRows(storj);
  });

  test('every route served under /storj/api has a row in the matrix, and every row a served route', () => {
    const served = server.berth.httpRoutes
      .filter((r) => r.url.startsWith('/storj/api/') && r.method !== 'HEAD' && !/^\/storj\/api\/(openapi\.json|docs)/.test(r.url))
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    expect(served.length).toBe(16);
    expect(served).toEqual(rows.map((r) => r.route).sort());
  });

  test("the matrix: no credential, a wrong one, the token as a bearer, a Berth admin's own are 403 and write nothing; the token succeeds, audited", async () => {
    const adminJwt = (await server.adminAuth()).authorization;
    const refusals: Record<string, string | null> = { none: null, wrong: 'not-the-admin-token-at-all', bearer: `Bearer ${STORJ_TOKEN}`, prefix: STORJ_TOKEN.slice(0, -1), berthAdmin: adminJwt };
    const outcomes: string[] = [];
    for (const row of rows) {
      const method = row.route.split(' ')[0];
      for (const [who, authorization] of Object.entries(refusals)) {
        const call = await row.prepare();
        const { result, written } = await withWrites(server, () => storj(method, call.path, { ...call, authorization }));
        const right = result.status === 403 && JSON.stringify(result.body) === JSON.stringify(storjError('Forbidden')) && written.length === 0;
        outcomes.push(`${row.route} as ${who}: ${right ? 'refused' : `${result.status} ${result.text}, wrote ${written.join()}`}`);
      }
      const call = await row.prepare();
      const { result, audited } = await withAudit(server, () => storj(method, call.path, call));
      const right = result.status === row.ok && audited === (method !== 'GET');
      outcomes.push(`${row.route} as the admin: ${right ? 'ok' : `${result.status} ${result.text}, audited ${audited}`}`);
    }
    expect(outcomes.filter((o) => !o.endsWith(': refused') && !o.endsWith(': ok'))).toEqual([]);
  });

  test('a token shorter than 16 characters stops the start, naming the variable and not the value', () => {
    let error: unknown;
    try {
      loadConfig({ BERTH_STORJ_ADMIN_TOKEN: 'short-secret' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StartupError);
    expect((error as StartupError).problems).toEqual(['BERTH_STORJ_ADMIN_TOKEN: must be at least 16 characters']);
    expect((error as StartupError).message).not.toContain('short-secret');
  });

  test('an unknown path under /storj/api is 404 in the Storj envelope', async () => {
    const res = await storj('GET', '/nothing/here');
    expect([res.status, res.body]).toEqual([404, storjError('No route GET /storj/api/nothing/here')]);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  test('with no token configured every route answers 403 "Authorization not enabled.", whatever is sent, and the document stays public', async () => {
    const unset = await startTestServer();
    try {
      const client = storjClient(unset);
      const rowsThere = storjMatrixRows(storjClient(server));
      for (const row of rowsThere) {
        const [method, route] = row.route.split(' ');
        const path = route.slice('/storj/api'.length).replace(/\{\w+\}/g, MISSING);
        for (const authorization of [STORJ_TOKEN, null, '']) {
          const res = await client(method, path, { authorization });
          expect([row.route, res.status, res.body]).toEqual([row.route, 403, storjError('Authorization not enabled.')]);
        }
      }
      expect((await restClient(unset)('GET', '/storj/api/openapi.json')).status).toBe(200);
    } finally {
      await unset.stop();
    }
  });
});

describe('the OpenAPI document', () => {
  test('/storj/api/openapi.json is a valid OpenAPI 3.1 document, public, naming the admin token as its credential', async () => {
    const res = await rest('GET', '/storj/api/openapi.json');
    expect(res.status).toBe(200);
    const result = await new Validator().validate(res.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(res.body.components.securitySchemes).toEqual({ adminToken: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'Authorization' }) });
    expect(res.body.security).toEqual([{ adminToken: [] }]);
    expect(res.body.components.schemas.Error.properties).toEqual({ error: expect.any(Object), detail: expect.any(Object) });
    const usage = res.body.paths['/storj/api/projects/{id}/usage'].get.responses;
    expect(Object.keys(usage).sort()).toEqual(['200', '400', '403', '404', '409']);
    expect(usage['403'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
  });

  test('every route served under /storj/api is in the document, with its method, and the document names no other', async () => {
    const { body: document } = await rest<{ paths: Record<string, Record<string, unknown>> }>('GET', '/storj/api/openapi.json');
    const served = server.berth.httpRoutes
      .filter((r) => r.url.startsWith('/storj/api/') && r.method !== 'HEAD' && !/^\/storj\/api\/(openapi\.json|docs)/.test(r.url))
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(served);
  });

  test('the reference page is public', async () => {
    const page = await rest('GET', '/storj/api/docs/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
  });
});
