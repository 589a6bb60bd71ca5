import { createServer, type Server, type Socket } from 'node:net';
import { Keyring } from '../src/auth/encryption.js';
import { Env, Group, GroupWebApp, WebApp } from '../src/entities/index.js';
import { EnvUserRole } from '../src/entities/enums.js';
import { changedTables, databaseDigest, failure } from './support/assertions.js';
import { build, persist, unique } from './support/fixtures.js';
import { createUser, grantEnvRole } from './support/identities.js';
import { kubeconfigFor, startKubeApiDouble, type KubeApiDouble } from './support/kube-api/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitFor } from './support/subscriptions.js';

/**
 * Kubportal's cluster statistics and its "create a namespace" approval, through GraphQL over HTTP and the real
 * client-node, against the API server double (test/support/kube-api/). Each test imports a cluster of its own.
 */
const KEYS = Keyring.generateSpec('kubportal');
let server: TestServer;
let admin: Record<string, string>;
let env: Env;
const doubles: KubeApiDouble[] = [];
const silent: Server[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  // a cache long enough that the second read of a test is always inside it; a timeout short enough for the silent server, long enough for the double on a busy machine
  server = await startTestServer({ BERTH_ENCRYPTION_KEYS: KEYS, K8S_STATISTICS_CACHE_SECONDS: '3600', K8S_REQUEST_TIMEOUT_MS: '2000' });
  admin = await server.adminAuth();
  env = build(Env, { name: `kubportal-${unique()}` });
  await persist(server, env);
});
afterAll(async () => {
  await server?.stop();
  await Promise.all(doubles.map((d) => d.close()));
  sockets.forEach((s) => s.destroy());
  await Promise.all(silent.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function double(options: Parameters<typeof startKubeApiDouble>[0] = {}): Promise<KubeApiDouble> {
  const d = await startKubeApiDouble(options);
  doubles.push(d);
  return d;
}

/** Imports the kubeconfig's one context as a cluster of `env`; returns its id. */
async function importCluster(kubeconfig: string, context: string): Promise<string> {
  const res = await server.gql<any, object>(
    `mutation($input: CreateClustersFromKubeconfigInput!) { createClustersFromKubeconfig(input: $input) { id } }`,
    { input: { kubeconfig, contexts: [context], envId: env.id } },
    admin,
  );
  expect(res.errors).toBeUndefined();
  return res.data.createClustersFromKubeconfig[0].id;
}

const STATISTICS = 'k8sVersion nodeCount cpuCount memory podCount volumeCount apiServerUrl clusterName portalUserCount portalVersion';
const statistics = (id: string, headers = admin) =>
  server.gql<any, object>(`query($id: ID!) { k8sCluster(id: $id) { name statistics { ${STATISTICS} } } }`, { id }, headers);

const node = (name: string, cpu: string, memory: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { capacity: { cpu, memory } } });
const pod = (namespace: string, name: string, image: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace, name },
  spec: { containers: [{ name: 'main', image }] },
});
const volume = (name: string) => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name }, spec: { capacity: { storage: '1Gi' } } });

test("statistics are Kubportal's ten values, read from the cluster: kube-proxy's tag as the version, capacities summed", async () => {
  const d = await double();
  d.create(node('n1', '4', '16393216Ki'));
  d.create(node('n2', '2500m', '8Gi'));
  d.create(pod('kube-system', 'kube-proxy-x1', 'registry.k8s.io/kube-proxy:v1.30.2'));
  d.create(pod('default', 'web', 'nginx:1.27'));
  d.create(pod('default', 'worker', 'busybox'));
  d.create(volume('pv-1'));
  d.create(volume('pv-2'));
  const id = await importCluster(kubeconfigFor(d, { contexts: ['stats'] }), 'stats');

  const res = await statistics(id);
  expect(res.errors).toBeUndefined();
  const [{ n: users }] = await server.sql<{ n: number }>('select count(*)::int as n from users');
  const version = (await server.gql<any, object>('{ serverInfo { version } }')).data.serverInfo.version;
  expect(res.data.k8sCluster.statistics).toEqual({
    k8sVersion: 'v1.30.2',
    nodeCount: 2,
    cpuCount: 6,
    // (16393216 KiB + 8 GiB) in KiB, / 10^6
    memory: 24.781824,
    podCount: 3,
    volumeCount: 2,
    apiServerUrl: d.url,
    clusterName: 'stats',
    portalUserCount: users,
    portalVersion: version,
  });
});

