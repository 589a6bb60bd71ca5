import { randomUUID } from 'node:crypto';
import { DeploymentTask, K8sResource, type Deployment } from '../src/entities/index.js';
import type { DeploymentTaskOperation } from '../src/entities/deployment-task-operation.js';
import { DeploymentTaskStatus } from '../src/entities/enums.js';
import { expectUnchanged } from './support/assertions.js';
import { insertDeployment, startWorld, type World } from './support/deployment-world.js';
import { build, persist } from './support/fixtures.js';
import { createUser, deploymentCaller, type Caller } from './support/identities.js';
import { ids, MISSING, restClient, RFC_3339_UTC, UUID, type Rest } from './support/rest.js';
import type { TestServer } from './support/server.js';

let server: TestServer;
let w: World;
let rest: Rest;
let admin: Record<string, string>;
let app: Deployment;
let other: Deployment;
let foreign: Deployment;
let pod: K8sResource;

beforeAll(async () => {
  ({ server, w } = await startWorld());
  rest = restClient(server);
  admin = await server.adminAuth();
  app = await insertDeployment(server, { name: 'web', kind: w.app, cluster: w.cluster, helmChart: w.appChart, config: { replicas: 1 } });
  other = await insertDeployment(server, { name: 'api', kind: w.app, cluster: w.cluster2, helmChart: w.appChart, config: { replicas: 1 } });
  foreign = await insertDeployment(server, { name: '', kind: w.shop, cluster: w.otherCluster, helmChart: w.shopChart });
  [pod] = await persist(server, build(K8sResource, { id: randomUUID(), cluster: w.cluster, deployment: app, kind: 'Deployment', apiVersion: 'apps/v1', name: 'web' }));
});
afterAll(() => server?.stop());

/** What creating and canceling a task may write; a refused call leaves them exactly as they were. */
const TABLES = ['deployments', 'deployment_tasks', 'audit_records'];

const HOUR = 3_600_000;

const invoke = (fields: Record<string, unknown> = {}) => ({ InvokeAction: { helm_chart_id: w.appChart.id, action_id: 'flush-cache', body: { all: true }, ...fields } });
const restart = (fields: Record<string, unknown> = {}) => ({ RestartK8sResource: { resource_id: pod.id, resource_name: 'web', ...fields } });
const later = () => new Date(Date.now() + HOUR).toISOString();

/** A task created through the route: an action on `app`, an hour ahead unless `execute_at` says otherwise. */
async function create(caller: Pick<Caller, 'headers'> = w.callers.maintainer, fields: Record<string, unknown> = {}) {
  const res = await rest('POST', '/api/v2/deployment-tasks', { headers: caller.headers, body: { deployment_id: app.id, operation: invoke(), execute_at: later(), ...fields } });
  expect([res.status, res.body.message]).toEqual([201, undefined]);
  return res.body;
}

/** Tasks inserted directly, for states the routes do not make (finished ones, other times). */
async function inserted(fields: Partial<DeploymentTask>[]): Promise<DeploymentTask[]> {
  return persist(server, ...fields.map((f) => build(DeploymentTask, { deployment: app, cluster: w.cluster, operation: { Reinstall: { reason: 'test' } }, actingUser: null, ...f })));
}

