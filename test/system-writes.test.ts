import { User } from '../src/entities/index.js';
import { createServiceContext, systemContext } from '../src/request/context.js';
import { startTestServer, type TestServer } from './support/server.js';
import { Feed } from './support/subscriptions.js';

/**
 * Berth's own writers (the cluster watch, the task worker) have no request behind them: they call the services with
 * a system identity, through the same unit of work as a request (one transaction, audit, events announced).
 */
let server: TestServer;
let admin: Record<string, string>;
let clusterId: string;
const feeds: Feed[] = [];

const KUBECONFIG = `
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: { server: "https://system-writes.example.com:6443" }
users:
- name: u
  user: { token: t }
contexts:
- name: sys
  context: { cluster: c, user: u }
`;

beforeAll(async () => {
  server = await startTestServer();
  admin = await server.adminAuth();
  const res = await server.gql<any, object>(
    `mutation($input: CreateClustersFromKubeconfigInput!) { createClustersFromKubeconfig(input: $input) { id isOk } }`,
    { input: { kubeconfig: KUBECONFIG, contexts: ['sys'] } },
    admin,
  );
  expect(res.errors).toBeUndefined();
  clusterId = res.data.createClustersFromKubeconfig[0].id;
});
afterAll(async () => {
  await Promise.all(feeds.map((f) => f.dispose()));
  await server?.stop();
});

const health = (isOk: boolean, notOkReason?: string) =>
  server.berth.services.k8sClusters.recordHealth(systemContext(server.em.fork(), 'k8s-watch'), clusterId, { isOk, notOkReason });
const audits = () =>
  server.sql<{ actor_kind: string; actor_id: string | null; operation: string; request_id: string; after: { isOk: boolean; notOkReason: string | null } }>(
    `select actor_kind, actor_id, operation, request_id, after from audit_records where operation = 'recordClusterHealth' order by created_at`,
  );

test('a system write is one audited transaction whose change reaches subscribers, as a request write would', async () => {
  const feed = new Feed(server.berth.wsUrl, admin, `subscription { events(types: [K8S_CLUSTER]) { operation id node { ... on K8sCluster { isOk notOkReason } } } }`);
  feeds.push(feed);
  await feed.live();

  await health(false, 'connection refused');
  await feed.until((f) => f.changes.length >= 1, 'the health change');
  expect(feed.changes).toEqual([{ operation: 'UPDATE', id: clusterId, node: { isOk: false, notOkReason: 'connection refused' } }]);
  const [record] = await audits();
  expect(record).toMatchObject({ actor_kind: 'system', actor_id: null, operation: 'recordClusterHealth', after: { isOk: false, notOkReason: 'connection refused' } });
  expect(record.request_id).toMatch(/^k8s-watch:[0-9a-f-]{36}$/);

  const cluster = await server.gql<any, object>(`query($id: ID!) { k8sCluster(id: $id) { isOk notOkReason lastSeenAt } }`, { id: clusterId }, admin);
  expect(cluster.data.k8sCluster).toEqual({ isOk: false, notOkReason: 'connection refused', lastSeenAt: null });
});

test('health that did not change is not audited again; a cluster seen again only moves lastSeenAt', async () => {
  const lastSeen = async () => (await server.sql<{ t: Date | null }>('select last_seen_at as t from k8s_clusters where id = ?', [clusterId]))[0].t;
  await health(true);
  const first = await lastSeen();
  expect(first).not.toBeNull();
  await health(true);
  expect(new Date((await lastSeen())!).getTime()).toBeGreaterThanOrEqual(new Date(first!).getTime());
  expect((await audits()).map((a) => [a.after.isOk, a.after.notOkReason])).toEqual([
    [false, 'connection refused'],
    [true, null],
  ]);
});

test('only Berth itself reports health: a site admin calling the service is refused and nothing is written', async () => {
  const em = server.em.fork();
  const ctx = createServiceContext(em, { identity: { kind: 'user', user: await em.findOneOrFail(User, { username: 'admin' }) } }, 'test');
  const before = await audits();
  await expect(server.berth.services.k8sClusters.recordHealth(ctx, clusterId, { isOk: false })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  expect(await audits()).toEqual(before);
});
