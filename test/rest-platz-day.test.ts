import { DeploymentKind, HelmChart, HelmRegistry } from '../src/entities/index.js';
import { HelmRegistryProvider } from '../src/entities/enums.js';
import { watchedCluster } from './support/deployments.js';
import { build, persist, unique } from './support/fixtures.js';
import { startKubeApiDouble, type KubeApiDouble } from './support/kube-api/index.js';
import { createOidcProvider, type TestOidcProvider } from './support/oidc-provider.js';
import { connectPlatz, type PlatzClient } from './support/platz-client.js';
import { restClient, type Rest } from './support/rest.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitFor } from './support/subscriptions.js';

/**
 * A day of Platz's frontend against Berth, through its REST routes and its WebSocket only, with the task worker
 * carrying tasks out against the Kubernetes API double: log in, list envs, create a deployment, watch its Install
 * task appear and finish, schedule a task for later and cancel it, create an API token and use it.
 */
let provider: TestOidcProvider;
let double: KubeApiDouble;
let server: TestServer;
let rest: Rest;
let socket: PlatzClient | undefined;

beforeAll(async () => {
  provider = await createOidcProvider();
  await provider.listen();
  double = await startKubeApiDouble({ helmController: { delayMs: 30 } });
  server = await startTestServer({
    OIDC_ISSUER_URL: provider.issuer,
    OIDC_CLIENT_ID: provider.clientId,
    OIDC_CLIENT_SECRET: provider.clientSecret,
    OIDC_REDIRECT_URI: provider.redirectUri,
    K8S_WATCH: 'true',
    TASK_WORKER: 'true',
    TASK_POLL_MS: '200',
  });
  rest = restClient(server);
});
afterAll(async () => {
  socket?.socket.terminate();
  await server?.stop();
  await double?.close();
  await provider?.stop();
});