describe('GET /api/v2/deployment-tasks', () => {
  test("Platz's JSON for a task: every column of section 7, the operation externally tagged, nulls present", async () => {
    const operation: DeploymentTaskOperation = {
      Upgrade: { helm_chart_id: w.appChart2.id, prev_helm_chart_id: w.appChart.id, config_inputs: { replicas: 2 }, config_delta: { replicas: [1, 2] }, values_override: null },
    };
    const base = Date.now() - HOUR;
    const at = (offset: number) => new Date(base + offset);
    const [task] = await inserted([{
      createdAt: at(0), executeAt: at(1000), firstAttemptedAt: at(2000), startedAt: at(3000), finishedAt: at(4000),
      status: DeploymentTaskStatus.Done, reason: 'helm output', operation, actingDeployment: app,
    }]);
    const res = await rest('GET', `/api/v2/deployment-tasks/${task.id}`, { headers: admin });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: task.id,
      created_at: at(0).toISOString(),
      execute_at: at(1000).toISOString(),
      first_attempted_at: at(2000).toISOString(),
      started_at: at(3000).toISOString(),
      finished_at: at(4000).toISOString(),
      cluster_id: w.cluster.id,
      deployment_id: app.id,
      acting_user_id: null,
      acting_deployment_id: app.id,
      canceled_by_user_id: null,
      canceled_by_deployment_id: null,
      operation,
      status: 'Done',
      reason: 'helm output',
    });
    const [bare] = await inserted([{ operation: { Uninstall: {} } }]);
    expect((await rest('GET', `/api/v2/deployment-tasks/${bare.id}`, { headers: admin })).body).toMatchObject({
      operation: { Uninstall: {} }, status: 'Pending', first_attempted_at: null, started_at: null, finished_at: null, reason: null,
    });
  });

  test('latest execute_at first, in pages; num_total counts the whole list', async () => {
    const base = Date.now() + 10 * HOUR;
    const rows = await inserted([0, 2, 1].map((i) => ({ executeAt: new Date(base + i * 1000) })));
    const all = await rest('GET', '/api/v2/deployment-tasks', { headers: admin, query: { per_page: 500 } });
    const times = all.body.items.map((t: { execute_at: string }) => t.execute_at);
    expect(times).toEqual([...times].sort().reverse());
    expect(ids(all.body).slice(0, 3)).toEqual([rows[1].id, rows[2].id, rows[0].id]);
    const page = await rest('GET', '/api/v2/deployment-tasks', { headers: admin, query: { page: 2, per_page: 2 } });
    expect(page.body).toMatchObject({ page: 2, per_page: 2, num_total: all.body.num_total });
    expect(ids(page.body)).toEqual(ids(all.body).slice(2, 4));
  });

  test('filters: cluster_id, deployment_id, active_only, show_future (default true), created_from, env_id', async () => {
    const now = Date.now();
    const [onOther, started, done, future, old] = await inserted([
      { deployment: other, cluster: w.cluster2 },
      { status: DeploymentTaskStatus.Started },
      { status: DeploymentTaskStatus.Done },
      { executeAt: new Date(now + 20 * HOUR) },
      { createdAt: new Date(now - 48 * HOUR), executeAt: new Date(now - 48 * HOUR), status: DeploymentTaskStatus.Failed },
    ]);
    const [abroad] = await persist(server, build(DeploymentTask, { deployment: foreign, cluster: w.otherCluster, operation: { Uninstall: {} } }));
    const list = async (query: Record<string, string>) => ids((await rest('GET', '/api/v2/deployment-tasks', { headers: admin, query: { per_page: 500, ...query } })).body);

    expect(await list({ cluster_id: w.cluster2.id })).toEqual([onOther.id]);
    expect(await list({ deployment_id: other.id })).toEqual([onOther.id]);
    const active = await list({ active_only: 'true' });
    expect(active).toEqual(expect.arrayContaining([started.id, future.id, onOther.id]));
    expect(active).not.toContain(done.id);
    expect(await list({ active_only: 'false' })).toContain(done.id);
    expect(await list({})).toContain(future.id);
    expect(await list({ show_future: 'true' })).toContain(future.id);
    const due = await list({ show_future: 'false' });
    expect(due).not.toContain(future.id);
    expect(due).toEqual(expect.arrayContaining([started.id, done.id]));
    const recent = await list({ created_from: new Date(now - HOUR).toISOString() });
    expect(recent).toContain(done.id);
    expect(recent).not.toContain(old.id);
    // an offset is read as Platz reads it
    expect(await list({ created_from: '2000-01-01T02:00:00+02:00' })).toContain(old.id);
    const inEnv = await list({ env_id: w.env.id });
    expect(inEnv).toEqual(expect.arrayContaining([onOther.id, done.id]));
    expect(inEnv).not.toContain(abroad.id);
    expect(await list({ env_id: w.otherEnv.id })).toEqual([abroad.id]);
  });

  test.each([
    ['created_from that is not a timestamp', { created_from: 'yesterday' }, /^created_from \(query parameter\)/],
    ['active_only that is not a boolean', { active_only: '1' }, /^active_only \(query parameter\)/],
    ['deployment_id that is not a uuid', { deployment_id: 'x' }, /^deployment_id \(query parameter\)/],
  ])('%s is 400 naming it', async (_, query, message) => {
    const res = await rest('GET', '/api/v2/deployment-tasks', { headers: admin, query });
    expect([res.status, res.body.message]).toEqual([400, expect.stringMatching(message)]);
  });

  test('scoped per env: the tasks of deployments the caller may see; 404 by id otherwise, as missing', async () => {
    const [mine] = await inserted([{}]);
    const [theirs] = await persist(server, build(DeploymentTask, { deployment: foreign, cluster: w.otherCluster, operation: { Uninstall: {} } }));
    const envUser = await rest('GET', '/api/v2/deployment-tasks', { headers: w.callers.envUser.headers, query: { per_page: 500 } });
    expect(ids(envUser.body)).toContain(mine.id);
    expect(ids(envUser.body)).not.toContain(theirs.id);
    const hidden = await rest('GET', `/api/v2/deployment-tasks/${mine.id}`, { headers: w.callers.outsider.headers });
    const missing = await rest('GET', `/api/v2/deployment-tasks/${MISSING}`, { headers: w.callers.outsider.headers });
    expect([hidden.status, hidden.body]).toEqual([404, missing.body]);
    expect((await rest('GET', `/api/v2/deployment-tasks/${theirs.id}`, { headers: w.callers.outsider.headers })).status).toBe(200);
    const nobody = await createUser(server);
    expect((await rest('GET', '/api/v2/deployment-tasks', { headers: nobody.headers })).body).toMatchObject({ items: [], num_total: 0 });
    expect((await rest('GET', '/api/v2/deployment-tasks')).status).toBe(401);
  });
});

