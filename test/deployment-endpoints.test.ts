import { DeploymentKind, DeploymentResourceType, HelmChart, HelmRegistry } from '../src/entities/index.js';
import { HelmRegistryProvider } from '../src/entities/enums.js';
import { DeploymentEndpoints } from '../src/deployments/endpoint.js';
import { startBerth, type Berth } from '../src/server/app.js';
import { ResourceSync } from '../src/workers/resource-sync.js';
import { engineName } from './support/database.js';
import { startEndpoints, type EndpointRequest, type Endpoints } from './support/endpoints.js';
import { build, persist, unique } from './support/fixtures.js';
import { kubeconfigFor, startKubeApiDouble, type KubeApiDouble } from './support/kube-api/index.js';
import { recordingLogger } from './support/logger.js';
import { startTestServer, testConfig, type TestServer } from './support/server.js';
import { Feed, waitFor } from './support/subscriptions.js';

/**
 * How Berth calls deployments, through a real server whose task worker installs them in the API server double (its
 * helm-controller simulated): chart actions (InvokeAction tasks), the reported status poller and the deployment
 * resource sync. DEPLOYMENT_ENDPOINT_URL points at the endpoints double, which sees each deployment's ingress host
 * as the first step of the path.
 */
const DOMAIN = 'apps.example.com';
const CALLS = {
  DEPLOYMENT_CALL_TIMEOUT_SECONDS: '1',
  REPORTED_STATUS: 'true',
  REPORTED_STATUS_MIN_INTERVAL_SECONDS: '0.2',
  RESOURCE_SYNC: 'true',
};
let server: TestServer;
let double: KubeApiDouble;
let endpoints: Endpoints;
let admin: Record<string, string>;
let clusterId: string;
const closers: (() => Promise<unknown>)[] = [];
/** the resource sync started by a test in place of the server's */
let restartedSync: ResourceSync | undefined;

beforeAll(async () => {
  endpoints = await startEndpoints();
  double = await startKubeApiDouble({ helmController: { delayMs: 20 } });
  server = await startTestServer({
    ...CALLS,
    DEPLOYMENT_ENDPOINT_URL: `${endpoints.url}/{host}`,
    K8S_WATCH: 'true',
    TASK_WORKER: 'true',
    TASK_POLL_MS: '200',
    TASK_LEASE_SECONDS: '2',
    TASK_RELEASE_TIMEOUT_SECONDS: '5',
  });
  admin = await server.adminAuth();
  const env = (await server.gql<any, object>(`mutation($n: String!) { createEnv(input: { name: $n }) { id } }`, { n: `calls-${unique()}` }, admin)).data.createEnv;
  const imported = await server.gql<any, object>(
    `mutation($input: CreateClustersFromKubeconfigInput!) { createClustersFromKubeconfig(input: $input) { id } }`,
    { input: { kubeconfig: kubeconfigFor(double, { contexts: ['calls'] }), contexts: ['calls'], envId: env.id } },
    admin,
  );
  expect(imported.errors).toBeUndefined();
  clusterId = imported.data.createClustersFromKubeconfig[0].id;
  const updated = await server.gql<any, object>(
    `mutation($id: ID!, $domain: String!) { updateCluster(id: $id, input: { ignore: false, ingressDomain: $domain, ingressTlsSecretName: "wildcard-tls" }) { id } }`,
    { id: clusterId, domain: DOMAIN },
    admin,
  );
  expect(updated.errors).toBeUndefined();
  // the first cluster this process watches also loads the Kubernetes client (lazily): seconds on a busy machine
  await waitFor(async () => (await server.sql<{ is_ok: boolean }>('select is_ok from k8s_clusters where id = ?', [clusterId]))[0].is_ok, 'the cluster healthy', 20_000);
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await server?.stop();
  await double?.close();
  await endpoints?.close();
});

interface App {
  id: string;
  name: string;
  kindId: string;
  chartId: string;
  /** where the endpoints double sees the deployment's ingress host: `/<namespace>.<domain>` */
  prefix: string;
}

