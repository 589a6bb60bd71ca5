import type { Deployment, DeploymentResource } from '../src/entities/index.js';
import { DeploymentResourceSyncStatus } from '../src/entities/enums.js';
import { expectUnchanged } from './support/assertions.js';
import { insertDeployment, insertResource, startWorld, tasksOf, type World } from './support/deployment-world.js';
import { createBot, deploymentCaller, type Caller } from './support/identities.js';
import { ids, MISSING, restClient, RFC_3339_UTC, type Rest } from './support/rest.js';
import type { TestServer } from './support/server.js';

let server: TestServer;
let rest: Rest;
let w: World;
let admin: Record<string, string>;
/** the Shop deployment that owns the resources, its own token, and another deployment's */
let owner: Deployment;
let self: Caller;
let otherDeployment: Caller;
let strayBot: Caller;

beforeAll(async () => {
  ({ server, w } = await startWorld());
  rest = restClient(server);
  admin = await server.adminAuth();
  owner = await insertDeployment(server, { kind: w.shop, cluster: w.cluster, helmChart: w.shopChart });
  self = await deploymentCaller(server, owner.id);
  otherDeployment = await deploymentCaller(server, (await insertDeployment(server, { name: 'other', kind: w.app, cluster: w.cluster, helmChart: w.appChart })).id);
  strayBot = await createBot(server);
});
afterAll(() => server?.stop());

/** What a resource write may change; a refused one leaves every row as it was. */
const TABLES = ['deployment_resources', 'deployment_tasks', 'audit_records'];
const SENSITIVE = 'sk_live_very_secret';

/** a second apart, in the order inserted: lists come back in that order */
const start = Date.now() - 86_400_000;
let seq = 0;
/** A resource of the shop type owned by `owner`, inserted directly, with a sensitive prop. */
const insert = (fields: Partial<DeploymentResource> = {}) => {
  seq++;
  return insertResource(server, { type: w.shopType, deployment: owner, name: `shop-${seq}`, createdAt: new Date(start + seq * 1000), props: { url: 'https://a', apiKey: SENSITIVE }, ...fields });
};
/** A resource created through the route, as `caller`. */
const create = (headers: Record<string, string>, fields: Record<string, unknown> = {}) =>
  rest('POST', '/api/v2/deployment-resources', { headers, body: { type_id: w.shopType.id, deployment_id: owner.id, name: `new-${++seq}`, props: { url: 'https://b', apiKey: SENSITIVE }, ...fields } });

describe('GET /api/v2/deployment-resources', () => {
  test("Platz's JSON without the props the type marks sensitive, oldest first; type_id filter; pages", async () => {
    const a = await insert();
    const b = await insert({ syncReason: 'webhook said no', exists: false });
    const res = await rest('GET', '/api/v2/deployment-resources', { headers: w.callers.maintainer.headers, query: { type_id: w.shopType.id, per_page: 500 } });
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).not.toContain(SENSITIVE);
    const listed = ids(res.body);
    expect(listed.slice(-2)).toEqual([a.id, b.id]);
    expect(res.body.items.at(-1)).toEqual({
      id: b.id,
      created_at: b.createdAt.toISOString(),
      type_id: w.shopType.id,
      deployment_id: owner.id,
      name: b.name,
      exists: false,
      props: { url: 'https://a' },
      sync_status: 'Creating',
      sync_reason: 'webhook said no',
    });
    expect(res.body.num_total).toBe(listed.length);
    const page = await rest('GET', '/api/v2/deployment-resources', { headers: admin, query: { type_id: w.shopType.id, per_page: 1, page: listed.length } });
    expect(page.body).toMatchObject({ page: listed.length, per_page: 1, num_total: listed.length, items: [{ id: b.id }] });
    expect((await rest('GET', '/api/v2/deployment-resources', { headers: admin, query: { type_id: w.otherEnvType.id } })).body).toMatchObject({ num_total: 0, items: [] });
    const bad = await rest('GET', '/api/v2/deployment-resources', { headers: admin, query: { type_id: 'x' } });
    expect([bad.status, bad.body.message]).toEqual([400, expect.stringMatching(/^type_id \(query parameter\)/)]);
  });

  test("by id, stripped too; scoped: another env's caller and a bot without a role see nothing (404, as missing)", async () => {
    const r = await insert();
    for (const headers of [admin, w.callers.envUser.headers, self.headers, w.callers.ownerBot.headers]) {
      const res = await rest('GET', `/api/v2/deployment-resources/${r.id}`, { headers });
      expect([res.status, res.body.props]).toEqual([200, { url: 'https://a' }]);
    }
    const missing = await rest('GET', `/api/v2/deployment-resources/${MISSING}`, { headers: w.callers.outsider.headers });
    for (const headers of [w.callers.outsider.headers, strayBot.headers]) {
      const hidden = await rest('GET', `/api/v2/deployment-resources/${r.id}`, { headers });
      expect([hidden.status, hidden.body]).toEqual([404, missing.body]);
      expect(ids((await rest('GET', '/api/v2/deployment-resources', { headers, query: { per_page: 500 } })).body)).not.toContain(r.id);
    }
    expect((await rest('GET', '/api/v2/deployment-resources')).status).toBe(401);
  });

  test("a resource whose deployment is in another env than its type's (the deployment moved) is listed all the same", async () => {
    const moved = await insert({ type: w.otherEnvType, props: { region: 'eu' } });
    const res = await rest('GET', '/api/v2/deployment-resources', { headers: w.callers.maintainer.headers, query: { per_page: 500 } });
    expect(res.status).toBe(200);
    expect(res.body.items.find((i: { id: string }) => i.id === moved.id)).toMatchObject({ type_id: w.otherEnvType.id, props: { region: 'eu' } });
  });
});