describe('POST /api/v2/deployment-tasks', () => {
  test("a Maintainer invokes an action: 201 with Platz's JSON; the task acts for the caller", async () => {
    const executeAt = later();
    const res = await rest('POST', '/api/v2/deployment-tasks', { headers: w.callers.maintainer.headers, body: { deployment_id: app.id, operation: invoke(), execute_at: executeAt } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(UUID),
      created_at: expect.stringMatching(RFC_3339_UTC),
      execute_at: executeAt,
      first_attempted_at: null,
      started_at: null,
      finished_at: null,
      cluster_id: w.cluster.id,
      deployment_id: app.id,
      acting_user_id: w.callers.maintainer.id,
      acting_deployment_id: null,
      canceled_by_user_id: null,
      canceled_by_deployment_id: null,
      operation: { InvokeAction: { helm_chart_id: w.appChart.id, action_id: 'flush-cache', body: { all: true } } },
      status: 'Pending',
      reason: null,
    });
    const [row] = await server.sql('select operation from deployment_tasks where id = ?', [res.body.id]);
    expect(row).toEqual({ operation: res.body.operation });
  });

  test('the deployment itself restarts one of its K8s resources, now by default', async () => {
    const self = await deploymentCaller(server, app.id);
    const before = Date.now();
    const res = await rest('POST', '/api/v2/deployment-tasks', { headers: self.headers, body: { deployment_id: app.id, operation: restart() } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ acting_user_id: null, acting_deployment_id: app.id, operation: { RestartK8sResource: { resource_id: pod.id, resource_name: 'web' } } });
    expect(Date.parse(res.body.execute_at)).toBeGreaterThanOrEqual(before - 1000);
  });

  test.each(['Install', 'Upgrade', 'Reinstall', 'Recreate', 'Uninstall'])("%s is 403 in Platz's words, nothing written", async (name) => {
    const operations: Record<string, unknown> = {
      Install: { helm_chart_id: w.appChart.id, config_inputs: {}, values_override: null },
      Upgrade: { helm_chart_id: w.appChart.id, prev_helm_chart_id: null, config_inputs: {}, config_delta: null, values_override: null },
      Reinstall: { reason: 'x' },
      Recreate: { old_cluster_id: w.cluster.id, old_namespace: 'a', new_cluster_id: w.cluster2.id, new_namespace: 'b' },
      Uninstall: {},
    };
    const res = await expectUnchanged(server, TABLES, () => rest('POST', '/api/v2/deployment-tasks', { headers: admin, body: { deployment_id: app.id, operation: { [name]: operations[name] } } }));
    expect([res.status, res.body]).toEqual([403, { message: `${name} tasks can't be created through the API` }]);
  });

  test.each([
    ['an unknown operation', () => ({ operation: { Explode: {} } }), 400, /^operation \(body\)/],
    ['two operations', () => ({ operation: { ...invoke(), ...restart() } }), 400, /^operation \(body\)/],
    ['an action without action_id', () => ({ operation: { InvokeAction: { helm_chart_id: MISSING, body: {} } } }), 400, /^operation \(body\)/],
    ['an execute_at that is not a timestamp', () => ({ execute_at: 'soon' }), 400, /^execute_at \(body\)/],
    ['an execute_at in the past', () => ({ execute_at: new Date(Date.now() - HOUR).toISOString() }), 400, /^execute_at \(body\): is in the past/],
    ['an unknown action', () => ({ operation: invoke({ action_id: 'nope' }) }), 400, /no action nope/],
    ["another chart than the deployment's", () => ({ operation: invoke({ helm_chart_id: w.appChart2.id }) }), 409, /current chart/],
    ['a wrong resource name', () => ({ operation: restart({ resource_name: 'api' }) }), 400, /named web/],
    ['a missing resource', () => ({ operation: restart({ resource_id: randomUUID() }) }), 404, /./],
    ['a missing deployment', () => ({ deployment_id: MISSING }), 404, /./],
  ])('%s: refused, nothing written', async (_, fields, status, message) => {
    const body = { deployment_id: app.id, operation: invoke(), ...fields() };
    const res = await expectUnchanged(server, TABLES, () => rest('POST', '/api/v2/deployment-tasks', { headers: w.callers.maintainer.headers, body }));
    expect([res.status, res.body.message]).toEqual([status, expect.stringMatching(message)]);
  });

  test.each([
    ['an Owner', 'owner', 201],
    ['the env Admin', 'envAdmin', 201],
    ['a bot holding Owner', 'ownerBot', 201],
    ['an env User (an action too)', 'envUser', 403],
    ['an Admin of another env', 'outsider', 404],
  ] as const)('%s: %s', async (_, who, status) => {
    const call = () => rest('POST', '/api/v2/deployment-tasks', { headers: w.callers[who].headers, body: { deployment_id: app.id, operation: invoke() } });
    const res = status === 201 ? await call() : await expectUnchanged(server, TABLES, call);
    expect(res.status).toBe(status);
    // a bot is recorded as the actor in Berth (a column Platz has not): neither a user nor a deployment
    if (who === 'ownerBot') expect(res.body).toMatchObject({ acting_user_id: null, acting_deployment_id: null });
  });

  test('a site admin; a user without a role (404); another deployment (403)', async () => {
    expect((await rest('POST', '/api/v2/deployment-tasks', { headers: admin, body: { deployment_id: app.id, operation: restart() } })).body.acting_user_id).toEqual(expect.stringMatching(UUID));
    const nobody = await createUser(server);
    const otherSelf = await deploymentCaller(server, other.id);
    await expectUnchanged(server, TABLES, async () => {
      expect((await rest('POST', '/api/v2/deployment-tasks', { headers: nobody.headers, body: { deployment_id: app.id, operation: invoke() } })).status).toBe(404);
      expect((await rest('POST', '/api/v2/deployment-tasks', { headers: otherSelf.headers, body: { deployment_id: app.id, operation: invoke() } })).status).toBe(403);
    });
  });
});