/** A deployment of a chart of its own, installed by the task worker (so it has a revision). */
async function installed(name: string, chart: Partial<HelmChart>): Promise<App> {
  const kind = build(DeploymentKind, { name: `Calls${unique()}` });
  const registry = build(HelmRegistry, { domainName: 'registry.example.com', repoName: `charts/${kind.name.toLowerCase()}`, kind, provider: HelmRegistryProvider.Oci });
  const helmChart = build(HelmChart, { helmRegistry: registry, imageDigest: `sha256:${unique()}`, imageTag: '1.0.0', ...chart });
  await persist(server, kind, registry, helmChart);
  const res = await server.gql<any, object>(
    `mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { id } }`,
    { input: { clusterId, kindId: kind.id, helmChartId: helmChart.id, name } },
    admin,
  );
  expect(res.errors).toBeUndefined();
  const id = res.data.createDeployment.id;
  await waitFor(async () => (await server.sql<{ revision_id: string | null }>('select revision_id from deployments where id = ?', [id]))[0].revision_id !== null, `${name} installed`);
  return { id, name, kindId: kind.id, chartId: helmChart.id, prefix: `/${kind.name.toLowerCase()}-${name}.${DOMAIN}` };
}

const INGRESS = { apiVersion: 'platz.io/v1beta2', kind: 'Features', spec: { ingress: { enabled: true } } };
const requestsTo = (app: App) => endpoints.requests.filter((r) => r.path.startsWith(`${app.prefix}/`));
const json = (request: EndpointRequest) => JSON.parse(request.body) as Record<string, any>;
/** what Berth must never send a deployment: its own credentials, or the caller's */
const expectNoCredentials = (requests: EndpointRequest[]) => {
  expect(requests.length).toBeGreaterThan(0);
  for (const r of requests) expect([r.headers.authorization, r.headers['x-platz-token'], r.headers.cookie]).toEqual([undefined, undefined, undefined]);
};

test('DEPLOYMENT_ENDPOINT_URL must make an http(s) URL once the host and namespace are put in', () => {
  expect(testConfig({}).DEPLOYMENT_ENDPOINT_URL).toBe('https://{host}');
  expect(testConfig({ DEPLOYMENT_ENDPOINT_URL: 'http://ingress.{namespace}.svc:8080/{host}' }).DEPLOYMENT_ENDPOINT_URL).toBe('http://ingress.{namespace}.svc:8080/{host}');
  for (const bad of ['ftp://{host}', '{host}', 'https:///{host}']) expect(() => testConfig({ DEPLOYMENT_ENDPOINT_URL: bad })).toThrow(/DEPLOYMENT_ENDPOINT_URL: must be an http\(s\) URL/);
});