test("without kube-proxy the version is the API server's gitVersion; an empty cluster counts zeros", async () => {
  const d = await double({ gitVersion: 'v1.29.4' });
  const id = await importCluster(kubeconfigFor(d, { contexts: ['no-proxy'] }), 'no-proxy');
  const res = await statistics(id);
  expect(res.errors).toBeUndefined();
  expect(res.data.k8sCluster.statistics).toMatchObject({ k8sVersion: 'v1.29.4', nodeCount: 0, cpuCount: 0, memory: 0, podCount: 0, volumeCount: 0 });
});

test('a second read within the cache window does not ask the cluster again; concurrent reads share one round', async () => {
  const d = await double();
  d.create(node('n1', '1', '1Gi'));
  const id = await importCluster(kubeconfigFor(d, { contexts: ['cached'] }), 'cached');
  const [first, concurrent] = await Promise.all([statistics(id), statistics(id)]);
  expect(first.errors).toBeUndefined();
  expect(concurrent.data).toEqual(first.data);
  const asked = d.requests.length;
  expect(d.countRequests({ path: '/api/v1/nodes' })).toBe(1);

  d.create(node('n2', '1', '1Gi'));
  const second = await statistics(id);
  expect(second.data.k8sCluster.statistics.nodeCount).toBe(1);
  expect(d.requests.length).toBe(asked);
});

test('the cluster answers only those who may see it: an env User of its env reads the statistics, another user finds no cluster', async () => {
  const d = await double();
  const id = await importCluster(kubeconfigFor(d, { contexts: ['visible'] }), 'visible');
  const member = await createUser(server);
  await grantEnvRole(server, env.id, { userId: member.id }, EnvUserRole.User);
  const outsider = await createUser(server);

  expect((await statistics(id, member.headers)).data.k8sCluster.statistics.clusterName).toBe('visible');
  const res = await statistics(id, outsider.headers);
  expect(res.data.k8sCluster).toBeNull();
  expect(d.countRequests({ path: '/api/v1/nodes' })).toBe(1);
});

