import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Deployment, DeploymentKind, HelmChart, HelmRegistry, K8sCluster } from '../src/entities/index.js';
import { DeploymentStatus, HelmRegistryProvider } from '../src/entities/enums.js';
import { build, persist } from './support/fixtures.js';
import { kubeconfigFor, startKubeApiDouble, type KubeApiDouble } from './support/kube-api/index.js';
import { Keyring } from '../src/auth/encryption.js';
import { startBerth } from '../src/server/app.js';
import { createTestDatabase, engineName } from './support/database.js';
import { ADMIN_PASSWORD, postGraphQL, startTestServer, testConfig, type TestServer } from './support/server.js';
import { Feed, waitFor } from './support/subscriptions.js';

/**
 * Berth's cluster watch through the real client-node, against an API server double that speaks list and watch
 * (test/support/kube-api/). Each test imports a cluster of its own into one server.
 */
let server: TestServer;
let admin: Record<string, string>;
const doubles: KubeApiDouble[] = [];
const feeds: Feed[] = [];

const WATCH = { K8S_WATCH: 'true', K8S_WATCH_POLL_MS: '200', K8S_WATCH_BACKOFF_MAX_MS: '1000' };

beforeAll(async () => {
  // the clusters are read again on every change to one: no test here waits for a poll
  server = await startTestServer({ ...WATCH, K8S_WATCH_POLL_MS: '600000' });
  admin = await server.adminAuth();
});
afterAll(async () => {
  await Promise.all(feeds.map((f) => f.dispose()));
  await server?.stop();
  await Promise.all(doubles.map((d) => d.close()));
});

async function double(): Promise<KubeApiDouble> {
  const d = await startKubeApiDouble({ bookmarkIntervalMs: 200 });
  doubles.push(d);
  return d;
}

/** Imports the double's cluster (ignored, as a new cluster is); returns its id. */
async function importCluster(d: KubeApiDouble, context: string, token?: string): Promise<string> {
  const res = await server.gql<any, object>(
    `mutation($input: CreateClustersFromKubeconfigInput!) { createClustersFromKubeconfig(input: $input) { id ignore } }`,
    { input: { kubeconfig: kubeconfigFor(d, { contexts: [context], ...(token ? { token } : {}) }), contexts: [context] } },
    admin,
  );
  expect(res.errors).toBeUndefined();
  expect(res.data.createClustersFromKubeconfig[0].ignore).toBe(true);
  return res.data.createClustersFromKubeconfig[0].id;
}

async function watchCluster(id: string): Promise<void> {
  const res = await server.gql<any, object>(`mutation($id: ID!) { updateCluster(id: $id, input: { ignore: false }) { id } }`, { id }, admin);
  expect(res.errors).toBeUndefined();
}

/** Imports the double's cluster, clears ignore, and waits until it is healthy. */
async function healthyCluster(d: KubeApiDouble, context: string): Promise<string> {
  const id = await importCluster(d, context);
  await watchCluster(id);
  await waitFor(async () => (await clusterHealth(id)).isOk, 'the cluster healthy');
  return id;
}

const clusterHealth = async (id: string) =>
  (await server.gql<any, object>(`query($id: ID!) { k8sCluster(id: $id) { isOk notOkReason } }`, { id }, admin)).data.k8sCluster as { isOk: boolean; notOkReason: string | null };

const namespace = (name: string, annotations: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { platz: 'yes' }, annotations },
});
const deployment = (ns: string, name: string, replicas: number, available: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: { replicas },
  status: { availableReplicas: available, unavailableReplicas: replicas - available },
});

function resourceFeed(clusterId: string): Feed {
  const feed = new Feed(
    server.berth.wsUrl,
    admin,
    `subscription($c: ID) { k8sResourceEvents(cluster: $c) { operation id resource { kind name statusColor } } }`,
    { c: clusterId },
  );
  feeds.push(feed);
  return feed;
}