describe('InvokeAction', () => {
  const ACTIONS = [
    { apiVersion: 'platz.io/v1beta1', kind: 'Action', spec: { id: 'flush', title: 'Flush', endpoint: 'standard_ingress', path: '/actions/flush', method: 'PUT', allowed_role: 'Maintainer' } },
    {
      apiVersion: 'platz.io/v1beta1',
      kind: 'Action',
      // no method: POST
      spec: {
        id: 'resize',
        title: 'Resize',
        endpoint: 'standard_ingress',
        path: 'actions/resize',
        allowed_role: 'Maintainer',
        ui_schema: {
          inputs: [
            { id: 'size', type: 'number', label: 'Size', required: true },
            { id: 'peer', type: 'CollectionSelect', collection: 'deployments', label: 'Peer' },
          ],
          outputs: { values: [{ path: ['spec', 'replicas'], value: { FieldValue: { input: 'size' } } }, { path: ['peer'], value: { FieldProperty: { input: 'peer', property: 'name' } } }] },
        },
      },
    },
  ];
  let app: App;
  beforeAll(async () => {
    app = await installed('actions', { actionsSchema: ACTIONS, features: { standard_ingress: true } });
  });

  async function invoke(target: App, actionId: string, body: unknown) {
    const res = await server.gql<any, object>(
      `mutation($input: CreateDeploymentTaskInput!) { createDeploymentTask(input: $input) { id } }`,
      { input: { deploymentId: target.id, invokeAction: { helmChartId: target.chartId, actionId, body } } },
      admin,
    );
    expect(res.errors).toBeUndefined();
    const id = res.data.createDeploymentTask.id;
    const task = async () => (await server.sql<{ status: string; reason: string | null }>('select status, reason from deployment_tasks where id = ?', [id]))[0];
    await waitFor(async () => ['Done', 'Failed'].includes((await task()).status), `the ${actionId} task to end`);
    return task();
  }

  test('the action is called on the deployment with its method, path and body as JSON; its answer is the Done task\'s reason; no credential goes out', async () => {
    endpoints.respond(`PUT ${app.prefix}/actions/flush`, { status: 202, body: { flushed: 3 } });
    expect(await invoke(app, 'flush', { keys: ['a', 'b'] })).toEqual({ status: 'Done', reason: 'HTTP 202: {"flushed":3}' });
    const [call] = requestsTo(app);
    expect(call).toMatchObject({ method: 'PUT', path: `${app.prefix}/actions/flush`, headers: { 'content-type': 'application/json' } });
    expect(json(call)).toEqual({ keys: ['a', 'b'] });
    // the task was created with the admin's bearer token: it stays in Berth
    expectNoCredentials(requestsTo(app));
  });

  test('an action with a UI schema sends its outputs rendered from the body (a picked deployment included), by POST when it names no method', async () => {
    endpoints.respond(`POST ${app.prefix}/actions/resize`, { body: 'resized' });
    expect(await invoke(app, 'resize', { size: 3, peer: app.id, ignored: true })).toEqual({ status: 'Done', reason: 'HTTP 200: resized' });
    expect(json(requestsTo(app).at(-1)!)).toEqual({ spec: { replicas: 3 }, peer: 'actions' });
    // a required input left out: the task fails before any call
    const before = requestsTo(app).length;
    expect(await invoke(app, 'resize', { peer: app.id })).toEqual({ status: 'Failed', reason: 'The body has no value for the required input size' });
    expect(requestsTo(app)).toHaveLength(before);
  });

  test('an answer other than 2xx, no answer in time and a redirect to another host fail the task, each saying so; a redirect within the origin is followed', async () => {
    endpoints.respond(`PUT ${app.prefix}/actions/flush`, { status: 500, body: 'cache is locked' });
    expect(await invoke(app, 'flush', {})).toEqual({ status: 'Failed', reason: 'HTTP 500: cache is locked' });

    endpoints.respond(`PUT ${app.prefix}/actions/flush`, { delayMs: 3000, body: 'too late' });
    expect(await invoke(app, 'flush', {})).toEqual({ status: 'Failed', reason: expect.stringMatching(/actions\/flush did not answer within 1000 ms$/) });

    endpoints.respond(`PUT ${app.prefix}/actions/flush`, { redirectTo: `http://localhost:${endpoints.port}${app.prefix}/actions/elsewhere` });
    expect(await invoke(app, 'flush', {})).toEqual({ status: 'Failed', reason: expect.stringContaining(`redirected to another host (localhost:${endpoints.port}); not followed`) });
    expect(endpoints.requests.some((r) => r.path.endsWith('/actions/elsewhere'))).toBe(false);

    endpoints.respond(`PUT ${app.prefix}/actions/flush`, { status: 307, redirectTo: `${app.prefix}/actions/flush-v2` });
    endpoints.respond(`PUT ${app.prefix}/actions/flush-v2`, { body: 'flushed at v2' });
    expect(await invoke(app, 'flush', { keys: ['c'] })).toEqual({ status: 'Done', reason: 'HTTP 200: flushed at v2' });
    expect(json(requestsTo(app).at(-1)!)).toEqual({ keys: ['c'] });
    expectNoCredentials(requestsTo(app));
  });

  test('a deployment without an ingress host fails the task, saying why, and nothing is called', async () => {
    const plain = await installed('plain', { actionsSchema: ACTIONS });
    expect(await invoke(plain, 'flush', {})).toEqual({ status: 'Failed', reason: 'The deployment cannot be called: its chart enables no standard ingress' });
    expect(requestsTo(plain)).toEqual([]);
  });
});