test('an unreachable cluster, refused or forbidden credentials, a failing or silent API server: CLUSTER_UNAVAILABLE on the field, not cached', async () => {
  const closed = await double();
  const closedId = await importCluster(kubeconfigFor(closed, { contexts: ['closed'] }), 'closed');
  await closed.close();
  const unreachable = await statistics(closedId);
  expect(unreachable.data.k8sCluster).toEqual({ name: 'closed', statistics: null });
  expect(failure(unreachable)).toMatchObject({ code: 'CLUSTER_UNAVAILABLE', message: expect.stringContaining('unreachable') });
  expect(unreachable.errors![0].path).toEqual(['k8sCluster', 'statistics']);

  const d = await double();
  const refusedId = await importCluster(kubeconfigFor(d, { contexts: ['refused'], token: 'not-the-token' }), 'refused');
  const refused = await statistics(refusedId);
  expect(failure(refused)).toMatchObject({ code: 'CLUSTER_UNAVAILABLE', message: expect.stringContaining('401') });
  expect(refused.errors![0].message).not.toContain('not-the-token');

  const failingId = await importCluster(kubeconfigFor(d, { contexts: ['failing'] }), 'failing');
  d.failAll(500);
  expect(failure(await statistics(failingId))).toMatchObject({ code: 'CLUSTER_UNAVAILABLE', message: expect.stringContaining('500') });
  d.recover();
  // the failure was not kept: the next read asks again and succeeds
  expect((await statistics(failingId)).data.k8sCluster.statistics.nodeCount).toBe(0);

  // credentials the cluster accepts, whose RBAC does not reach the cluster-scoped nodes
  const forbiddenId = await importCluster(kubeconfigFor(d, { contexts: ['forbidden'] }), 'forbidden');
  d.failAll(403, { path: '/api/v1/nodes' });
  expect(failure(await statistics(forbiddenId))).toMatchObject({ code: 'CLUSTER_UNAVAILABLE', message: expect.stringContaining("Berth's credentials may not do this (403)") });
  d.recover();

  // accepts connections and never answers: the request timeout ends the call
  const hung = createServer((socket) => sockets.push(socket));
  silent.push(hung);
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  const port = (hung.address() as { port: number }).port;
  const fake = { url: `http://127.0.0.1:${port}`, token: 'x' } as KubeApiDouble;
  const hungId = await importCluster(kubeconfigFor(fake, { contexts: ['silent'] }), 'silent');
  expect(failure(await statistics(hungId))).toMatchObject({ code: 'CLUSTER_UNAVAILABLE', message: expect.stringContaining('did not answer within 2000 ms') });
});

const FIELDS = 'approvalState serviceAccount { name uid } webApps { linkUrl }';
const approve = (userId: string, clusterId: string, name: string) =>
  server.gql<any, object>(
    `mutation($u: ID!, $i: ApproveAccessInput!) { approveAccessRequest(userId: $u, input: $i) { ${FIELDS} } }`,
    { u: userId, i: { newNamespace: { clusterId, name } } },
    admin,
  );

async function requestedUser(username: string) {
  const user = await createUser(server, { username });
  const res = await server.gql<any, object>('mutation { requestAccess { approvalState } }', {}, user.headers);
  expect(res.data.requestAccess.approvalState).toBe('ACCESS_REQUESTED');
  return user;
}