test('clearing ignore starts the watch: a Deployment in a labelled namespace is mirrored, follows its replicas, and goes when deleted', async () => {
  const d = await double();
  d.create(namespace('apps'));
  d.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  d.create(deployment('apps', 'web', 2, 1));
  d.create(deployment('other', 'not-ours', 1, 1));
  const clusterId = await importCluster(d, 'mirror');
  const feed = resourceFeed(clusterId);
  await feed.live();

  await watchCluster(clusterId);
  await feed.until((f) => f.changes.length >= 1, 'the mirrored Deployment');
  d.apply(deployment('apps', 'web', 2, 2));
  await feed.until((f) => f.changes.length >= 2, 'its replicas');
  d.delete({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace: 'apps', name: 'web' } });
  await feed.until((f) => f.changes.length >= 3, 'its deletion');

  const id = feed.changes[0].id;
  expect(feed.changes).toEqual([
    { operation: 'INSERT', id, resource: { kind: 'Deployment', name: 'web', statusColor: ['Success', 'Danger'] } },
    { operation: 'UPDATE', id, resource: { kind: 'Deployment', name: 'web', statusColor: ['Success', 'Success'] } },
    { operation: 'DELETE', id, resource: null },
  ]);
  await waitFor(async () => (await clusterHealth(clusterId)).isOk, 'the cluster healthy');
  expect(await server.sql('select name from k8s_resources where cluster_id = ?', [clusterId])).toEqual([]);
});

test('every mirrored kind, with its colours; ignoring the cluster again stops its watches', async () => {
  const d = await double();
  d.create(namespace('kinds'));
  const ns = 'kinds';
  d.create({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: ns }, spec: { replicas: 3 }, status: { readyReplicas: 2 } });
  d.create({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate', namespace: ns }, status: { active: 1, succeeded: 2, failed: 1 } });
  d.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ready', namespace: ns }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
  d.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'starting', namespace: ns }, status: { phase: 'Pending' } });
  d.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'crashed', namespace: ns }, status: { phase: 'Failed' } });
  d.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns } });
  d.create({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'pending', namespace: ns } });
  d.create({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'served', namespace: ns }, status: { loadBalancer: { ingress: [{ ip: '10.0.0.9' }] } } });
  const clusterId = await healthyCluster(d, 'kinds');
  const rows = () => server.sql<{ kind: string; api_version: string; name: string; status_color: string[] }>(
    'select kind, api_version, name, status_color from k8s_resources where cluster_id = ? order by kind, name',
    [clusterId],
  );
  await waitFor(async () => (await rows()).length === 8, 'all eight mirrored');
  expect(await rows()).toEqual([
    { kind: 'Ingress', api_version: 'networking.k8s.io/v1', name: 'pending', status_color: ['Warning'] },
    { kind: 'Ingress', api_version: 'networking.k8s.io/v1', name: 'served', status_color: ['Success'] },
    { kind: 'Job', api_version: 'batch/v1', name: 'migrate', status_color: ['Primary', 'Success', 'Success', 'Danger'] },
    { kind: 'Pod', api_version: 'v1', name: 'crashed', status_color: ['Danger'] },
    { kind: 'Pod', api_version: 'v1', name: 'ready', status_color: ['Success'] },
    { kind: 'Pod', api_version: 'v1', name: 'starting', status_color: ['Warning'] },
    { kind: 'Service', api_version: 'v1', name: 'web', status_color: ['Success'] },
    { kind: 'StatefulSet', api_version: 'apps/v1', name: 'db', status_color: ['Success', 'Success', 'Danger'] },
  ]);
  // the namespaces and the six kinds, each watched once the list is in
  await waitFor(() => d.openWatches() === 7, 'seven watches open');

  await server.gql<any, object>(`mutation($id: ID!) { updateCluster(id: $id, input: { ignore: true }) { id } }`, { id: clusterId }, admin);
  await waitFor(() => d.openWatches() === 0, 'every watch of the ignored cluster closed');
});

test('deleting a watched cluster closes its watches and takes its mirrored rows', async () => {
  const d = await double();
  d.create(namespace('deleted'));
  d.create(deployment('deleted', 'web', 1, 1));
  const clusterId = await healthyCluster(d, 'deleted');
  await waitFor(() => d.openWatches() === 7, 'seven watches open');
  expect(await server.sql('select name from k8s_resources where cluster_id = ?', [clusterId])).toEqual([{ name: 'web' }]);

  const res = await server.gql<any, object>(`mutation($id: ID!) { deleteCluster(id: $id) }`, { id: clusterId }, admin);
  expect(res.errors).toBeUndefined();
  await waitFor(() => d.openWatches() === 0, 'every watch of the deleted cluster closed');
  // a change the stopping watch still saw is not written for a cluster that is gone
  expect(await server.sql('select 1 from k8s_resources where cluster_id = ?', [clusterId])).toEqual([]);
});

