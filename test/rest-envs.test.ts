import { Env } from '../src/entities/index.js';
import { EnvUserRole } from '../src/entities/enums.js';
import { expectUnchanged } from './support/assertions.js';
import { build, persist, seedFleet } from './support/fixtures.js';
import { createBot, createUser, grantEnvRole, type Caller } from './support/identities.js';
import { restClient, RFC_3339_UTC, UUID, type Rest } from './support/rest.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let rest: Rest;
let admin: Record<string, string>;
beforeAll(async () => {
  server = await startTestServer();
  rest = restClient(server);
  admin = await server.adminAuth();
});
afterAll(() => server?.stop());

/** What creating, changing and deleting an env may write; a refused call leaves it exactly as it was. */
const ENV_TABLES = ['envs', 'env_user_permissions', 'deployment_tasks', 'audit_records'];


let seq = 0;
/** Envs created in order, a second apart, so the list's order is theirs. */
async function newEnvs(count: number, fields: Partial<Env> = {}): Promise<Env[]> {
  const base = Date.now() - 3_600_000 + ++seq * 60_000;
  return persist(server, ...Array.from({ length: count }, (_, i) => build(Env, { name: `env-${seq}-${i}`, createdAt: new Date(base + i * 1000), ...fields })));
}

describe('GET /api/v2/envs', () => {
  test("Platz's envelope and Platz's JSON: snake_case fields, RFC 3339 timestamps, nothing of Berth's own", async () => {
    const [env] = await newEnvs(1, { nodeSelector: { pool: 'apps' }, tolerations: [{ key: 'k', operator: 'Exists' }], autoAddNewUsers: true, description: 'Berth only' });
    const res = await rest('GET', '/api/v2/envs', { headers: admin, query: { per_page: 500 } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(res.body).sort()).toEqual(['items', 'num_total', 'page', 'per_page']);
    expect(res.body).toMatchObject({ page: 1, per_page: 500 });
    const item = res.body.items.find((e: { id: string }) => e.id === env.id);
    expect(item).toEqual({
      id: env.id,
      created_at: env.createdAt.toISOString(),
      name: env.name,
      node_selector: { pool: 'apps' },
      tolerations: [{ key: 'k', operator: 'Exists' }],
      auto_add_new_users: true,
    });
    expect(item.created_at).toMatch(RFC_3339_UTC);
    expect(res.body.num_total).toBe(res.body.items.length);
  });

  test('pages: page and per_page (default 50), oldest first; num_total counts the whole list, also past the last page', async () => {
    const envs = await newEnvs(5, { autoAddNewUsers: false });
    const all = await rest('GET', '/api/v2/envs', { headers: admin, query: { per_page: 500 } });
    const total = all.body.num_total;
    const ids = all.body.items.map((e: { id: string }) => e.id);
    expect(ids.slice(-5)).toEqual(envs.map((e) => e.id));
    const second = await rest('GET', '/api/v2/envs', { headers: admin, query: { page: 2, per_page: 2 } });
    expect(second.body).toMatchObject({ page: 2, per_page: 2, num_total: total });
    expect(second.body.items.map((e: { id: string }) => e.id)).toEqual(ids.slice(2, 4));
    const past = await rest('GET', '/api/v2/envs', { headers: admin, query: { page: 1000, per_page: 2 } });
    expect(past.body).toEqual({ page: 1000, per_page: 2, items: [], num_total: total });
    expect((await rest('GET', '/api/v2/envs', { headers: admin })).body.per_page).toBe(50);
  });

  test.each([
    ['per_page over the cap of 500', { per_page: 501 }, /^per_page \(query parameter\)/],
    ['per_page 0', { per_page: 0 }, /^per_page \(query parameter\)/],
    ['page 0', { page: 0 }, /^page \(query parameter\)/],
    ['a page that is not a number', { page: 'two' }, /^page \(query parameter\)/],
    ['a boolean filter that is not true or false', { auto_add_new_users: 'yes' }, /^auto_add_new_users \(query parameter\)/],
  ])('%s is 400 naming the parameter', async (_, query, message) => {
    const res = await rest('GET', '/api/v2/envs', { headers: admin, query });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body)).toEqual(['message']);
    expect(res.body.message).toMatch(message);
  });

  test('filters: name is case-insensitive and exact (wildcards taken literally); auto_add_new_users', async () => {
    const [plain, other] = await newEnvs(2, { autoAddNewUsers: true });
    await server.sql(`update envs set name = ? where id = ?`, ['Filter_Me', plain.id]);
    await server.sql(`update envs set name = ? where id = ?`, ['FilterXMe', other.id]);
    const byName = await rest('GET', '/api/v2/envs', { headers: admin, query: { name: 'filter_me' } });
    expect(byName.body.items.map((e: { id: string }) => e.id)).toEqual([plain.id]);
    expect(byName.body.num_total).toBe(1);
    const auto = await rest('GET', '/api/v2/envs', { headers: admin, query: { auto_add_new_users: 'true', per_page: 500 } });
    expect(auto.body.items.every((e: { auto_add_new_users: boolean }) => e.auto_add_new_users)).toBe(true);
    expect(auto.body.items.map((e: { id: string }) => e.id)).toEqual(expect.arrayContaining([plain.id, other.id]));
    const notAuto = await rest('GET', '/api/v2/envs', { headers: admin, query: { auto_add_new_users: 'false', per_page: 500 } });
    expect(notAuto.body.items.map((e: { id: string }) => e.id)).not.toContain(plain.id);
  });

  test('a user sees the envs it holds a role in, and nothing of the others: not in the list, 404 by id', async () => {
    const [mine, theirs] = await newEnvs(2);
    const user = await createUser(server);
    await grantEnvRole(server, mine.id, { userId: user.id }, EnvUserRole.User);
    const list = await rest('GET', '/api/v2/envs', { headers: user.headers });
    expect(list.body).toMatchObject({ num_total: 1, items: [{ id: mine.id }] });
    expect((await rest('GET', `/api/v2/envs/${mine.id}`, { headers: user.headers })).status).toBe(200);
    const hidden = await rest('GET', `/api/v2/envs/${theirs.id}`, { headers: user.headers });
    expect(hidden.status).toBe(404);
    // out of scope reads exactly as missing
    const missing = await rest('GET', `/api/v2/envs/00000000-0000-4000-8000-000000000000`, { headers: user.headers });
    expect([missing.status, missing.body]).toEqual([404, hidden.body]);
    // a bot too: it holds roles as users do (Platz's main branch lets bots see every env)
    const bot = await createBot(server);
    await grantEnvRole(server, theirs.id, { botId: bot.id }, EnvUserRole.User);
    expect((await rest('GET', '/api/v2/envs', { headers: bot.headers })).body).toMatchObject({ num_total: 1, items: [{ id: theirs.id }] });
    expect((await rest('GET', `/api/v2/envs/${mine.id}`, { headers: bot.headers })).status).toBe(404);
  });

  test('without a credential: 401 with a JSON message', async () => {
    const res = await rest('GET', '/api/v2/envs');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ message: expect.any(String) });
  });
});

