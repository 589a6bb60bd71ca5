import { DeploymentStatus } from '../src/entities/enums.js';
import { expectUnchanged } from './support/assertions.js';
import { insertDeployment, startWorld, tasksOf, type World } from './support/deployment-world.js';
import { createUser, deploymentCaller } from './support/identities.js';
import { ids, MISSING, restClient, RFC_3339_UTC, UUID, type Rest } from './support/rest.js';
import type { TestServer } from './support/server.js';

let server: TestServer;
let w: World;
let rest: Rest;
let admin: Record<string, string>;
beforeAll(async () => {
  ({ server, w } = await startWorld());
  rest = restClient(server);
  admin = await server.adminAuth();
});
afterAll(() => server?.stop());

/** What creating, changing and deleting a deployment may write; a refused call leaves them exactly as they were. */
const TABLES = ['deployments', 'deployment_tasks', 'audit_records'];


let seq = 0;
/** A valid App body in the main cluster, with a fresh name. */
const appBody = (fields: Record<string, unknown> = {}) => ({
  name: `rest-${++seq}`, kind_id: w.app.id, cluster_id: w.cluster.id, helm_chart_id: w.appChart.id, config: { replicas: 2 }, ...fields,
});

async function create(fields: Record<string, unknown> = {}, headers = w.callers.owner.headers): Promise<{ id: string; name: string; [k: string]: unknown }> {
  const res = await rest('POST', '/api/v2/deployments', { headers, body: appBody(fields) });
  expect([res.status, res.body.message]).toEqual([201, undefined]);
  return res.body;
}

/** Deployments inserted an hour ago and a second apart, so the list's order is theirs. */
async function inserted(count: number, fields: Record<string, unknown> = {}) {
  const base = Date.now() - 3_600_000 + ++seq * 60_000;
  const rows = [];
  for (let i = 0; i < count; i++) {
    rows.push(await insertDeployment(server, { name: `ins-${seq}-${i}`, kind: w.app, cluster: w.cluster, helmChart: w.appChart, config: { replicas: 1 }, createdAt: new Date(base + i * 1000), ...fields }));
  }
  return rows;
}