test('a dropped watch resumes from where it was, without a storm of requests, and later changes arrive', async () => {
  const d = await double();
  d.create(namespace('apps'));
  const clusterId = await healthyCluster(d, 'drops');
  const feed = resourceFeed(clusterId);
  await feed.live();

  const watchesBefore = d.countRequests({ verb: 'watch' });
  d.dropWatches();
  d.create(deployment('apps', 'after-drop', 1, 1));
  await feed.until((f) => f.changes.length >= 1, 'a change made after the drop');
  expect(feed.changes.map((m) => [m.operation, (m.resource as { name: string }).name])).toEqual([['INSERT', 'after-drop']]);
  // seven watches (namespaces and six kinds), each reopened after a backoff: not hundreds
  expect(d.countRequests({ verb: 'watch' }) - watchesBefore).toBeLessThanOrEqual(7 * 3);
  // resumed without a list, and reported healthy again
  await waitFor(async () => (await clusterHealth(clusterId)).isOk, 'the cluster healthy again');
});

test('a resume refused with 410 Gone relists, and an object deleted meanwhile disappears', async () => {
  const d = await double();
  d.create(namespace('apps'));
  d.create(deployment('apps', 'stays', 1, 1));
  d.create(deployment('apps', 'goes', 1, 1));
  const clusterId = await importCluster(d, 'relist');
  await watchCluster(clusterId);
  await waitFor(async () => (await server.sql('select 1 from k8s_resources where cluster_id = ?', [clusterId])).length === 2, 'both mirrored');

  d.failAll(500);
  d.dropWatches();
  d.delete({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace: 'apps', name: 'goes' } });
  d.compact();
  d.recover();
  await waitFor(async () => (await server.sql('select 1 from k8s_resources where cluster_id = ?', [clusterId])).length === 1, 'the deleted one gone');
  expect(await server.sql('select name from k8s_resources where cluster_id = ?', [clusterId])).toEqual([{ name: 'stays' }]);
});

test('a bad credential: the cluster is not OK, with the reason', async () => {
  const d = await double();
  const clusterId = await importCluster(d, 'bad-token', 'not-the-token');
  await watchCluster(clusterId);
  await waitFor(async () => (await clusterHealth(clusterId)).notOkReason !== null, 'a reason');
  expect(await clusterHealth(clusterId)).toEqual({ isOk: false, notOkReason: expect.stringMatching(/401/) });
});

test('a namespace gone completes a Deleting deployment (its rows go) and an Uninstalling one (Uninstalled), also one gone while nobody watched', async () => {
  const d = await double();
  const clusterId = await importCluster(d, 'namespaces');
  const kind = build(DeploymentKind, { name: `Ns${Date.now()}` });
  const registry = build(HelmRegistry, { domainName: 'r.example.com', repoName: `ns-${Date.now()}`, kind, provider: HelmRegistryProvider.Oci });
  const chart = build(HelmChart, { helmRegistry: registry, imageDigest: 'sha256:ns', imageTag: '1.0.0' });
  const cluster = server.em.fork().getReference(K8sCluster, clusterId);
  const deleting = build(Deployment, { kind, cluster, helmChart: chart, name: 'deleting', status: DeploymentStatus.Deleting });
  const uninstalling = build(Deployment, { kind, cluster, helmChart: chart, name: 'uninstalling', status: DeploymentStatus.Uninstalling });
  // its namespace went before the watch started: settled when the namespaces are first listed
  const goneBefore = build(Deployment, { kind, cluster, helmChart: chart, name: 'gone-before', status: DeploymentStatus.Deleting });
  await persist(server, kind, registry, chart, deleting, uninstalling, goneBefore);
  d.create(namespace('ns-deleting', { platz_deployment_id: deleting.id }));
  d.create(namespace('ns-uninstalling', { platz_deployment_id: uninstalling.id }));
  d.create(deployment('ns-deleting', 'app', 1, 1));
  await watchCluster(clusterId);
  await waitFor(async () => (await server.sql('select 1 from k8s_resources where deployment_id = ?', [deleting.id])).length === 1, 'the deployment mirrored');
  await waitFor(async () => (await server.sql('select 1 from deployments where id = ?', [goneBefore.id])).length === 0, 'the one gone before settled');
  // those whose namespaces are there stay as they are
  expect(await server.sql<{ name: string; status: string }>('select name, status from deployments where id in (?, ?) order by name', [deleting.id, uninstalling.id])).toEqual([
    { name: 'deleting', status: 'Deleting' },
    { name: 'uninstalling', status: 'Uninstalling' },
  ]);

  d.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns-deleting' } });
  d.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns-uninstalling' } });
  d.finishTermination('ns-deleting');
  d.finishTermination('ns-uninstalling');
  await waitFor(async () => (await server.sql('select 1 from deployments where id = ?', [deleting.id])).length === 0, 'the Deleting deployment gone');
  await waitFor(async () => (await server.sql<{ status: string }>('select status from deployments where id = ?', [uninstalling.id]))[0].status === 'Uninstalled', 'Uninstalled');
  expect(await server.sql('select 1 from k8s_resources where deployment_id = ?', [deleting.id])).toEqual([]);
});