test('approving with a new namespace provisions it in the cluster: namespace, service account, token; Berth records them and fills the placeholders', async () => {
  const d = await double();
  const clusterId = await importCluster(kubeconfigFor(d, { contexts: ['provision'] }), 'provision');
  const group = build(Group, { name: `k8s-${unique()}`, specialK8sAccounts: true });
  const app = build(WebApp, { name: `dash-${unique()}`, linkName: 'Dashboard', linkUrl: 'https://dash.example.com/{{namespace}}/{{serviceaccount}}', linkShow: true });
  await persist(server, group, app, build(GroupWebApp, { group, webApp: app }));
  const username = `Ann.Lee_${unique()}`;
  const user = await requestedUser(username);
  const saName = username.toLowerCase().replace(/[._]/g, '-');

  const res = await approve(user.id, clusterId, 'Team_Ann-1!');
  expect(res.errors).toBeUndefined();
  const namespace = d.get({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'teamann1' } });
  const account = d.get({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { namespace: 'teamann1', name: saName } });
  expect(namespace).toBeDefined();
  expect(account).toBeDefined();
  expect(res.data.approveAccessRequest).toMatchObject({ approvalState: 'ACCESS_APPROVED', serviceAccount: { name: saName, uid: account!.metadata.uid } });
  expect(await server.sql('select name, uid from k8s_namespaces where cluster_id = ?', [clusterId])).toEqual([{ name: 'teamann1', uid: namespace!.metadata.uid }]);

  // the token: encrypted, bound to the user's row, and a credential the cluster accepts
  const [{ k8s_token_encrypted: stored }] = await server.sql<{ k8s_token_encrypted: string }>('select k8s_token_encrypted from users where id = ?', [user.id]);
  const token = Keyring.parse(KEYS).decrypt(stored, `users:${user.id}`);
  expect(stored).not.toContain(token);
  expect((await fetch(`${d.url}/api/v1/namespaces/teamann1`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  const audits = await server.sql<{ after: string }>(`select after::text from audit_records where operation = 'approveAccessRequest'`);
  expect(audits.every((a) => !a.after.includes(token))).toBe(true);

  // the user's view: its web apps' placeholders filled from the new account
  const me = await server.gql<any, object>(`{ me { ... on User { ${FIELDS} } } }`, {}, user.headers);
  expect(me.data.me.webApps).toEqual([{ linkUrl: `https://dash.example.com/teamann1/${saName}` }]);
});

test('a cluster error refuses the approval with its reason and writes nothing; a namespace the cluster already has is a CONFLICT and stays', async () => {
  const d = await double();
  const clusterId = await importCluster(kubeconfigFor(d, { contexts: ['refusing'] }), 'refusing');
  const user = await requestedUser(`bo_${unique()}`);

  const before = await databaseDigest(server);
  d.failAll(500);
  const failed = await approve(user.id, clusterId, 'bo');
  d.recover();
  expect(failure(failed)).toMatchObject({ code: 'CLUSTER_UNAVAILABLE', message: expect.stringContaining('could not create the namespace bo: HTTP 500') });
  expect(changedTables(before, await databaseDigest(server))).toEqual([]);
  expect(d.get({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bo' } })).toBeUndefined();

  const theirs = d.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'taken' } });
  const taken = await approve(user.id, clusterId, 'taken');
  expect(failure(taken)).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('taken') });
  expect(changedTables(before, await databaseDigest(server))).toEqual([]);
  expect(d.get({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'taken' } })?.metadata.uid).toBe(theirs.metadata.uid);
  // neither refusal undid anything: there was nothing of Berth's to delete
  expect(d.countRequests({ verb: 'delete' })).toBe(0);

  // the cluster back: the same approval goes through
  expect((await approve(user.id, clusterId, 'bo')).data.approveAccessRequest.approvalState).toBe('ACCESS_APPROVED');
});

const namespaceRef = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

test.each([
  ['creating the service account', 'no-account', 'create the service account', (ns: string) => `/api/v1/namespaces/${ns}/serviceaccounts`],
  ['the TokenRequest', 'no-token', 'issue a token for', (ns: string, sa: string) => `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`],
])('the cluster failing at %s, after the namespace was made: the approval is refused, nothing is written, the namespace is deleted again', async (_step, context, action, path) => {
  const d = await double();
  const clusterId = await importCluster(kubeconfigFor(d, { contexts: [context] }), context);
  // a username that is its own service account name
  const sa = `cy${unique()}`;
  const user = await requestedUser(sa);

  const before = await databaseDigest(server);
  d.failNext(1, 500, { method: 'POST', path: path('undone', sa) });
  const failed = await approve(user.id, clusterId, 'undone');
  expect(failure(failed)).toMatchObject({ code: 'CLUSTER_UNAVAILABLE', message: expect.stringContaining(`could not ${action} ${sa}: HTTP 500`) });
  expect(failed.errors![0].message).not.toContain('could not be deleted');
  expect(changedTables(before, await databaseDigest(server))).toEqual([]);
  expect(await server.sql('select approval_state from users where id = ?', [user.id])).toEqual([{ approval_state: 'ACCESS_REQUESTED' }]);
  expect(d.countRequests({ method: 'DELETE', path: '/api/v1/namespaces/undone' })).toBe(1);
  // Terminating until the double's next tick, then gone with the service account in it
  await waitFor(() => d.get(namespaceRef('undone')) === undefined, 'the namespace gone');
  expect(d.get({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { namespace: 'undone', name: sa } })).toBeUndefined();

  // nothing left behind: the same approval, tried again, goes through
  expect((await approve(user.id, clusterId, 'undone')).data.approveAccessRequest.approvalState).toBe('ACCESS_APPROVED');
});
