import { createDeployment as createDeploymentOf, watchedCluster } from './support/deployments.js';
import { unique } from './support/fixtures.js';
import { startKubeApiDouble, type KubeApiDouble } from './support/kube-api/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { Feed, waitFor } from './support/subscriptions.js';

/**
 * The task worker in the server, against the API server double with a simulated Flux helm-controller: each task is
 * claimed, carried out through the real client-node and finished, and its deployment's status follows.
 */
let server: TestServer;
let admin: Record<string, string>;
let double: KubeApiDouble;
let clusterId: string;
let envId: string;
const feeds: Feed[] = [];

beforeAll(async () => {
  // a release whose values ask for it fails, or never becomes ready
  double = await startKubeApiDouble({
    helmController: {
      delayMs: 30,
      fail: (release) => ((release.spec as { values?: { config?: { fail?: string } } })?.values?.config?.fail ?? null),
      hold: (release) => (release.spec as { values?: { config?: { hold?: boolean } } })?.values?.config?.hold === true,
    },
  });
  server = await startTestServer({ K8S_WATCH: 'true', TASK_WORKER: 'true', DEPLOYMENT_CREDENTIALS: 'true', DEPLOYMENT_CREDENTIALS_REFRESH_SECONDS: '1', TASK_POLL_MS: '200', TASK_LEASE_SECONDS: '2', TASK_RELEASE_TIMEOUT_SECONDS: '2', BERTH_PUBLIC_URL: 'https://berth.example.com' });
  admin = await server.adminAuth();
  ({ envId, clusterId } = await watchedCluster(server, admin, double, 'tasks'));
});
afterAll(async () => {
  await Promise.all(feeds.map((f) => f.dispose()));
  await server?.stop();
  await double?.close();
});

const createDeployment = (name: string, config: Record<string, unknown> = {}, chart: { valuesUi?: unknown; features?: unknown } = {}, valuesOverride?: Record<string, unknown>) =>
  createDeploymentOf(server, admin, clusterId, name, { config, ...chart, valuesOverride });

const tasksOf = (deploymentId: string) =>
  server.sql<{ operation: object; status: string; reason: string | null; claimed_by: string | null; first_attempted_at: Date | null }>(
    'select operation, status, reason, claimed_by, first_attempted_at from deployment_tasks where deployment_id = ? order by created_at',
    [deploymentId],
  );