test('a burst of a thousand watch events is written in a few transactions, not one each', async () => {
  const d = await double();
  d.create(namespace('burst'));
  const clusterId = await healthyCluster(d, 'burst');
  for (let i = 0; i < 1000; i++) d.create(deployment('burst', `d-${i}`, 1, 1));
  const mirrored = async () => Number((await server.sql<{ n: string }>('select count(*) as n from k8s_resources where cluster_id = ?', [clusterId]))[0].n);
  await waitFor(async () => (await mirrored()) === 1000, 'all mirrored');
  // now() is the transaction's start: one value per transaction that inserted them
  const [{ transactions }] = await server.sql<{ transactions: string }>(
    `select count(distinct e.created_at) as transactions from events e join k8s_resources r on r.id = e.object_id
     where e.table_name = 'k8s_resources' and e.operation = 'INSERT' and r.cluster_id = ?`,
    [clusterId],
  );
  expect(Number(transactions)).toBeLessThanOrEqual(50);
});

const onPostgres = engineName() === 'postgres' ? test : test.skip;

onPostgres('two replicas on one database: exactly one watches a cluster; it lets go when it loses its lock connection, and when it stops the other takes over', async () => {
  const d = await double();
  d.create(namespace('apps'));
  const db = await createTestDatabase();
  const replicas = await Promise.all([1, 2].map(() => startBerth(testConfig(WATCH), { database: db.target, print: () => {} })));
  try {
    const login = await postGraphQL<any>(replicas[0].url, `mutation($p: String!) { login(usernameOrEmail: "admin", password: $p) { accessToken } }`, { p: ADMIN_PASSWORD });
    const auth = { authorization: `Bearer ${login.data.login.accessToken}` };
    const imported = await postGraphQL<any>(
      replicas[0].url,
      `mutation($input: CreateClustersFromKubeconfigInput!) { createClustersFromKubeconfig(input: $input) { id } }`,
      { input: { kubeconfig: kubeconfigFor(d, { contexts: ['replicas'] }), contexts: ['replicas'] } },
      auth,
    );
    const clusterId = imported.data.createClustersFromKubeconfig[0].id as string;
    await postGraphQL(replicas[1].url, `mutation($id: ID!) { updateCluster(id: $id, input: { ignore: false }) { id } }`, { id: clusterId }, auth);

    const watching = () => replicas.filter((r) => r.clusterWatch!.clusterIds.includes(clusterId));
    await waitFor(() => watching().length === 1, 'one replica watching');
    // three more reads of the clusters by each replica: still one, with one set of watches
    const rounds = replicas.map((r) => r.clusterWatch!.readings);
    await waitFor(() => replicas.every((r, i) => r.clusterWatch!.readings >= rounds[i] + 3), 'three more rounds of each');
    expect(watching()).toHaveLength(1);
    expect(d.openWatches()).toBe(7);

    const sql = replicas[0].orm.em.getConnection();
    const mirrored = (name: string) => waitFor(async () => (await sql.execute('select 1 from k8s_resources where name = ?', [name])).length === 1, `${name} mirrored`);

    // the holder loses its lock connection (as when it loses the database): it stops, and one replica watches again
    const terminated = await sql.execute(
      `select pg_terminate_backend(l.pid) as terminated from pg_locks l
       where l.locktype = 'advisory' and l.granted and l.objsubid = 2 and l.database = (select oid from pg_database where datname = current_database())
         and l.classid::bigint = (hashtext('k8s-watch')::bigint & 4294967295) and l.objid::bigint = (hashtext(?)::bigint & 4294967295)`,
      [clusterId],
    );
    expect(terminated).toEqual([{ terminated: true }]);
    await waitFor(() => watching().length === 1 && d.openWatches() === 7, 'one replica watching again, with one set of watches');
    d.create(deployment('apps', 'after-lost-lock', 1, 1));
    await mirrored('after-lost-lock');

    // the holder stops: the other takes over
    const [holder] = watching();
    const other = replicas.find((r) => r !== holder)!;
    await holder.stop();
    await waitFor(() => other.clusterWatch!.clusterIds.includes(clusterId), 'the other replica taking over');
    d.create(deployment('apps', 'after-takeover', 1, 1));
    const otherSql = other.orm.em.getConnection();
    await waitFor(async () => (await otherSql.execute('select 1 from k8s_resources where name = ?', ['after-takeover'])).length === 1, 'mirrored after the takeover');
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
    await db.drop();
  }
});