describe('GET /api/v2/deployments', () => {
  test("Platz's JSON for a deployment: every column of section 7, snake_case, nulls present", async () => {
    const reported = { timestamp: '2026-06-10T12:00:00Z', get_successful: true, content: { status: { name: 'OK', color: 'success' }, primary_metric: null, metrics: null, notices: [] }, error: null };
    const [d] = await inserted(1, { status: DeploymentStatus.Running, descriptionMd: '# hi', reason: 'because', reportedStatus: reported, valuesOverride: { image: { tag: 'x' } } });
    const res = await rest('GET', `/api/v2/deployments/${d.id}`, { headers: admin });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: d.id,
      created_at: d.createdAt.toISOString(),
      name: d.name,
      kind_id: w.app.id,
      cluster_id: w.cluster.id,
      enabled: true,
      status: 'Running',
      description_md: '# hi',
      reason: 'because',
      revision_id: null,
      reported_status: reported,
      helm_chart_id: w.appChart.id,
      config: { replicas: 1 },
      values_override: { image: { tag: 'x' } },
    });
    expect(res.body.created_at).toMatch(RFC_3339_UTC);
    const [bare] = await inserted(1);
    expect((await rest('GET', `/api/v2/deployments/${bare.id}`, { headers: admin })).body).toMatchObject({ description_md: null, reason: null, reported_status: null, status: 'Unknown', values_override: {} });
  });

  test('oldest first, in pages; num_total counts the whole list', async () => {
    const rows = await inserted(3);
    const all = await rest('GET', '/api/v2/deployments', { headers: admin, query: { per_page: 500 } });
    const created = all.body.items.map((d: { created_at: string }) => d.created_at);
    expect(created).toEqual([...created].sort());
    expect(ids(all.body)).toEqual(expect.arrayContaining(rows.map((r) => r.id)));
    const page = await rest('GET', '/api/v2/deployments', { headers: admin, query: { page: 2, per_page: 2 } });
    expect(page.body).toMatchObject({ page: 2, per_page: 2, num_total: all.body.num_total });
    expect(ids(page.body)).toEqual(ids(all.body).slice(2, 4));
  });

  test('filters: name (case-insensitive substring, % and _ literal), kind_id, cluster_id, enabled, env_id', async () => {
    const [under, plain] = await inserted(2);
    await server.sql('update deployments set name = ? where id = ?', ['fil_ter-a', under.id]);
    await server.sql('update deployments set name = ? where id = ?', ['filxter-b', plain.id]);
    const [elsewhere] = await inserted(1, { cluster: w.cluster2, enabled: false });
    const [shop] = await inserted(1, { name: '', kind: w.shop, cluster: w.otherCluster, helmChart: w.shopChart });
    const list = async (query: Record<string, string>) => ids((await rest('GET', '/api/v2/deployments', { headers: admin, query: { per_page: 500, ...query } })).body);

    expect(await list({ name: 'FIL_T' })).toEqual([under.id]);
    expect(await list({ name: 'fil%' })).toEqual([]);
    expect(await list({ kind_id: w.shop.id })).toContain(shop.id);
    expect(await list({ kind_id: w.shop.id })).not.toContain(under.id);
    expect(await list({ cluster_id: w.cluster2.id })).toEqual([elsewhere.id]);
    expect(await list({ enabled: 'false' })).toContain(elsewhere.id);
    expect(await list({ enabled: 'false' })).not.toContain(under.id);
    expect(await list({ enabled: 'true' })).not.toContain(elsewhere.id);
    const inEnv = await list({ env_id: w.env.id });
    expect(inEnv).toEqual(expect.arrayContaining([under.id, plain.id, elsewhere.id]));
    expect(inEnv).not.toContain(shop.id);
    expect(await list({ env_id: w.otherEnv.id })).toEqual([shop.id]);
    expect(await list({ env_id: w.env.id, cluster_id: w.cluster2.id })).toEqual([elsewhere.id]);
  });

  test.each([
    ['kind_id that is not a uuid', { kind_id: 'x' }, /^kind_id \(query parameter\)/],
    ['env_id that is not a uuid', { env_id: 'x' }, /^env_id \(query parameter\)/],
    ['enabled that is not a boolean', { enabled: 'yes' }, /^enabled \(query parameter\)/],
    ['per_page over 500', { per_page: 501 }, /^per_page \(query parameter\)/],
  ])('%s is 400 naming it', async (_, query, message) => {
    const res = await rest('GET', '/api/v2/deployments', { headers: admin, query });
    expect([res.status, res.body.message]).toEqual([400, expect.stringMatching(message)]);
  });

  test("scoped per env: an env User sees its env's deployments; a user of another env, or of none, sees none of them (404 by id)", async () => {
    const [d] = await inserted(1);
    const [theirs] = await inserted(1, { name: 'theirs', kind: w.shop, cluster: w.otherCluster, helmChart: w.shopChart });
    const envUserList = await rest('GET', '/api/v2/deployments', { headers: w.callers.envUser.headers, query: { per_page: 500 } });
    expect(ids(envUserList.body)).toContain(d.id);
    expect(ids(envUserList.body)).not.toContain(theirs.id);
    expect((await rest('GET', `/api/v2/deployments/${d.id}`, { headers: w.callers.envUser.headers })).status).toBe(200);
    const hidden = await rest('GET', `/api/v2/deployments/${d.id}`, { headers: w.callers.outsider.headers });
    const missing = await rest('GET', `/api/v2/deployments/${MISSING}`, { headers: w.callers.outsider.headers });
    expect([hidden.status, hidden.body]).toEqual([404, missing.body]);
    const nobody = await createUser(server);
    expect((await rest('GET', '/api/v2/deployments', { headers: nobody.headers })).body).toMatchObject({ items: [], num_total: 0 });
    expect((await rest('GET', `/api/v2/deployments/${d.id}`, { headers: w.callers.ownerBot.headers })).status).toBe(200);
    expect((await rest('GET', '/api/v2/deployments')).status).toBe(401);
  });
});