describe('reported status', () => {
  const HEALTHY = { status: { name: 'Healthy', color: 'success' }, primary_metric: null, metrics: null, notices: [] };
  const reported = async (id: string) => (await server.sql<{ reported_status: any }>('select reported_status from deployments where id = ?', [id]))[0].reported_status;
  const statusFeature = (refresh: number) => ({ ...INGRESS, spec: { ...INGRESS.spec, status: { endpoint: 'standard_ingress', path: '/status', refresh_interval_secs: refresh } } });

  test('the status endpoint is polled into reported_status in Platz\'s shape and streamed; a failing endpoint leaves why, and a good answer replaces it', async () => {
    const feed = new Feed(server.berth.wsUrl, admin, 'subscription { deploymentEvents { operation deployment { id reportedStatus } } }');
    closers.push(() => feed.dispose());
    await feed.live();
    const app = await installed('status', { features: statusFeature(0) });
    endpoints.respond(`GET ${app.prefix}/status`, { body: HEALTHY });
    await waitFor(async () => (await reported(app.id))?.get_successful === true, 'a good status');
    expect(await reported(app.id)).toEqual({ timestamp: expect.any(String), get_successful: true, content: HEALTHY, error: null });
    await feed.until((f) => f.changes.some((c: any) => c.deployment?.id === app.id && c.deployment.reportedStatus?.content?.status?.name === 'Healthy'), 'the status streamed');

    const failing = async (response: object, error: RegExp) => {
      endpoints.respond(`GET ${app.prefix}/status`, response);
      await waitFor(async () => error.test((await reported(app.id))?.error ?? ''), `an error matching ${error}`);
      expect(await reported(app.id)).toEqual({ timestamp: expect.any(String), get_successful: false, content: null, error: expect.stringMatching(error) });
    };
    await failing({ status: 503, body: 'overloaded' }, /^The status endpoint answered HTTP 503: overloaded$/);
    await failing({ body: 'fine, thanks' }, /not JSON/);
    await failing({ body: { healthy: true } }, /without status\.name/);
    await failing({ delayMs: 3000, body: HEALTHY }, /status did not answer within 1000 ms$/);

    endpoints.respond(`GET ${app.prefix}/status`, { body: { ...HEALTHY, notices: [{ level: 'Info', text: 'back' }] } });
    await waitFor(async () => (await reported(app.id))?.content?.notices?.[0]?.text === 'back', 'the status back');
    expect(requestsTo(app).every((r) => r.method === 'GET' && r.path === `${app.prefix}/status`)).toBe(true);
    expectNoCredentials(requestsTo(app));
  });

  test('each deployment is polled every max(refresh_interval_secs, the minimum); a disabled one is cleared and no longer polled', async () => {
    // a v0 document: status at the top level, standard_ingress: true
    const app = await installed('slow', { features: { standard_ingress: true, status: { endpoint: 'standard_ingress', path: 'health', refresh_interval_secs: 1 } } });
    const times: number[] = [];
    endpoints.respond(`GET ${app.prefix}/health`, () => (times.push(Date.now()), { body: HEALTHY }));
    await waitFor(() => times.length >= 3, 'three polls', 6000);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(950);

    const res = await server.gql<any, object>(`mutation($id: ID!) { updateDeployment(id: $id, input: { enabled: false }) { id } }`, { id: app.id }, admin);
    expect(res.errors).toBeUndefined();
    await waitFor(async () => (await reported(app.id)) === null, 'the status cleared');
    await waitFor(() => !server.berth.reportedStatus!.deploymentIds.includes(app.id), 'the polls stopped');
    const polled = times.length;
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(times).toHaveLength(polled);
    expect(await reported(app.id)).toBeNull();
  });
});

