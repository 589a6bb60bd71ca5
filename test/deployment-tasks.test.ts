import { randomUUID } from 'node:crypto';
import { K8sResource, type Deployment } from '../src/entities/index.js';
import { build, persist } from './support/fixtures.js';
import { deploymentCaller } from './support/identities.js';
import { insertDeployment, rejected, startWorld, type World } from './support/deployment-world.js';
import type { TestServer } from './support/server.js';

let server: TestServer;
let w: World;
let app: Deployment;
let other: Deployment;
let pod: K8sResource;
let foreignPod: K8sResource;

beforeAll(async () => {
  ({ server, w } = await startWorld());
  app = await insertDeployment(server, { name: 'web', kind: w.app, cluster: w.cluster, helmChart: w.appChart, config: { replicas: 1 } });
  other = await insertDeployment(server, { name: 'api', kind: w.app, cluster: w.cluster, helmChart: w.appChart, config: { replicas: 1 } });
  [pod, foreignPod] = await persist(
    server,
    build(K8sResource, { id: randomUUID(), cluster: w.cluster, deployment: app, kind: 'Deployment', apiVersion: 'apps/v1', name: 'web' }),
    build(K8sResource, { id: randomUUID(), cluster: w.cluster, deployment: other, kind: 'Deployment', apiVersion: 'apps/v1', name: 'api' }),
  );
});
afterAll(() => server?.stop());

const FIELDS = 'id status reason executeAt operation { __typename ... on InvokeActionOperation { helmChartId actionId body } ... on RestartK8sResourceOperation { resourceId resourceName } } actingUser { id } canceledByUser { id } canceledByDeployment { id }';
const CREATE = `mutation($input: CreateDeploymentTaskInput!) { createDeploymentTask(input: $input) { ${FIELDS} } }`;
const CANCEL = `mutation($id: ID!, $reason: String) { cancelDeploymentTask(id: $id, reason: $reason) { ${FIELDS} } }`;

type Task = { id: string; status: string; reason: string | null; executeAt: string; operation: Record<string, unknown>; actingUser: { id: string } | null; canceledByUser: { id: string } | null; canceledByDeployment: { id: string } | null };

const invoke = (fields: Record<string, unknown> = {}) => ({ deploymentId: app.id, invokeAction: { helmChartId: w.appChart.id, actionId: 'flush-cache', body: { all: true } }, ...fields });
const restart = (fields: Record<string, unknown> = {}) => ({ deploymentId: app.id, restartK8sResource: { resourceId: pod.id, resourceName: 'web' }, ...fields });

async function create(input: Record<string, unknown>, headers = w.callers.maintainer.headers): Promise<Task> {
  const res = await server.gql<{ createDeploymentTask: Task }, unknown>(CREATE, { input }, headers);
  expect(res.errors).toBeUndefined();
  return res.data!.createDeploymentTask;
}