describe('POST /api/v2/deployment-resources', () => {
  test('a maintainer of the owning deployment creates one: 201 without the sensitive props (stored all the same), Creating, audited', async () => {
    const res = await create(w.callers.maintainer.headers, { id: MISSING, sync_status: 'Ready', created_at: '2020-01-01T00:00:00Z' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.not.stringMatching(MISSING),
      created_at: expect.stringMatching(RFC_3339_UTC),
      type_id: w.shopType.id,
      deployment_id: owner.id,
      name: `new-${seq}`,
      exists: true,
      props: { url: 'https://b' },
      sync_status: 'Creating',
      sync_reason: null,
    });
    expect(res.body.created_at.startsWith('2020')).toBe(false);
    const [row] = await server.sql<{ props: unknown }>('select props from deployment_resources where id = ?', [res.body.id]);
    expect(row.props).toEqual({ url: 'https://b', apiKey: SENSITIVE });
    const audit = await server.sql('select operation from audit_records where target_id = ?', [res.body.id]);
    expect(audit).toEqual([{ operation: 'createDeploymentResource' }]);
    // props may be left out
    expect((await create(w.callers.maintainer.headers, { props: undefined })).body.props).toEqual({});
  });

  test("the deployment's own token, its Owners (a bot too), env Admins and site admins may; others not", async () => {
    for (const headers of [self.headers, w.callers.owner.headers, w.callers.ownerBot.headers, w.callers.envAdmin.headers, admin]) expect((await create(headers)).status).toBe(201);
    await expectUnchanged(server, TABLES, async () => {
      // an env User, and another deployment of the env, see the deployment but may not write: 403
      for (const headers of [w.callers.envUser.headers, otherDeployment.headers]) {
        const res = await create(headers);
        expect([res.status, res.body]).toEqual([403, { message: expect.any(String) }]);
      }
      // another env's Admin and a bot without a role do not see it: 404
      for (const headers of [w.callers.outsider.headers, strayBot.headers]) expect((await create(headers)).status).toBe(404);
      expect((await rest('POST', '/api/v2/deployment-resources', { body: { type_id: w.shopType.id, deployment_id: owner.id, name: 'x', props: {} } })).status).toBe(401);
    });
  });

  test.each([
    ['an empty name', () => ({ name: ' ' }), /^name \(body\)/],
    ['no name', () => ({ name: undefined }), /^name \(body\)/],
    ['a type of another env', () => ({ type_id: w.otherEnvType.id }), /^type_id \(body\): The resource type belongs to another env/],
    ['a type_id that is not a UUID', () => ({ type_id: 'x' }), /^type_id \(body\)/],
    ['props that are not an object', () => ({ props: [1] }), /^props \(body\)/],
  ])('%s is 400 naming the field; nothing written', async (_, fields, message) => {
    // a site admin, who sees the other env's type too
    const res = await expectUnchanged(server, TABLES, () => create(admin, fields()));
    expect([res.status, res.body]).toEqual([400, { message: expect.stringMatching(message) }]);
  });

  test('a taken name of the type is 409; a missing type or deployment 404; nothing written', async () => {
    const taken = await insert();
    await expectUnchanged(server, TABLES, async () => {
      expect((await create(w.callers.maintainer.headers, { name: taken.name })).status).toBe(409);
      expect((await create(w.callers.maintainer.headers, { type_id: MISSING })).status).toBe(404);
      expect((await create(w.callers.maintainer.headers, { deployment_id: MISSING })).status).toBe(404);
    });
  });
});