describe('GET /api/v2/envs/{id}', () => {
  test('the env; a malformed id is 400 naming it', async () => {
    const [env] = await newEnvs(1);
    const res = await rest('GET', `/api/v2/envs/${env.id}`, { headers: admin });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: env.id, name: env.name, created_at: env.createdAt.toISOString() });
    const bad = await rest('GET', '/api/v2/envs/not-a-uuid', { headers: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^id \(path parameter\)/);
  });
});

describe('POST /api/v2/envs', () => {
  test('a site admin creates an env: 201 with the env; the creator becomes its Admin, in one audited write', async () => {
    const res = await rest('POST', '/api/v2/envs', { headers: admin, body: { name: '  Production  ' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.stringMatching(UUID), created_at: expect.stringMatching(RFC_3339_UTC), name: 'Production', node_selector: {}, tolerations: [], auto_add_new_users: false });
    expect(await server.sql(`select role from env_user_permissions where env_id = ?`, [res.body.id])).toEqual([{ role: 'Admin' }]);
    expect(await server.sql(`select operation, target_type from audit_records where env_id = ? order by target_type`, [res.body.id])).toEqual([
      { operation: 'createEnv', target_type: 'Env' },
      { operation: 'createEnv', target_type: 'EnvUserPermission' },
    ]);
    const auto = await rest('POST', '/api/v2/envs', { headers: admin, body: { name: 'auto', auto_add_new_users: true } });
    expect(auto.body.auto_add_new_users).toBe(true);
    // unknown fields are ignored, as Platz does
    expect((await rest('POST', '/api/v2/envs', { headers: admin, body: { name: 'extra', colour: 'blue' } })).status).toBe(201);
  });

  test('a duplicate name (case-insensitive) is 409, not 503', async () => {
    await newEnvs(1, { name: 'Unique-Name' });
    const res = await expectUnchanged(server, ENV_TABLES, () => rest('POST', '/api/v2/envs', { headers: admin, body: { name: 'unique-NAME' } }));
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/already exists/);
  });

  test('not a site admin: 403, nothing written; no credential: 401', async () => {
    const [env] = await newEnvs(1);
    const envAdmin = await createUser(server);
    await grantEnvRole(server, env.id, { userId: envAdmin.id }, EnvUserRole.Admin);
    const res = await expectUnchanged(server, ENV_TABLES, () => rest('POST', '/api/v2/envs', { headers: envAdmin.headers, body: { name: 'not-mine' } }));
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ message: expect.any(String) });
    expect((await rest('POST', '/api/v2/envs', { body: { name: 'anonymous' } })).status).toBe(401);
  });

  test.each([
    ['no name', {}, /^name \(body\)/],
    ['a name that is not a string', { name: 42 }, /^name \(body\)/],
    ['auto_add_new_users that is not a boolean', { name: 'x', auto_add_new_users: 'yes' }, /^auto_add_new_users \(body\)/],
    ['an empty name', { name: '  ' }, /name/],
    ['a name with a NUL character', { name: 'a\u0000b' }, /NUL/],
    ['a name longer than a line', { name: 'x'.repeat(300) }, /^name \(body\): must be at most 255/],
  ])('%s is 400 naming the field, nothing written', async (_, body, message) => {
    const res = await expectUnchanged(server, ENV_TABLES, () => rest('POST', '/api/v2/envs', { headers: admin, body }));
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(message);
  });

  test('a body that is not JSON is 400 with a JSON message', async () => {
    const res = await rest('POST', '/api/v2/envs', { headers: { ...admin, 'content-type': 'application/json' }, body: '{"name": ' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ message: expect.any(String) });
  });
});