test("a Platz frontend's day", async () => {
  const admin = await server.adminAuth();
  const { envId, clusterId } = await watchedCluster(server, admin, double, 'day');
  // the catalog, as chart discovery writes it
  const kind = build(DeploymentKind, { name: `Shop${unique()}` });
  const registry = build(HelmRegistry, { domainName: 'registry.example.com', repoName: `charts/${kind.name.toLowerCase()}`, kind, provider: HelmRegistryProvider.Oci });
  const chart = build(HelmChart, { helmRegistry: registry, imageDigest: `sha256:${unique()}`, imageTag: '1.2.3', actionsSchema: { actions: [{ id: 'flush', title: 'Flush' }] } });
  await persist(server, kind, registry, chart);

  // log in through the provider, as the frontend does: start, let the browser sign in, post the code back
  provider.accounts.set('erin', { email: 'erin@example.com', email_verified: true, name: 'Erin' });
  const started = await rest('GET', '/api/v2/auth/google');
  const callback = await provider.signIn(started.body.redirect_url, 'erin');
  const login = await rest('POST', '/api/v2/auth/google/callback', { headers: { cookie: started.headers.get('set-cookie')!.split(';')[0] }, body: { auth_code: callback.searchParams.get('code') } });
  expect(login.status).toBe(200);
  const jwt: string = login.body.access_token;
  const erin = { authorization: `Bearer ${jwt}` };
  const me = await rest('GET', '/api/v2/auth/me', { headers: erin });
  expect(me.body.User).toMatchObject({ email: 'erin@example.com', display_name: 'Erin', is_admin: false });
  const erinId: string = me.body.User.id;

  // a new user sees no env until an env Admin lets her in: here the site admin, as the frontend's admin pages do
  expect((await rest('GET', '/api/v2/envs', { headers: erin })).body).toMatchObject({ items: [], num_total: 0 });
  expect((await rest('POST', '/api/v2/env-user-permissions', { headers: admin, body: { env_id: envId, user_id: erinId, role: 'User' } })).status).toBe(201);
  expect((await rest('POST', '/api/v2/deployment-permissions', { headers: admin, body: { env_id: envId, user_id: erinId, kind_id: kind.id, role: 'Owner' } })).status).toBe(201);

  const envs = await rest('GET', '/api/v2/envs', { headers: erin });
  expect(envs.body.items.map((e: { id: string }) => e.id)).toEqual([envId]);
  const charts = await rest('GET', '/api/v2/helm-charts', { headers: erin, query: { kind_id: kind.id } });
  expect(charts.body.items.map((c: { id: string }) => c.id)).toEqual([chart.id]);

  // the frontend listens to its env's tasks; a browser sends its JWT as the second subprotocol
  socket = await connectPlatz(new URL('/api/v2/ws', server.berth.wsUrl).href, {}, ['platz-auth-bearer', jwt]);
  socket.subscribe('deployment_tasks', envId);
  await socket.sync();

  const created = await rest('POST', '/api/v2/deployments', { headers: erin, body: { name: 'shop', kind_id: kind.id, cluster_id: clusterId, helm_chart_id: chart.id, config: {} } });
  expect(created.status).toBe(201);
  const deploymentId: string = created.body.id;
  expect(created.body).toMatchObject({ name: 'shop', kind_id: kind.id, cluster_id: clusterId, helm_chart_id: chart.id, enabled: true });

  // the Install task appears over the socket, then the worker finishes it
  await socket.until((c) => c.frames.some((f) => f.operation === 'INSERT' && f.table === 'deployment_tasks'), 'the Install task inserted');
  const taskId = (socket.frames.find((f) => f.operation === 'INSERT' && f.table === 'deployment_tasks')!.data as { id: string }).id;
  const install = await rest('GET', `/api/v2/deployment-tasks/${taskId}`, { headers: erin });
  expect(install.body).toMatchObject({ id: taskId, deployment_id: deploymentId, cluster_id: clusterId, acting_user_id: erinId, operation: { Install: expect.any(Object) } });
  const taskStatus = async () => (await rest('GET', `/api/v2/deployment-tasks/${taskId}`, { headers: erin })).body.status;
  await socket.until((c) => c.frames.filter((f) => f.operation === 'UPDATE' && (f.data as { id: string }).id === taskId).length > 0, 'the Install task updated');
  await waitFor(async () => (await taskStatus()) === 'Done', 'the Install task Done', 10_000);
  expect((await rest('GET', `/api/v2/deployments/${deploymentId}`, { headers: erin })).body.status).toBe('Running');

  // a task for later, then canceled: it never runs
  const executeAt = new Date(Date.now() + 3_600_000).toISOString();
  const scheduled = await rest('POST', '/api/v2/deployment-tasks', {
    headers: erin,
    body: { deployment_id: deploymentId, operation: { InvokeAction: { helm_chart_id: chart.id, action_id: 'flush', body: {} } }, execute_at: executeAt },
  });
  expect(scheduled.status).toBe(201);
  expect(scheduled.body).toMatchObject({ status: 'Pending', execute_at: executeAt, operation: { InvokeAction: { helm_chart_id: chart.id, action_id: 'flush' } } });
  const now = await rest('GET', '/api/v2/deployment-tasks', { headers: erin, query: { deployment_id: deploymentId, show_future: false } });
  expect(now.body.items.map((t: { id: string }) => t.id)).toEqual([taskId]);
  const canceled = await rest('DELETE', `/api/v2/deployment-tasks/${scheduled.body.id}`, { headers: erin, body: { reason: 'not today' } });
  expect(canceled.status).toBe(200);
  expect(canceled.body).toMatchObject({ id: scheduled.body.id, status: 'Canceled', reason: 'not today', canceled_by_user_id: erinId });
  await socket.received(scheduled.body.id);

  // an API token for her scripts: shown once, then it is her in x-platz-token
  const token = await rest('POST', '/api/v2/user-tokens', { headers: erin, body: { user_id: null } });
  expect(token.status).toBe(201);
  expect(Object.keys(token.body)).toEqual(['created_token']);
  const asScript = await rest('GET', '/api/v2/auth/me', { headers: { 'x-platz-token': token.body.created_token } });
  expect(asScript.body.User.id).toBe(erinId);
  const tokens = await rest('GET', '/api/v2/user-tokens', { headers: { 'x-platz-token': token.body.created_token } });
  expect(tokens.body.items).toEqual([expect.objectContaining({ user_id: erinId })]);
  expect(JSON.stringify(tokens.body)).not.toContain(token.body.created_token);
});