describe('createDeploymentTask', () => {
  test('a Maintainer invokes a chart action; the task records the action and the caller', async () => {
    const task = await create(invoke());
    expect(task).toMatchObject({
      status: 'Pending',
      operation: { __typename: 'InvokeActionOperation', helmChartId: w.appChart.id, actionId: 'flush-cache', body: { all: true } },
      actingUser: { id: w.callers.maintainer.id },
    });
    const [row] = await server.sql<{ operation: unknown; cluster_id: string }>('select operation, cluster_id from deployment_tasks where id = ?', [task.id]);
    expect(row).toEqual({ operation: { InvokeAction: { helm_chart_id: w.appChart.id, action_id: 'flush-cache', body: { all: true } } }, cluster_id: w.cluster.id });
    expect(await server.sql("select 1 from audit_records where target_id = ? and operation = 'createDeploymentTask'", [task.id])).toHaveLength(1);
  });

  test('a restart of one of its K8s resources, scheduled for later, by the deployment itself', async () => {
    const self = await deploymentCaller(server, app.id);
    const executeAt = new Date(Date.now() + 3_600_000).toISOString();
    const task = await create(restart({ executeAt }), self.headers);
    expect(task.operation).toEqual({ __typename: 'RestartK8sResourceOperation', resourceId: pod.id, resourceName: 'web' });
    expect(task.executeAt).toBe(executeAt);
    const [row] = await server.sql<{ acting_deployment_id: string }>('select acting_deployment_id from deployment_tasks where id = ?', [task.id]);
    expect(row.acting_deployment_id).toBe(app.id);
  });

  test.each([
    ['both operations', () => ({ ...invoke(), ...restart() }), 'input'],
    ['no operation', () => ({ deploymentId: app.id }), 'input'],
    ['an executeAt in the past', () => invoke({ executeAt: new Date(Date.now() - 120_000).toISOString() }), 'input.executeAt'],
    ['an unknown action', () => invoke({ invokeAction: { helmChartId: w.appChart.id, actionId: 'nope', body: {} } }), 'input.invokeAction.actionId'],
    ['a wrong resource name', () => restart({ restartK8sResource: { resourceId: pod.id, resourceName: 'other' } }), 'input.restartK8sResource.resourceName'],
  ])('%s is BAD_USER_INPUT and writes nothing', async (_, input, field) => {
    expect(await rejected(server, CREATE, { input: input() }, w.callers.maintainer.headers)).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  test("an action of another chart than the deployment's is a CONFLICT", async () => {
    const input = invoke({ invokeAction: { helmChartId: w.appChart2.id, actionId: 'flush-cache' } });
    expect((await rejected(server, CREATE, { input }, w.callers.maintainer.headers)).code).toBe('CONFLICT');
  });

  test("another deployment's K8s resource, or a missing one, is NOT_FOUND", async () => {
    for (const resourceId of [foreignPod.id, randomUUID()]) {
      expect((await rejected(server, CREATE, { input: restart({ restartK8sResource: { resourceId, resourceName: 'api' } }) }, w.callers.maintainer.headers)).code).toBe('NOT_FOUND');
    }
  });

  test('env Users and other deployments are FORBIDDEN (for actions too), other envs NOT_FOUND', async () => {
    const otherSelf = await deploymentCaller(server, other.id);
    expect((await rejected(server, CREATE, { input: invoke() }, w.callers.envUser.headers)).code).toBe('FORBIDDEN');
    expect((await rejected(server, CREATE, { input: invoke() }, otherSelf.headers)).code).toBe('FORBIDDEN');
    expect((await rejected(server, CREATE, { input: restart() }, w.callers.outsider.headers)).code).toBe('NOT_FOUND');
  });
});

describe('cancelDeploymentTask', () => {
  test('the actor cancels a Pending task with a reason; canceling again is a CONFLICT', async () => {
    const task = await create(invoke());
    const res = await server.gql<{ cancelDeploymentTask: Task }, unknown>(CANCEL, { id: task.id, reason: 'not needed' }, w.callers.maintainer.headers);
    expect(res.data?.cancelDeploymentTask).toMatchObject({ status: 'Canceled', reason: 'not needed', canceledByUser: { id: w.callers.maintainer.id } });
    const [row] = await server.sql<{ status: string; finished_at: Date | null }>('select status, finished_at from deployment_tasks where id = ?', [task.id]);
    expect(row.status).toBe('Canceled');
    expect(row.finished_at).not.toBeNull();
    expect(await server.sql("select 1 from audit_records where target_id = ? and operation = 'cancelDeploymentTask'", [task.id])).toHaveLength(1);
    expect((await rejected(server, CANCEL, { id: task.id }, w.callers.maintainer.headers)).code).toBe('CONFLICT');
  });

  test("an env Admin cancels others' tasks, and a deployment its own", async () => {
    const byMaintainer = await create(invoke());
    const res = await server.gql<{ cancelDeploymentTask: Task }, unknown>(CANCEL, { id: byMaintainer.id }, w.callers.envAdmin.headers);
    expect(res.data?.cancelDeploymentTask.canceledByUser?.id).toBe(w.callers.envAdmin.id);
    const self = await deploymentCaller(server, app.id);
    const own = await create(invoke(), self.headers);
    const mine = await server.gql<{ cancelDeploymentTask: Task }, unknown>(CANCEL, { id: own.id }, self.headers);
    expect(mine.data?.cancelDeploymentTask.canceledByDeployment?.id).toBe(app.id);
  });

  test('other callers who see the task are FORBIDDEN; other envs NOT_FOUND; a started task cannot be canceled', async () => {
    const task = await create(invoke());
    expect((await rejected(server, CANCEL, { id: task.id }, w.callers.owner.headers)).code).toBe('FORBIDDEN');
    expect((await rejected(server, CANCEL, { id: task.id }, (await deploymentCaller(server, app.id)).headers)).code).toBe('FORBIDDEN');
    expect((await rejected(server, CANCEL, { id: task.id }, w.callers.outsider.headers)).code).toBe('NOT_FOUND');
    await server.sql("update deployment_tasks set status = 'Started' where id = ?", [task.id]);
    expect((await rejected(server, CANCEL, { id: task.id }, await server.adminAuth())).code).toBe('CONFLICT');
  });
});