test('BERTH_KUBECONFIG: each context becomes a cluster local:<context>, ignored until cleared, then watched with its credentials', async () => {
  const d = await double();
  d.create(namespace('apps'));
  d.create(deployment('apps', 'from-file', 1, 1));
  const folder = mkdtempSync(join(tmpdir(), 'berth-kubeconfig-'));
  const file = join(folder, 'config');
  writeFileSync(file, kubeconfigFor(d, { contexts: ['one', { name: 'two', token: 'wrong' }] }));
  const local = await startTestServer({ ...WATCH, BERTH_KUBECONFIG: file });
  try {
    const auth = await local.adminAuth();
    // made in one transaction, so in no particular order: sorted here
    const clusters = async () =>
      (await local.gql<any, object>(`{ k8sClusters(filter: {}) { edges { node { id providerId regionName ignore isOk apiServerUrl } } } }`, {}, auth)).data.k8sClusters.edges
        .map((e: { node: { providerId: string } }) => e.node)
        .sort((a: { providerId: string }, b: { providerId: string }) => a.providerId.localeCompare(b.providerId));
    expect(await clusters()).toEqual([
      { id: expect.any(String), providerId: 'local:one', regionName: 'local', ignore: true, isOk: false, apiServerUrl: d.url },
      { id: expect.any(String), providerId: 'local:two', regionName: 'local', ignore: true, isOk: false, apiServerUrl: d.url },
    ]);
    const [one] = await clusters();
    await local.gql<any, object>(`mutation($id: ID!) { updateCluster(id: $id, input: { ignore: false }) { id } }`, { id: one.id }, auth);
    await waitFor(async () => (await local.sql('select 1 from k8s_resources where name = ?', ['from-file'])).length === 1, 'mirrored with the file\'s credentials');
  } finally {
    await local.stop();
    rmSync(folder, { recursive: true, force: true });
  }
});

test('in a pod (KUBERNETES_SERVICE_HOST and a service account token), the cluster it runs in is registered as local:in-cluster, ignored', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-in-cluster-'));
  const mount = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
  mkdirSync(mount, { recursive: true });
  writeFileSync(join(mount, 'token'), 'pod-token');
  writeFileSync(join(mount, 'ca.crt'), 'not a real CA');
  // this file's own copy of the environment (jest gives each test file one)
  Object.assign(process.env, { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' });
  const keys = Keyring.generateSpec();
  const pod = await startTestServer({ BERTH_IN_CLUSTER_ROOT: root, BERTH_ENCRYPTION_KEYS: keys });
  try {
    const rows = await pod.sql<{ id: string; provider_id: string; api_server_url: string; ignore: boolean; credentials_encrypted: string }>(
      `select id, provider_id, api_server_url, ignore, credentials_encrypted from k8s_clusters`,
    );
    expect(rows.map(({ provider_id, api_server_url, ignore }) => ({ provider_id, api_server_url, ignore }))).toEqual([
      { provider_id: 'local:in-cluster', api_server_url: 'https://10.0.0.1:443', ignore: true },
    ]);
    // the token file is named, not copied: Kubernetes rotates it, and client-node reads it again
    const credentials = JSON.parse(Keyring.parse(keys).decrypt(rows[0].credentials_encrypted, `k8s_clusters:${rows[0].id}`));
    expect(credentials).toEqual({
      cluster: expect.objectContaining({ server: 'https://10.0.0.1:443', 'certificate-authority': join(mount, 'ca.crt') }),
      user: { 'auth-provider': { name: 'tokenFile', config: { tokenFile: join(mount, 'token') } } },
    });
  } finally {
    delete process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_PORT;
    await pod.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test('BERTH_KUBECONFIG that cannot be read stops the start with a message naming it', async () => {
  await expect(startTestServer({ BERTH_KUBECONFIG: '/nonexistent/kubeconfig' })).rejects.toThrow(/BERTH_KUBECONFIG: cannot read \/nonexistent\/kubeconfig/);
});
