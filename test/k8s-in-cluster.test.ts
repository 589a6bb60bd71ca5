import { afterAll, beforeAll, expect, jest, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeApiDouble, type KubeApiDouble } from './support/kube-api/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitFor } from './support/subscriptions.js';
import { testCertificates, type TestCertificates } from './support/tls.js';

/**
 * Berth in a pod: the cluster it runs in, registered from the service account mount and the
 * KUBERNETES_SERVICE_* environment, watched through the real client-node over HTTPS against an API server double
 * whose certificate is signed by the CA in the mount's ca.crt (verified, as in a real pod).
 */
const WATCH = { K8S_WATCH: 'true', K8S_WATCH_POLL_MS: '200', K8S_WATCH_BACKOFF_MAX_MS: '1000' };

let certificates: TestCertificates;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(() => {
  certificates = testCertificates();
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function double(token: string): Promise<KubeApiDouble> {
  const d = await startKubeApiDouble({ tls: certificates, token, bookmarkIntervalMs: 200 });
  cleanups.push(() => d.close());
  return d;
}

interface Pod {
  server: TestServer;
  auth: Record<string, string>;
  /** the path of the service account token, as the kubelet writes it */
  tokenFile: string;
  /** the id of the cluster registered as local:in-cluster */
  clusterId: string;
}

/**
 * A Berth started as in a pod of the double's cluster: the service account mount under a root of its own, and
 * KUBERNETES_SERVICE_HOST and _PORT naming the double. client-node reads those only when the cluster is
 * registered, at the start: the environment is restored right after.
 */
async function podOf(d: KubeApiDouble, mountFiles: { token: string; ca: string }): Promise<Pod> {
  const root = mkdtempSync(join(tmpdir(), 'berth-in-cluster-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const mount = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
  mkdirSync(mount, { recursive: true });
  writeFileSync(join(mount, 'token'), mountFiles.token);
  writeFileSync(join(mount, 'ca.crt'), mountFiles.ca);
  writeFileSync(join(mount, 'namespace'), 'berth');

  const saved = { KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT: process.env.KUBERNETES_SERVICE_PORT };
  Object.assign(process.env, { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(d.url).port });
  let server: TestServer;
  try {
    server = await startTestServer({ ...WATCH, BERTH_IN_CLUSTER_ROOT: root });
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  cleanups.push(() => server.stop());
  const auth = await server.adminAuth();

  const clusters = await server.gql<any, object>(`{ k8sClusters(filter: {}) { edges { node { id providerId ignore apiServerUrl } } } }`, {}, auth);
  expect(clusters.data.k8sClusters.edges.map((e: { node: object }) => e.node)).toEqual([
    { id: expect.any(String), providerId: 'local:in-cluster', ignore: true, apiServerUrl: d.url },
  ]);
  return { server, auth, tokenFile: join(mount, 'token'), clusterId: clusters.data.k8sClusters.edges[0].node.id };
}

/** What an admin does to have the registered cluster watched. */
async function watchCluster(pod: Pod): Promise<void> {
  const res = await pod.server.gql<any, object>(`mutation($id: ID!) { updateCluster(id: $id, input: { ignore: false }) { id } }`, { id: pod.clusterId }, pod.auth);
  expect(res.errors).toBeUndefined();
}

const clusterHealth = async (pod: Pod) =>
  (await pod.server.gql<any, object>(`query($id: ID!) { k8sCluster(id: $id) { isOk notOkReason } }`, { id: pod.clusterId }, pod.auth)).data.k8sCluster as {
    isOk: boolean;
    notOkReason: string | null;
  };

/** The K8sResources of the cluster, as the API lists them. */
const resources = async (pod: Pod) =>
  (
    await pod.server.gql<any, object>(
      `query($c: ID!) { k8sResources(filter: { clusterId: $c }) { edges { node { kind name cluster { providerId } statusColor } } } }`,
      { c: pod.clusterId },
      pod.auth,
    )
  ).data.k8sResources.edges.map((e: { node: object }) => e.node) as { kind: string; name: string }[];

const mirrored = async (pod: Pod, name: string) => waitFor(async () => (await resources(pod)).some((r) => r.name === name), `${name} mirrored`);

const namespace = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { platz: 'yes' } } });
const deployment = (ns: string, name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: { replicas: 1 },
  status: { availableReplicas: 1 },
});

test('in a pod, Berth watches the cluster it runs in over HTTPS, with the service account token, the server verified against ca.crt', async () => {
  const d = await double('pod-token');
  d.create(namespace('apps'));
  const pod = await podOf(d, { token: 'pod-token', ca: certificates.ca });
  expect(pod.server.berth.clusterWatch!.clusterIds).toEqual([]);

  await watchCluster(pod);
  await waitFor(async () => (await clusterHealth(pod)).isOk, 'the cluster healthy');
  expect(await clusterHealth(pod)).toEqual({ isOk: true, notOkReason: null });
  d.create(deployment('apps', 'web'));
  await mirrored(pod, 'web');
  expect(await resources(pod)).toEqual([{ kind: 'Deployment', name: 'web', cluster: { providerId: 'local:in-cluster' }, statusColor: ['Success'] }]);
  // nothing was refused: every request carried the token from the file
  expect(d.countRequests({ status: 401 })).toBe(0);
});

test('a rotated token is read again from the file: once client-node\'s copy is a minute old, the watch goes on with the new one', async () => {
  const d = await double('first-token');
  d.create(namespace('apps'));
  const pod = await podOf(d, { token: 'first-token', ca: certificates.ca });
  await watchCluster(pod);
  await waitFor(() => d.openWatches() === 7, 'the namespaces and the six kinds watched');

  // the kubelet writes the new token, and the old one stops working
  writeFileSync(pod.tokenFile, 'second-token');
  d.rotateToken('second-token');
  d.dropWatches();
  // client-node keeps the token it read for 60 s: until then, the reconnecting watches are refused
  await waitFor(() => d.countRequests({ status: 401 }) > 0, 'the old token refused');

  // client-node times its copy of the token by Date: only Date is moved a minute on; timers keep real time
  jest.useFakeTimers({
    advanceTimers: true,
    doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
  });
  try {
    jest.setSystemTime(Date.now() + 61_000);
    d.create(deployment('apps', 'after-rotation'));
    // the double accepts only the new token: what arrives came through it
    await mirrored(pod, 'after-rotation');
    await waitFor(() => d.openWatches() === 7, 'every watch open again');
    // resumed without a list: healthy again all the same
    await waitFor(async () => (await clusterHealth(pod)).isOk, 'the cluster healthy again');
  } finally {
    jest.useRealTimers();
  }
});

test('an API server whose certificate the pod\'s ca.crt did not sign: not OK, and no request sent', async () => {
  const d = await double('pod-token');
  const pod = await podOf(d, { token: 'pod-token', ca: testCertificates().ca });
  await watchCluster(pod);
  await waitFor(async () => (await clusterHealth(pod)).notOkReason !== null, 'a reason');
  // undici says only "fetch failed"; the reason adds its cause, the certificate
  expect(await clusterHealth(pod)).toEqual({ isOk: false, notOkReason: expect.stringMatching(/^namespaces: fetch failed: .*certificate.* \([A-Z_]+\)$/) });
  // the TLS handshake failed before any request: the token never went to the unverified server
  expect(d.requests).toEqual([]);
});