describe('deployment resources sync', () => {
  const target = (path: string, method: string) => ({ target: { endpoint: 'standard_ingress', path, method } });
  const LIFECYCLE = { create: target('/resources', 'POST'), update: target('/resources/update', 'PUT'), delete: target('/resources/delete', 'DELETE') };
  let app: App;
  beforeAll(async () => {
    app = await installed('owner', { features: INGRESS });
  });

  async function resourceType(owner: App, spec: object): Promise<string> {
    const em = server.em.fork();
    const type = build(DeploymentResourceType, { deploymentKind: em.getReference(DeploymentKind, owner.kindId), key: `t${unique()}`, spec: { values_ui: { inputs: [{ id: 'apiKey', type: 'text', sensitive: true }] }, ...spec } });
    em.persist(type);
    await em.flush();
    return type.id;
  }
  let seq = 0;
  async function create(typeId: string, owner = app, props: object = { url: 'https://shop', apiKey: 'sk_secret' }): Promise<string> {
    const res = await server.gql<any, object>(
      `mutation($input: CreateDeploymentResourceInput!) { createDeploymentResource(input: $input) { id } }`,
      { input: { typeId, deploymentId: owner.id, name: `r${++seq}`, props } },
      admin,
    );
    expect(res.errors).toBeUndefined();
    return res.data.createDeploymentResource.id;
  }
  const update = async (id: string, props: object) => {
    const res = await server.gql<any, object>(`mutation($id: ID!, $props: JSONObject!) { updateDeploymentResource(id: $id, input: { props: $props }) { syncStatus } }`, { id, props }, admin);
    expect(res.data?.updateDeploymentResource.syncStatus).toBe('Updating');
  };
  const remove = async (id: string) => {
    const res = await server.gql<any, object>(`mutation($id: ID!) { deleteDeploymentResource(id: $id) { syncStatus } }`, { id }, admin);
    expect(res.data?.deleteDeploymentResource.syncStatus).toBe('Deleting');
  };
  const row = async (id: string) =>
    (await server.sql<{ sync_status: string; sync_reason: string | null; exists: boolean }>('select sync_status, sync_reason, exists from deployment_resources where id = ?', [id]))[0];
  const settled = (id: string, status = 'Ready') => waitFor(async () => (await row(id)).sync_status === status, `resource ${id} ${status}`);
  const callsFor = (id: string) => requestsTo(app).filter((r) => r.body.includes(id));

  test('create, update and delete each call their lifecycle target with the resource, then make it Ready (the delete: exists = false), audited as the system', async () => {
    endpoints.respond(`POST ${app.prefix}/resources`, { status: 201, body: { created: true } });
    endpoints.respond(`PUT ${app.prefix}/resources/update`, { body: 'ok' });
    endpoints.respond(`DELETE ${app.prefix}/resources/delete`, { status: 204 });
    const typeId = await resourceType(app, { lifecycle: LIFECYCLE });
    const id = await create(typeId);
    await settled(id);
    expect(await row(id)).toEqual({ sync_status: 'Ready', sync_reason: null, exists: true });
    const [created] = callsFor(id);
    expect(created).toMatchObject({ method: 'POST', path: `${app.prefix}/resources`, headers: { 'content-type': 'application/json' } });
    // the deployment gets its resource whole, sensitive props included: they are its own
    expect(json(created)).toEqual({
      id, created_at: expect.any(String), type_id: typeId, deployment_id: app.id, name: expect.stringMatching(/^r\d+$/), exists: true,
      props: { url: 'https://shop', apiKey: 'sk_secret' }, sync_status: 'Creating', sync_reason: null,
    });

    await update(id, { url: 'https://shop/v2' });
    await settled(id);
    expect(json(callsFor(id)[1])).toMatchObject({ sync_status: 'Updating', props: { url: 'https://shop/v2', apiKey: 'sk_secret' } });

    await remove(id);
    await settled(id);
    expect(await row(id)).toEqual({ sync_status: 'Ready', sync_reason: null, exists: false });
    expect(callsFor(id).map((r) => `${r.method} ${r.path.slice(app.prefix.length)}`)).toEqual(['POST /resources', 'PUT /resources/update', 'DELETE /resources/delete']);
    expectNoCredentials(callsFor(id));
    const audited = await server.sql<{ actor_kind: string; request_id: string }>(`select actor_kind, request_id from audit_records where target_id = ? and operation = 'syncDeploymentResource' order by created_at`, [id]);
    expect(audited).toHaveLength(3);
    for (const a of audited) expect(a).toMatchObject({ actor_kind: 'system', request_id: expect.stringMatching(/^resource-sync:/) });
  });

  test('a failing target leaves the resource in Error with why (an error answer, no answer in time); an update that succeeds makes it Ready again', async () => {
    const typeId = await resourceType(app, { lifecycle: { create: target('/failing', 'POST'), update: target('/failing/update', 'PATCH') } });
    endpoints.respond(`POST ${app.prefix}/failing`, { status: 422, body: { error: 'no such plan' } });
    const refused = await create(typeId);
    await settled(refused, 'Error');
    expect(await row(refused)).toEqual({ sync_status: 'Error', sync_reason: 'The deployment answered HTTP 422: {"error":"no such plan"}', exists: true });

    endpoints.respond(`POST ${app.prefix}/failing`, { delayMs: 3000 });
    const slow = await create(typeId);
    await settled(slow, 'Error');
    expect((await row(slow)).sync_reason).toMatch(/\/failing did not answer within 1000 ms$/);

    endpoints.respond(`PATCH ${app.prefix}/failing/update`, { body: 'fixed' });
    await update(refused, { plan: 'basic' });
    await settled(refused);
    expect(await row(refused)).toEqual({ sync_status: 'Ready', sync_reason: null, exists: true });
  });

  test('with no target for the step the resource is Ready at once, nothing called; a deployment without an ingress host leaves it in Error saying so', async () => {
    const quiet = await resourceType(app, {});
    const id = await create(quiet);
    await settled(id);
    await remove(id);
    await waitFor(async () => (await row(id)).exists === false, 'deleted');
    expect(callsFor(id)).toEqual([]);

    const plain = await installed('no-ingress', {});
    const id2 = await create(await resourceType(plain, { lifecycle: LIFECYCLE }), plain);
    await settled(id2, 'Error');
    expect((await row(id2)).sync_reason).toBe('The deployment cannot be called: its chart enables no standard ingress');
  });

  test('a resource changed while its create was being called is not marked Ready: it is called again as it is now', async () => {
    const typeId = await resourceType(app, { lifecycle: { create: target('/racing', 'POST'), update: target('/racing/update', 'PUT') } });
    endpoints.respond(`POST ${app.prefix}/racing`, { delayMs: 400, body: 'created' });
    endpoints.respond(`PUT ${app.prefix}/racing/update`, { body: 'updated' });
    const id = await create(typeId, app, { size: 1 });
    await waitFor(() => callsFor(id).length === 1, 'the create under way');
    await update(id, { size: 2 });
    await waitFor(() => callsFor(id).length === 2, 'the update called');
    await settled(id);
    expect(callsFor(id).map((r) => [r.method, json(r).props.size])).toEqual([['POST', 1], ['PUT', 2]]);
    const audited = await server.sql<{ after: { syncStatus: string } }>(`select after from audit_records where target_id = ? and operation = 'syncDeploymentResource'`, [id]);
    expect(audited).toHaveLength(1);
  });

  test('resources left waiting while no sync ran are synced when one starts', async () => {
    const typeId = await resourceType(app, { lifecycle: { create: target('/later', 'POST') } });
    endpoints.respond(`POST ${app.prefix}/later`, { body: 'ok' });
    await server.berth.resourceSync!.stop();
    const waiting = [await create(typeId), await create(typeId)];
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const id of waiting) expect((await row(id)).sync_status).toBe('Creating');

    // a poll far away: only the start looks
    const restarted = (restartedSync = new ResourceSync(server.em, server.berth.services, server.db.target, server.berth.events, new DeploymentEndpoints({ urlTemplate: `${endpoints.url}/{host}`, timeoutMs: 1000 }), { pollMs: 600_000 }, recordingLogger()));
    closers.push(() => restarted.stop());
    restarted.start();
    for (const id of waiting) await settled(id);
    for (const id of waiting) expect(callsFor(id)).toHaveLength(1);
  });
});