const release = (namespace: string) =>
  double.get({ apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', metadata: { name: namespace, namespace } }) as
    | { metadata: { generation: number }; spec: { values: Record<string, any> } }
    | undefined;
const update = async (id: string, input: object) => {
  const res = await server.gql<any, object>(`mutation($id: ID!, $input: UpdateDeploymentInput!) { updateDeployment(id: $id, input: $input) { id } }`, { id, input }, admin);
  expect(res.errors).toBeUndefined();
};
const allDone = async (deploymentId: string, count: number) => {
  const tasks = await tasksOf(deploymentId);
  return tasks.length === count && tasks.every((t) => t.status === 'Done');
};
const deploymentRow = async (id: string) =>
  (await server.sql<{ status: string; reason: string | null; revision_id: string | null }>('select status, reason, revision_id from deployments where id = ?', [id]))[0];

test('a new deployment is installed: namespace and HelmRelease with its values, the task Done, the deployment Running, every step streamed', async () => {
  const feed = new Feed(server.berth.wsUrl, admin, `subscription { deploymentEvents { operation deployment { name status } } }`, {});
  feeds.push(feed);
  await feed.live();
  const { id, namespace } = await createDeployment('web', { greeting: 'hello' });

  await waitFor(async () => (await deploymentRow(id)).status === 'Running', 'the deployment Running');
  const [task] = await tasksOf(id);
  expect(task).toMatchObject({ status: 'Done', claimed_by: null, first_attempted_at: expect.anything() });
  const [{ id: taskId }] = await server.sql<{ id: string }>('select id from deployment_tasks where deployment_id = ?', [id]);
  expect(await deploymentRow(id)).toEqual({ status: 'Running', reason: null, revision_id: taskId });

  const ns = double.get({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })!;
  expect(ns.metadata.labels).toEqual({ platz: 'yes' });
  expect(ns.metadata.annotations).toMatchObject({ platz_deployment_id: id });
  const release = double.get({ apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', metadata: { name: namespace, namespace } })! as any;
  expect(release.spec.chartRef).toEqual({ kind: 'OCIRepository', name: namespace, namespace });
  expect(release.spec.values).toMatchObject({
    platz: { deployment_id: id, deployment_name: 'web', cluster_id: clusterId, env_id: envId, revision_id: taskId, own_url: 'https://berth.example.com' },
    config: { greeting: 'hello' },
  });
  const source = double.get({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository', metadata: { name: namespace, namespace } })! as any;
  expect(source.spec).toMatchObject({ url: expect.stringMatching(/^oci:\/\/registry\.example\.com\/charts\//), ref: { tag: '1.2.3' } });

  await feed.until((f) => f.changes.some((c: any) => c.deployment?.status === 'Running'), 'Running streamed');
  const statuses = feed.changes.filter((c: any) => c.deployment?.name === 'web').map((c: any) => c.deployment.status);
  expect(statuses).toEqual(expect.arrayContaining(['Installing', 'Running']));
  expect(statuses.indexOf('Installing')).toBeLessThan(statuses.indexOf('Running'));
});

test('a release that fails: the task Failed with the controller\'s message, the deployment Error', async () => {
  const { id } = await createDeployment('broken', { fail: 'container image not found' });
  await waitFor(async () => (await deploymentRow(id)).status === 'Error', 'the deployment Error');
  expect((await tasksOf(id))[0]).toMatchObject({ status: 'Failed', reason: expect.stringContaining('container image not found') });
  expect(await deploymentRow(id)).toMatchObject({ status: 'Error', reason: expect.stringContaining('container image not found'), revision_id: null });
});

test('a release that never becomes ready fails after the release timeout', async () => {
  const { id } = await createDeployment('stuck', { hold: true });
  await waitFor(async () => (await deploymentRow(id)).status === 'Error', 'the deployment Error');
  expect((await tasksOf(id))[0]).toMatchObject({ status: 'Failed', reason: expect.stringMatching(/not ready within 2 s/) });
});

test('a scheduled task waits for execute_at; a canceled one never runs', async () => {
  const { id, namespace } = await createDeployment('scheduled');
  await waitFor(async () => (await deploymentRow(id)).status === 'Running', 'installed');
  const workloads = () => server.sql<{ id: string; name: string }>('select id, name from k8s_resources where deployment_id = ? and kind = ?', [id, 'Deployment']);
  await waitFor(async () => (await workloads()).length === 1, 'its workload mirrored');
  const [resource] = await workloads();
  const create = (executeAt: Date) =>
    server.gql<any, object>(
      `mutation($input: CreateDeploymentTaskInput!) { createDeploymentTask(input: $input) { id status } }`,
      { input: { deploymentId: id, executeAt: executeAt.toISOString(), restartK8sResource: { resourceId: resource.id, resourceName: resource.name } } },
      admin,
    );
  const dueAt = new Date(Date.now() + 1500);
  const later = await create(dueAt);
  const canceled = await create(new Date(Date.now() + 1000));
  expect(later.errors).toBeUndefined();
  const cancel = await server.gql<any, object>(`mutation($id: ID!) { cancelDeploymentTask(id: $id) { status } }`, { id: canceled.data.createDeploymentTask.id }, admin);
  expect(cancel.data.cancelDeploymentTask.status).toBe('Canceled');

  const status = async (taskId: string) => (await server.sql<{ status: string; started_at: Date | null }>('select status, started_at from deployment_tasks where id = ?', [taskId]))[0];
  expect((await status(later.data.createDeploymentTask.id)).status).toBe('Pending');
  await waitFor(async () => (await status(later.data.createDeploymentTask.id)).status === 'Done', 'the scheduled restart done');
  expect(new Date((await status(later.data.createDeploymentTask.id)).started_at!).getTime()).toBeGreaterThanOrEqual(dueAt.getTime() - 10);
  const workload = double.get({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: resource.name, namespace } }) as any;
  expect(workload.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toEqual(expect.any(String));
  expect((await status(canceled.data.createDeploymentTask.id))).toEqual({ status: 'Canceled', started_at: null });
});

test('delete uninstalls: the namespace goes, and with it the deployment row', async () => {
  const { id, namespace } = await createDeployment('leaving');
  await waitFor(async () => (await deploymentRow(id)).status === 'Running', 'installed');
  const res = await server.gql<any, object>(`mutation($id: ID!) { deleteDeployment(id: $id) { status } }`, { id }, admin);
  expect(res.errors).toBeUndefined();
  await waitFor(async () => !double.get({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }), 'the namespace gone');
  await waitFor(async () => (await server.sql('select 1 from deployments where id = ?', [id])).length === 0, 'the deployment row gone');
});

test('an update upgrades with its config delta; a rename recreates the namespace, then upgrades', async () => {
  const { id, namespace } = await createDeployment('moving', { size: 1 });
  await waitFor(() => allDone(id, 1), 'installed');

  await update(id, { config: { size: 2 } });
  await waitFor(() => allDone(id, 2), 'upgraded');
  const upgrade = (await tasksOf(id))[1];
  expect(upgrade.operation).toMatchObject({ Upgrade: { config_delta: expect.anything(), config_inputs: { size: 2 } } });
  expect(release(namespace)!.metadata.generation).toBe(2);
  expect(release(namespace)!.spec.values.config).toEqual({ size: 2 });
  const [{ id: upgradeId }] = await server.sql<{ id: string }>('select id from deployment_tasks where deployment_id = ? order by created_at desc limit 1', [id]);
  expect(await deploymentRow(id)).toEqual({ status: 'Running', reason: null, revision_id: upgradeId });

  await update(id, { name: 'moved' });
  const moved = namespace.replace(/-moving$/, '-moved');
  await waitFor(() => allDone(id, 4), 'recreated and upgraded');
  expect((await tasksOf(id)).slice(2).map((t) => Object.keys(t.operation)[0])).toEqual(['Recreate', 'Upgrade']);
  await waitFor(() => !double.get({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }), 'the old namespace gone');
  expect(release(moved)!.spec.values.platz.deployment_name).toBe('moved');
  expect((await deploymentRow(id)).status).toBe('Running');
});

test('a secret the config picks is written into the namespace as an Opaque Secret; changing it reinstalls with the new contents', async () => {
  const secret = await server.gql<any, object>(
    `mutation($input: CreateSecretInput!) { createSecret(input: $input) { id } }`,
    { input: { envId, collection: 'db', name: `db-${unique()}`, contents: 'first-password' } },
    admin,
  );
  expect(secret.errors).toBeUndefined();
  const secretId = secret.data.createSecret.id;
  const valuesUi = {
    inputs: [{ id: 'db', type: 'CollectionSelect', collection: 'secrets', required: true }],
    outputs: { values: [{ path: ['database', 'secretName'], value: { FieldProperty: { input: 'db', property: 'name' } } }], secrets: { 'app-db': { password: { FieldProperty: { input: 'db', property: 'contents' } } } } },
  };
  const { id, namespace } = await createDeployment('with-secret', { db: secretId }, { valuesUi });
  await waitFor(() => allDone(id, 1), 'installed');
  const written = () => double.get({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-db', namespace } }) as { type: string; data?: Record<string, string>; stringData?: Record<string, string> } | undefined;
  const password = () => {
    const s = written()!;
    return s.stringData?.password ?? Buffer.from(s.data!.password, 'base64').toString();
  };
  expect(written()!.type).toBe('Opaque');
  expect(password()).toBe('first-password');
  // the values name the secret, never its contents
  expect(JSON.stringify(release(namespace)!.spec.values)).not.toContain('first-password');

  const changed = await server.gql<any, object>(`mutation($id: ID!) { updateSecret(id: $id, input: { contents: "second-password" }) { id } }`, { id: secretId }, admin);
  expect(changed.errors).toBeUndefined();
  await waitFor(() => allDone(id, 2), 'reinstalled');
  expect(Object.keys((await tasksOf(id))[1].operation)).toEqual(['Reinstall']);
  expect(password()).toBe('second-password');
  // no task reason, event or log carries the contents
  expect(JSON.stringify(await server.sql('select reason, operation from deployment_tasks where deployment_id = ?', [id]))).not.toContain('password');
});

test('the deployment\'s credentials: platz-creds in its namespace holds a token that acts as the deployment, refreshed', async () => {
  const { id, namespace } = await createDeployment('with-creds');
  await waitFor(() => allDone(id, 1), 'installed');
  const creds = () => double.get({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'platz-creds', namespace } }) as { type: string; stringData?: Record<string, string>; data?: Record<string, string> } | undefined;
  const read = (key: string) => {
    const s = creds()!;
    return s.stringData?.[key] ?? Buffer.from(s.data![key], 'base64').toString();
  };
  await waitFor(() => !!creds(), 'platz-creds written');
  expect(read('server_url')).toBe('https://berth.example.com');
  expect(new Date(read('expires_at')).getTime()).toBeGreaterThan(Date.now());
  const first = read('access_token');
  const me = await server.gql<any, object>(`{ me { __typename ... on Deployment { id name } } }`, {}, { authorization: `Bearer ${first}` });
  expect(me.data.me).toEqual({ __typename: 'Deployment', id, name: 'with-creds' });
  // written anew every second here: a new token (its issue time differs)
  await waitFor(() => read('access_token') !== first, 'refreshed', 4000);

  // a cluster that refuses the write: nothing breaks, and the next refresh after it recovers writes them again
  const path = `/api/v1/namespaces/${namespace}/secrets/platz-creds`;
  double.failAll(403, { method: 'PATCH', path });
  await waitFor(() => double.countRequests({ method: 'PATCH', path, status: 403 }) >= 2, 'two refused refreshes', 4000);
  const refused = read('access_token');
  double.recover();
  await waitFor(() => read('access_token') !== refused, 'written again once the cluster accepts it', 4000);
  expect((await deploymentRow(id)).status).toBe('Running');
});

test('restarting what is not a Deployment or StatefulSet fails with the reason', async () => {
  const { id, namespace } = await createDeployment('restart-kinds');
  await waitFor(() => allDone(id, 1), 'installed');
  double.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace } });
  const services = () => server.sql<{ id: string }>('select id from k8s_resources where deployment_id = ? and kind = ?', [id, 'Service']);
  await waitFor(async () => (await services()).length === 1, 'the Service mirrored');
  const [service] = await services();
  const res = await server.gql<any, object>(
    `mutation($input: CreateDeploymentTaskInput!) { createDeploymentTask(input: $input) { id } }`,
    { input: { deploymentId: id, restartK8sResource: { resourceId: service.id, resourceName: 'web' } } },
    admin,
  );
  expect(res.errors).toBeUndefined();
  await waitFor(async () => (await tasksOf(id))[1]?.status === 'Failed', 'the restart failed');
  expect((await tasksOf(id))[1].reason).toBe('A Service cannot be restarted; only Deployments and StatefulSets can');
  // the deployment itself is as it was
  expect((await deploymentRow(id)).status).toBe('Running');
});

// last: the env's node selector reinstalls every deployment of the env
test('the values: ingress from the cluster, the env\'s node selector and tolerations (also at the chart\'s paths), the override on top', async () => {
  const cluster = await server.gql<any, object>(
    `mutation($id: ID!) { updateCluster(id: $id, input: { ingressDomain: "apps.example.com", ingressTlsSecretName: "wildcard-tls", ingressClass: "nginx" }) { id } }`,
    { id: clusterId },
    admin,
  );
  expect(cluster.errors).toBeUndefined();
  const tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'apps', effect: 'NoSchedule' }];
  const env = await server.gql<any, object>(`mutation($id: ID!, $t: JSON) { updateEnv(id: $id, input: { nodeSelector: { pool: "apps" }, tolerations: $t }) { id } }`, { id: envId, t: tolerations }, admin);
  expect(env.errors).toBeUndefined();
  const features = { ingress: { enabled: true, hostname_format: 'Name' }, node_selector_paths: [['worker', 'nodeSelector']], tolerations_paths: [['worker', 'tolerations']] };
  const { id, namespace } = await createDeployment('edge', {}, { features }, { worker: { replicas: 3 }, ingress: { annotations: { a: 'b' } } });
  await waitFor(() => allDone(id, 1), 'installed');
  const values = release(namespace)!.spec.values;
  const host = 'edge.apps.example.com';
  expect(values.ingress).toEqual({
    enabled: true,
    className: 'nginx',
    hosts: [{ host, paths: [{ path: '/', pathType: 'Prefix' }] }],
    tls: [{ secretName: 'wildcard-tls', hosts: [host] }],
    annotations: { a: 'b' },
  });
  expect(values.nodeSelector).toEqual({ pool: 'apps' });
  expect(values.tolerations).toEqual(tolerations);
  expect(values.worker).toEqual({ nodeSelector: { pool: 'apps' }, tolerations, replicas: 3 });
});