describe('PUT /api/v2/deployment-resources/{id}', () => {
  test('deep-merges props, sets Updating, reinstalls the enabled deployments using it; the answer hides the sensitive props', async () => {
    const r = await insert({ props: { url: 'https://a', apiKey: SENSITIVE, limits: { cpu: 1, memory: 2 } }, syncReason: 'old failure' });
    const user = await insertDeployment(server, { name: `u-${seq}`, kind: w.app, cluster: w.cluster, helmChart: w.appChart, config: { replicas: 1, shops: [r.id] } });
    const res = await rest('PUT', `/api/v2/deployment-resources/${r.id}`, { headers: self.headers, body: { props: { limits: { cpu: 4 } } } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: r.id,
      created_at: r.createdAt.toISOString(),
      type_id: w.shopType.id,
      deployment_id: owner.id,
      name: r.name,
      exists: true,
      props: { url: 'https://a', limits: { cpu: 4, memory: 2 } },
      sync_status: 'Updating',
      // a new sync starts: the last one's failure is cleared
      sync_reason: null,
    });
    const [row] = await server.sql<{ props: unknown }>('select props from deployment_resources where id = ?', [r.id]);
    expect(row.props).toEqual({ url: 'https://a', apiKey: SENSITIVE, limits: { cpu: 4, memory: 2 } });
    expect(await tasksOf(server, user.id)).toMatchObject([{ tag: 'Reinstall', reason: `shop ${r.name} updated` }]);
    // a rename, props left out
    const renamed = await rest('PUT', `/api/v2/deployment-resources/${r.id}`, { headers: w.callers.maintainer.headers, body: { name: `${r.name}-b`, props: null } });
    expect(renamed.body).toMatchObject({ name: `${r.name}-b`, props: { url: 'https://a', limits: { cpu: 4, memory: 2 } } });
    expect(await tasksOf(server, user.id)).toHaveLength(2);
  });

  test('refused: an env User 403, another env 404, a taken name 409, an empty name 400, missing 404; nothing written', async () => {
    const [r, other] = [await insert(), await insert()];
    await expectUnchanged(server, TABLES, async () => {
      const put = (headers: Record<string, string>, body: unknown, id = r.id) => rest('PUT', `/api/v2/deployment-resources/${id}`, { headers, body });
      expect((await put(w.callers.envUser.headers, { name: 'x' })).status).toBe(403);
      expect((await put(otherDeployment.headers, { name: 'x' })).status).toBe(403);
      expect((await put(w.callers.outsider.headers, { name: 'x' })).status).toBe(404);
      expect((await put(w.callers.maintainer.headers, { name: other.name })).status).toBe(409);
      const empty = await put(w.callers.maintainer.headers, { name: '' });
      expect([empty.status, empty.body.message]).toEqual([400, expect.stringMatching(/^name \(body\)/)]);
      expect((await put(w.callers.maintainer.headers, { props: 'x' })).body.message).toMatch(/^props \(body\)/);
      expect((await put(admin, { name: 'x' }, MISSING)).status).toBe(404);
      expect((await rest('PUT', `/api/v2/deployment-resources/${r.id}`, { body: { name: 'x' } })).status).toBe(401);
    });
  });
});

describe('DELETE /api/v2/deployment-resources/{id}', () => {
  test('204: it becomes Deleting (its deployment deletes it), the last sync failure cleared; audited', async () => {
    const r = await insert({ syncStatus: DeploymentResourceSyncStatus.Error, syncReason: 'webhook failed' });
    const res = await rest('DELETE', `/api/v2/deployment-resources/${r.id}`, { headers: w.callers.maintainer.headers });
    expect([res.status, res.text]).toEqual([204, '']);
    expect(await server.sql('select sync_status, sync_reason, "exists" from deployment_resources where id = ?', [r.id])).toEqual([{ sync_status: 'Deleting', sync_reason: null, exists: true }]);
    expect(await server.sql("select 1 from audit_records where target_id = ? and operation = 'deleteDeploymentResource'", [r.id])).toHaveLength(1);
  });

  test('refused: already deleted 409, an env User 403, another env 404, missing 404; nothing written', async () => {
    const [r, gone] = [await insert(), await insert({ exists: false })];
    await expectUnchanged(server, TABLES, async () => {
      const del = (headers: Record<string, string> | undefined, id = r.id) => rest('DELETE', `/api/v2/deployment-resources/${id}`, { headers });
      const res = await del(w.callers.maintainer.headers, gone.id);
      expect([res.status, res.body]).toEqual([409, { message: expect.stringMatching(/already been deleted/) }]);
      expect((await del(w.callers.envUser.headers)).status).toBe(403);
      expect((await del(w.callers.outsider.headers)).status).toBe(404);
      expect((await del(admin, MISSING)).status).toBe(404);
      expect((await del(undefined)).status).toBe(401);
    });
  });
});