// replicas share only a real PostgreSQL (the embedded engine serves one process)
const onPostgres = engineName() === 'postgres' ? describe : describe.skip;

onPostgres('two replicas', () => {
  let replica: Berth;
  beforeAll(async () => {
    replica = await startBerth(testConfig({ ...CALLS, DEPLOYMENT_ENDPOINT_URL: `${endpoints.url}/{host}` }), { database: server.db.target, print: () => {} });
    closers.push(() => replica.stop());
  });

  test('each resource is called once whichever replica syncs, and the other takes the sync over when the first stops', async () => {
    const app = await installed('shared', { features: INGRESS });
    const em = server.em.fork();
    const type = build(DeploymentResourceType, { deploymentKind: em.getReference(DeploymentKind, app.kindId), key: 'shared', spec: { lifecycle: { create: { target: { endpoint: 'standard_ingress', path: '/r', method: 'POST' } } } } });
    em.persist(type);
    await em.flush();
    endpoints.respond(`POST ${app.prefix}/r`, { body: 'ok' });
    const create = async (name: string) =>
      (await server.gql<any, object>(`mutation($input: CreateDeploymentResourceInput!) { createDeploymentResource(input: $input) { id } }`, { input: { typeId: type.id, deploymentId: app.id, name, props: {} } }, admin)).data
        .createDeploymentResource.id as string;
    const allReady = (ids: string[]) =>
      waitFor(async () => (await server.sql<{ n: number }>(`select count(*)::int as n from deployment_resources where sync_status = 'Ready' and id in (${ids.map(() => '?').join(',')})`, ids))[0].n === ids.length, 'all Ready');

    const first = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => create(`first-${i}`)));
    await allReady(first);
    // the sync started by the test before holds the lock: once it stops, the replica takes over on the next change
    await restartedSync!.stop();
    const second = await Promise.all([1, 2, 3].map((i) => create(`second-${i}`)));
    await allReady(second);
    const calls = requestsTo(app).map((r) => json(r).id as string);
    expect(calls.sort()).toEqual([...first, ...second].sort());
  });

  test('a deployment\'s status is polled from one replica; when it stops polling, the other takes over', async () => {
    const app = await installed('watched', { features: { ...INGRESS, spec: { ...INGRESS.spec, status: { endpoint: 'standard_ingress', path: '/status', refresh_interval_secs: 0 } } } });
    endpoints.respond(`GET ${app.prefix}/status`, { body: { status: { name: 'Up', color: 'success' } } });
    const pollers = () => [server.berth, replica].filter((b) => b.reportedStatus!.deploymentIds.includes(app.id));
    await waitFor(() => pollers().length === 1, 'one replica polling it');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(pollers()).toHaveLength(1);
    const [holder] = pollers();
    const other = holder === server.berth ? replica : server.berth;
    await holder.reportedStatus!.stop();
    await waitFor(() => other.reportedStatus!.deploymentIds.includes(app.id), 'the other replica polling it');
    const polled = requestsTo(app).length;
    await waitFor(() => requestsTo(app).length > polled + 1, 'polls go on');
  });
});