describe('PUT /api/v2/envs/{id}', () => {
  test("the env's Admin changes it; fields left out stay; 200 with the env", async () => {
    const [env] = await newEnvs(1, { nodeSelector: { pool: 'a' } });
    const envAdmin = await createUser(server);
    await grantEnvRole(server, env.id, { userId: envAdmin.id }, EnvUserRole.Admin);
    const res = await rest('PUT', `/api/v2/envs/${env.id}`, { headers: envAdmin.headers, body: { name: 'renamed', auto_add_new_users: true } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: env.id, name: 'renamed', auto_add_new_users: true, node_selector: { pool: 'a' } });
  });

  test("a new node_selector reinstalls the env's enabled deployments in the same write", async () => {
    const fleet = await seedFleet(server.em, { deployments: 2, clusters: 1, kinds: 1, tasksPerDeployment: 0, prefix: 'rest-ns' });
    const res = await rest('PUT', `/api/v2/envs/${fleet.env.id}`, { headers: admin, body: { node_selector: { pool: 'big' }, tolerations: [{ key: 'gpu', operator: 'Exists' }] } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ node_selector: { pool: 'big' }, tolerations: [{ key: 'gpu', operator: 'Exists' }] });
    const tasks = await server.sql<{ operation: unknown }>(`select operation from deployment_tasks where deployment_id in (?, ?)`, fleet.deployments.map((d) => d.id));
    expect(tasks).toEqual([{ operation: { Reinstall: { reason: 'Env rest-ns-env updated' } } }, { operation: { Reinstall: { reason: 'Env rest-ns-env updated' } } }]);
  });

  test('an env User may not change it (403); an env the caller cannot see is 404; bad values are 400; nothing written', async () => {
    const [env, other] = await newEnvs(2);
    const user = await createUser(server);
    await grantEnvRole(server, env.id, { userId: user.id }, EnvUserRole.User);
    await expectUnchanged(server, ENV_TABLES, async () => {
      expect((await rest('PUT', `/api/v2/envs/${env.id}`, { headers: user.headers, body: { name: 'mine now' } })).status).toBe(403);
      expect((await rest('PUT', `/api/v2/envs/${other.id}`, { headers: user.headers, body: { name: 'mine now' } })).status).toBe(404);
      const selector = await rest('PUT', `/api/v2/envs/${env.id}`, { headers: admin, body: { node_selector: { pool: 1 } } });
      expect([selector.status, selector.body.message]).toEqual([400, expect.stringMatching(/^node_selector\.pool \(body\)/)]);
      const tolerations = await rest('PUT', `/api/v2/envs/${env.id}`, { headers: admin, body: { tolerations: { key: 'k' } } });
      expect([tolerations.status, tolerations.body.message]).toEqual([400, expect.stringMatching(/^tolerations \(body\)/)]);
    });
  });
});

describe('DELETE /api/v2/envs/{id}', () => {
  test('a site admin deletes an env: 204 with no body; then it is 404', async () => {
    const [env] = await newEnvs(1);
    const res = await rest('DELETE', `/api/v2/envs/${env.id}`, { headers: admin });
    expect([res.status, res.text]).toEqual([204, '']);
    expect((await rest('GET', `/api/v2/envs/${env.id}`, { headers: admin })).status).toBe(404);
    expect((await rest('DELETE', `/api/v2/envs/${env.id}`, { headers: admin })).status).toBe(404);
  });

  test('an env with deployments is 409; not a site admin is 403; nothing written', async () => {
    const fleet = await seedFleet(server.em, { deployments: 1, clusters: 1, kinds: 1, tasksPerDeployment: 0, prefix: 'rest-del' });
    const envAdmin: Caller = await createUser(server);
    await grantEnvRole(server, fleet.env.id, { userId: envAdmin.id }, EnvUserRole.Admin);
    await expectUnchanged(server, [...ENV_TABLES, 'deployments', 'k8s_clusters'], async () => {
      const busy = await rest('DELETE', `/api/v2/envs/${fleet.env.id}`, { headers: admin });
      expect([busy.status, busy.body]).toEqual([409, { message: expect.stringMatching(/deployment/) }]);
      expect((await rest('DELETE', `/api/v2/envs/${fleet.env.id}`, { headers: envAdmin.headers })).status).toBe(403);
    });
  });
});