describe('POST /api/v2/deployments', () => {
  test("an Owner creates it: 201 with Platz's JSON, and its Install task acts for the caller", async () => {
    const res = await rest('POST', '/api/v2/deployments', { headers: w.callers.owner.headers, body: appBody({ name: 'created', values_override: { a: 1 }, enabled: false }) });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(UUID),
      created_at: expect.stringMatching(RFC_3339_UTC),
      name: 'created',
      kind_id: w.app.id,
      cluster_id: w.cluster.id,
      // `enabled` is not a field of Platz's body: ignored
      enabled: true,
      status: 'Unknown',
      description_md: null,
      reason: null,
      revision_id: null,
      reported_status: null,
      helm_chart_id: w.appChart.id,
      config: { replicas: 2 },
      values_override: { a: 1 },
    });
    expect(await tasksOf(server, res.body.id)).toEqual([
      { tag: 'Install', operation: { helm_chart_id: w.appChart.id, config_inputs: { replicas: 2 }, values_override: { a: 1 } }, status: 'Pending', reason: null },
    ]);
    const [task] = await server.sql('select acting_user_id, acting_bot_id from deployment_tasks where deployment_id = ?', [res.body.id]);
    expect(task).toEqual({ acting_user_id: w.callers.owner.id, acting_bot_id: null });
  });

  test('name defaults to "" (a chart deployed once per cluster); config and values_override to {}', async () => {
    const res = await rest('POST', '/api/v2/deployments', { headers: admin, body: { kind_id: w.shop.id, cluster_id: w.cluster2.id, helm_chart_id: w.shopChart.id } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: '', config: {}, values_override: {} });
  });

  test.each([
    ['the env Admin', 'envAdmin', 201],
    ['a bot holding Owner', 'ownerBot', 201],
    ['a Maintainer', 'maintainer', 403],
    ['an env User', 'envUser', 403],
    ['an Admin of another env (the cluster is out of scope)', 'outsider', 404],
  ] as const)('%s: %s', async (_, who, status) => {
    const call = () => rest('POST', '/api/v2/deployments', { headers: w.callers[who].headers, body: appBody() });
    const res = status === 201 ? await call() : await expectUnchanged(server, TABLES, call);
    expect([res.status, Object.keys(res.body)]).toEqual([status, status === 201 ? expect.arrayContaining(['id']) : ['message']]);
  });

  test('a site admin, and a user without any role (404: nothing is in its scope)', async () => {
    expect((await rest('POST', '/api/v2/deployments', { headers: admin, body: appBody() })).status).toBe(201);
    const nobody = await createUser(server);
    const res = await expectUnchanged(server, TABLES, () => rest('POST', '/api/v2/deployments', { headers: nobody.headers, body: appBody() }));
    expect(res.status).toBe(404);
  });

  test.each([
    ['no kind_id', () => ({ kind_id: undefined }), 400, /^kind_id \(body\)/],
    ['a cluster_id that is not a uuid', () => ({ cluster_id: 'x' }), 400, /^cluster_id \(body\)/],
    ['config that is not an object', () => ({ config: [1] }), 400, /^config \(body\)/],
    ['no name for a chart of many deployments', () => ({ name: '' }), 400, /name is required/],
    ['a name that is not a DNS label', () => ({ name: 'Not_DNS' }), 400, /^name \(body\): .*DNS-1123/],
    ['a config missing a required input', () => ({ config: {} }), 400, /replicas/],
    ['a chart of another kind', () => ({ helm_chart_id: w.shopChart.id }), 400, /not a chart of the App kind/],
    ['a missing cluster', () => ({ cluster_id: MISSING }), 404, /./],
  ])('%s: refused, nothing written', async (_, fields, status, message) => {
    const body = appBody(fields());
    const res = await expectUnchanged(server, TABLES, () => rest('POST', '/api/v2/deployments', { headers: w.callers.owner.headers, body }));
    expect([res.status, res.body.message]).toEqual([status, expect.stringMatching(message)]);
  });

  test('a duplicate name in the cluster is 409; a second deployment of a chart once per cluster is 409', async () => {
    const first = await create();
    const dup = await expectUnchanged(server, TABLES, () => rest('POST', '/api/v2/deployments', { headers: w.callers.owner.headers, body: appBody({ name: first.name }) }));
    expect([dup.status, dup.body.message]).toEqual([409, expect.stringContaining(first.name)]);
    const shop = { kind_id: w.shop.id, cluster_id: w.cluster.id, helm_chart_id: w.shopChart.id };
    expect((await rest('POST', '/api/v2/deployments', { headers: admin, body: shop })).status).toBe(201);
    expect((await expectUnchanged(server, TABLES, () => rest('POST', '/api/v2/deployments', { headers: admin, body: shop }))).status).toBe(409);
  });
});

