import { once } from 'node:events';
import WebSocket from 'ws';
import { Env } from '../src/entities/index.js';
import { build, persist, unique } from './support/fixtures.js';
import { kubeconfigFor, startKubeApiDouble, type KubeApiDouble } from './support/kube-api/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { Feed, Observed, waitFor } from './support/subscriptions.js';

/**
 * What the cluster watch mirrors reaches every feed, not only k8sResourceEvents (k8s-watch.test.ts): the general
 * `events` subscription and Platz's socket. And a cluster whose credentials are valid but forbidden says so.
 * Through the real client-node, against the API server double; each test watches a cluster of its own.
 */
let server: TestServer;
let admin: Record<string, string>;
let env: Env;
const doubles: KubeApiDouble[] = [];
const feeds: Feed[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  server = await startTestServer({ K8S_WATCH: 'true', K8S_WATCH_POLL_MS: '200', K8S_WATCH_BACKOFF_MAX_MS: '1000' });
  admin = await server.adminAuth();
  env = build(Env, { name: `feeds-${unique()}` });
  await persist(server, env);
});
afterAll(async () => {
  await Promise.all(feeds.map((f) => f.dispose()));
  sockets.forEach((s) => s.terminate());
  await server?.stop();
  await Promise.all(doubles.map((d) => d.close()));
});

async function double(): Promise<KubeApiDouble> {
  const d = await startKubeApiDouble({ bookmarkIntervalMs: 200 });
  doubles.push(d);
  return d;
}

/** Imports the double's cluster into `env` and clears ignore, which starts its watch; returns its id. */
async function watchedCluster(d: KubeApiDouble, context: string): Promise<string> {
  const imported = await server.gql<any, object>(
    `mutation($input: CreateClustersFromKubeconfigInput!) { createClustersFromKubeconfig(input: $input) { id } }`,
    { input: { kubeconfig: kubeconfigFor(d, { contexts: [context] }), contexts: [context], envId: env.id } },
    admin,
  );
  expect(imported.errors).toBeUndefined();
  const id = imported.data.createClustersFromKubeconfig[0].id as string;
  const watched = await server.gql<any, object>(`mutation($id: ID!) { updateCluster(id: $id, input: { ignore: false }) { id } }`, { id }, admin);
  expect(watched.errors).toBeUndefined();
  return id;
}

const clusterHealth = async (id: string) =>
  (await server.gql<any, object>(`query($id: ID!) { k8sCluster(id: $id) { isOk notOkReason } }`, { id }, admin)).data.k8sCluster as { isOk: boolean; notOkReason: string | null };

const deployment = (replicas: number, available: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'apps' },
  spec: { replicas },
  status: { availableReplicas: available, unavailableReplicas: replicas - available },
});

/** Platz's frontend's socket, reduced to what this file needs (platz-ws.test.ts tests the socket itself): one subscription, the frames received. */
class PlatzSocket extends Observed {
  readonly frames: object[] = [];

  private constructor(socket: WebSocket) {
    super();
    socket.on('message', (data) => this.update(() => this.frames.push(JSON.parse(String(data)) as object)));
  }

  static async subscribed(table: string, envId: string): Promise<PlatzSocket> {
    const socket = new WebSocket(new URL('/api/v2/ws', server.berth.wsUrl).href, { headers: admin });
    sockets.push(socket);
    await once(socket, 'open');
    const client = new PlatzSocket(socket);
    socket.send(JSON.stringify({ type: 'subscribe', table, env_id: envId }));
    // the server answers a ping only after the frames sent before it: the subscription is in place
    socket.ping();
    await once(socket, 'pong');
    return client;
  }
}

test('a mirrored Deployment created, changed and deleted reaches the events subscription and the Platz socket: insert, update, delete, in order', async () => {
  const d = await double();
  d.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps', labels: { platz: 'yes' } } });
  const clusterId = await watchedCluster(d, 'feeds');
  await waitFor(async () => (await clusterHealth(clusterId)).isOk, 'the cluster healthy');
  const events = new Feed(server.berth.wsUrl, admin, `subscription { events(types: [K8S_RESOURCE]) { operation type id node { ... on K8sResource { kind name statusColor } } } }`);
  feeds.push(events);
  await events.live();
  const platz = await PlatzSocket.subscribed('k8s_resources', env.id);
  // each change waits for the one before: changes the watch sees together may be written as one
  const bothReceived = (count: number, what: string) =>
    Promise.all([events.until((f) => f.changes.length >= count, what), platz.until((p) => p.frames.length >= count, what)]);

  const { uid } = d.create(deployment(2, 1)).metadata;
  await bothReceived(1, 'the insert');
  d.apply(deployment(2, 2));
  await bothReceived(2, 'the update');
  d.delete(deployment(2, 2));
  await bothReceived(3, 'the delete');

  const node = (statusColor: string[]) => ({ kind: 'Deployment', name: 'web', statusColor });
  expect(events.changes).toEqual([
    { operation: 'INSERT', type: 'K8S_RESOURCE', id: uid, node: node(['Success', 'Danger']) },
    { operation: 'UPDATE', type: 'K8S_RESOURCE', id: uid, node: node(['Success', 'Success']) },
    { operation: 'DELETE', type: 'K8S_RESOURCE', id: uid, node: null },
  ]);
  expect(platz.frames).toEqual(['INSERT', 'UPDATE', 'DELETE'].map((operation) => ({ operation, table: 'k8s_resources', data: { id: uid } })));
});

test('credentials the cluster accepts but whose RBAC forbids listing Deployments: not OK, saying so; OK once allowed', async () => {
  const d = await double();
  // the namespaces may be listed, Deployments (another API group) not: a Role that forgot apps
  d.failAll(403, { path: '/apis/apps/v1/deployments' });
  const clusterId = await watchedCluster(d, 'forbidden');
  await waitFor(async () => (await clusterHealth(clusterId)).notOkReason !== null, 'a reason');
  expect(await clusterHealth(clusterId)).toEqual({
    isOk: false,
    notOkReason: "Deployment: not allowed to list and watch (403 Forbidden): check the RBAC of Berth's service account",
  });

  d.recover();
  await waitFor(async () => (await clusterHealth(clusterId)).isOk, 'the cluster healthy once allowed');
});