describe('DELETE /api/v2/deployment-tasks/{id} (cancel)', () => {
  const cancel = (id: string, headers: Record<string, string>, body: unknown = { reason: null }) => rest('DELETE', `/api/v2/deployment-tasks/${id}`, { headers, body });

  test('the actor cancels a task with a reason: 200 with the task, Canceled, finished, canceled by it; again is 409', async () => {
    const task = await create();
    const before = Date.now();
    const res = await cancel(task.id, w.callers.maintainer.headers, { reason: 'not needed' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...task, status: 'Canceled', reason: 'not needed', finished_at: expect.stringMatching(RFC_3339_UTC), canceled_by_user_id: w.callers.maintainer.id });
    expect(Date.parse(res.body.finished_at)).toBeGreaterThanOrEqual(before - 1000);
    expect(await server.sql("select 1 from audit_records where target_id = ? and operation = 'cancelDeploymentTask'", [task.id])).toHaveLength(1);
    const again = await expectUnchanged(server, TABLES, () => cancel(task.id, w.callers.maintainer.headers));
    expect(again.status).toBe(409);
  });

  test("a task due within 5 minutes is 403 in Platz's words, nothing written", async () => {
    const soon = await create(w.callers.maintainer, { execute_at: new Date(Date.now() + 4 * 60_000).toISOString() });
    const res = await expectUnchanged(server, TABLES, () => cancel(soon.id, admin));
    expect([res.status, res.body]).toEqual([403, { message: 'Cannot cancel task which is closed to being executed' }]);
  });

  test('an env Admin and a site admin cancel others\' tasks; a deployment its own (canceled_by_deployment_id); reason null keeps none', async () => {
    const byEnvAdmin = await cancel((await create()).id, w.callers.envAdmin.headers);
    expect(byEnvAdmin.body).toMatchObject({ status: 'Canceled', canceled_by_user_id: w.callers.envAdmin.id, reason: null });
    const bySiteAdmin = await cancel((await create()).id, admin);
    expect(bySiteAdmin.body).toMatchObject({ status: 'Canceled', canceled_by_user_id: expect.stringMatching(UUID) });
    const self = await deploymentCaller(server, app.id);
    const own = await create(self);
    expect((await cancel(own.id, self.headers, {})).body).toMatchObject({ status: 'Canceled', canceled_by_user_id: null, canceled_by_deployment_id: app.id });
  });

  test('a bot cancels the tasks it created', async () => {
    const task = await create(w.callers.ownerBot);
    expect((await cancel(task.id, w.callers.ownerBot.headers)).body).toMatchObject({ status: 'Canceled', canceled_by_user_id: null, canceled_by_deployment_id: null });
  });

  test.each([
    ['an Owner who did not create it', 'owner', 403],
    ['an env User', 'envUser', 403],
    ['a bot that did not create it', 'ownerBot', 403],
    ['an Admin of another env', 'outsider', 404],
  ] as const)('%s: %s, nothing written', async (_, who, status) => {
    const task = await create();
    const res = await expectUnchanged(server, TABLES, () => cancel(task.id, w.callers[who].headers));
    expect([res.status, Object.keys(res.body)]).toEqual([status, ['message']]);
  });

  test('the deployment cannot cancel a user\'s task (403); a user without a role 404; a missing task 404; bad bodies 400', async () => {
    const task = await create();
    const nobody = await createUser(server);
    const self = await deploymentCaller(server, app.id);
    await expectUnchanged(server, TABLES, async () => {
      expect((await cancel(task.id, self.headers)).status).toBe(403);
      expect((await cancel(task.id, nobody.headers)).status).toBe(404);
      expect((await cancel(MISSING, admin)).status).toBe(404);
      const badReason = await cancel(task.id, admin, { reason: 5 });
      expect([badReason.status, badReason.body.message]).toEqual([400, expect.stringMatching(/^reason \(body\)/)]);
      expect((await rest('DELETE', `/api/v2/deployment-tasks/${task.id}`, { headers: admin })).status).toBe(400);
    });
  });
});