describe('PUT /api/v2/deployments/{id}', () => {
  const put = (id: string, body: Record<string, unknown>, headers = w.callers.maintainer.headers) => rest('PUT', `/api/v2/deployments/${id}`, { headers, body });

  test('a Maintainer changes the config: 200 with the deployment; an Upgrade task with its delta; fields left out stay', async () => {
    const d = await create({ values_override: { keep: true } });
    const res = await put(d.id, { config: { replicas: 3 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: d.id, name: d.name, config: { replicas: 3 }, values_override: { keep: true }, enabled: true });
    expect((await tasksOf(server, d.id)).map((t) => [t.tag, t.operation.config_delta ?? null])).toEqual([
      ['Install', null],
      ['Upgrade', { replicas: [2, 3] }],
    ]);
  });

  test('tasks as GraphQL derives them: description only none; disable Uninstall; enable Install; rename Recreate then Upgrade; dependents reinstalled', async () => {
    const db = await create();
    const dependent = await create({ config: { replicas: 1, db: db.id } });
    expect((await put(db.id, { description_md: 'notes' })).body.description_md).toBe('notes');
    expect((await tasksOf(server, db.id)).map((t) => t.tag)).toEqual(['Install']);
    expect((await put(db.id, { description_md: null })).body.description_md).toBeNull();

    const blocked = await expectUnchanged(server, TABLES, () => put(db.id, { enabled: false }));
    expect([blocked.status, blocked.body.message]).toEqual([409, expect.stringContaining(dependent.name)]);

    expect((await put(dependent.id, { enabled: false })).body.enabled).toBe(false);
    expect((await tasksOf(server, dependent.id)).map((t) => t.tag)).toEqual(['Install', 'Uninstall']);
    await put(dependent.id, { enabled: true });
    expect((await tasksOf(server, dependent.id)).map((t) => t.tag)).toEqual(['Install', 'Uninstall', 'Install']);

    const renamed = await put(db.id, { name: `${db.name}-x` });
    expect(renamed.body.name).toBe(`${db.name}-x`);
    expect((await tasksOf(server, db.id)).map((t) => t.tag)).toEqual(['Install', 'Recreate', 'Upgrade']);
    expect((await tasksOf(server, dependent.id)).at(-1)?.tag).toBe('Reinstall');
  });

  test.each([
    ['an env User', 'envUser', 403],
    ['a bot holding Owner', 'ownerBot', 200],
    ['the env Admin', 'envAdmin', 200],
    ['an Admin of another env', 'outsider', 404],
  ] as const)('%s: %s', async (_, who, status) => {
    const d = await create();
    const call = () => put(d.id, { config: { replicas: 5 } }, w.callers[who].headers);
    const res = status === 200 ? await call() : await expectUnchanged(server, TABLES, call);
    expect(res.status).toBe(status);
    if (status === 200) expect(res.body.config).toEqual({ replicas: 5 });
  });

  test('the deployment itself may update itself (a maintainer of itself); a missing one is 404', async () => {
    const d = await create();
    const self = await deploymentCaller(server, d.id);
    expect((await put(d.id, { description_md: 'by itself' }, self.headers)).body.description_md).toBe('by itself');
    expect((await put(MISSING, { description_md: 'x' }, admin)).status).toBe(404);
  });

  test.each([
    ['values_override null', { values_override: null }, /^values_override \(body\)/],
    ['enabled null', { enabled: null }, /^enabled \(body\)/],
    ['name that is not a string', { name: 1 }, /^name \(body\)/],
    ['a helm_chart_id that is not a uuid', { helm_chart_id: 'x' }, /^helm_chart_id \(body\)/],
    ['a config missing a required input', { config: { mode: 'x' } }, /replicas/],
  ])('%s is 400, nothing written', async (_, body, message) => {
    const d = await create();
    const res = await expectUnchanged(server, TABLES, () => put(d.id, body));
    expect([res.status, res.body.message]).toEqual([400, expect.stringMatching(message)]);
  });
});

describe('DELETE /api/v2/deployments/{id}', () => {
  test('an Owner deletes it: 204 with no body; it is Deleting with an Uninstall task; a second delete is 409', async () => {
    const d = await create();
    const res = await rest('DELETE', `/api/v2/deployments/${d.id}`, { headers: w.callers.owner.headers });
    expect([res.status, res.text]).toEqual([204, '']);
    expect((await rest('GET', `/api/v2/deployments/${d.id}`, { headers: admin })).body.status).toBe('Deleting');
    expect((await tasksOf(server, d.id)).map((t) => t.tag)).toEqual(['Install', 'Uninstall']);
    expect((await expectUnchanged(server, TABLES, () => rest('DELETE', `/api/v2/deployments/${d.id}`, { headers: w.callers.owner.headers }))).status).toBe(409);
  });

  test('a deployment another one uses (even a disabled one) is 409 naming it, nothing written', async () => {
    const db = await create();
    const dependent = await create({ config: { replicas: 1, db: db.id } });
    await rest('PUT', `/api/v2/deployments/${dependent.id}`, { headers: admin, body: { enabled: false } });
    const res = await expectUnchanged(server, TABLES, () => rest('DELETE', `/api/v2/deployments/${db.id}`, { headers: admin }));
    expect([res.status, res.body.message]).toEqual([409, expect.stringContaining(dependent.name)]);
  });

  test.each([
    ['a Maintainer', 'maintainer', 403],
    ['an env User', 'envUser', 403],
    ['an Admin of another env', 'outsider', 404],
    ['a bot holding Owner', 'ownerBot', 204],
    ['the env Admin', 'envAdmin', 204],
  ] as const)('%s: %s', async (_, who, status) => {
    const d = await create();
    const call = () => rest('DELETE', `/api/v2/deployments/${d.id}`, { headers: w.callers[who].headers });
    const res = status === 204 ? await call() : await expectUnchanged(server, TABLES, call);
    expect(res.status).toBe(status);
  });

  test('a site admin deletes any; a missing one is 404; a malformed id 400', async () => {
    const d = await create();
    expect((await rest('DELETE', `/api/v2/deployments/${d.id}`, { headers: admin })).status).toBe(204);
    expect((await rest('DELETE', `/api/v2/deployments/${MISSING}`, { headers: admin })).status).toBe(404);
    const bad = await rest('DELETE', '/api/v2/deployments/nope', { headers: admin });
    expect([bad.status, bad.body.message]).toEqual([400, expect.stringMatching(/^id \(path parameter\)/)]);
  });
});
