import {
  AppsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, PolicyV1Api, RbacAuthorizationV1Api, type KubernetesObject, type V1Container, type V1PolicyRule,
} from '@kubernetes/client-node';
import { readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { createDeployment, watchedCluster } from './support/deployments.js';
import { unique } from './support/fixtures.js';
import { createUser } from './support/identities.js';
import { kubeconfigFor, startKubeApiDouble, type KubeApiDouble, type RequestRecord, type ResourceType } from './support/kube-api/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitFor } from './support/subscriptions.js';

/**
 * deploy/kubernetes/ (the chart's objects with its default values) applied to the Kubernetes API server double through
 * client-node and read back; then its ClusterRole held against what Berth asks of a cluster: the watch, deployment
 * tasks through Flux, platz-creds, Kubportal's statistics and provisioning, each run against another double, every
 * request checked against the ClusterRole's rules, and every rule used.
 */
const MANIFESTS_DIR = 'deploy/kubernetes';
const NAMESPACE = 'berth';

/** The kinds of the manifests the double does not serve by itself. */
const MANIFEST_KINDS: ResourceType[] = [
  { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', kind: 'ClusterRole', namespaced: false, status: false },
  { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false, status: false },
  { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true, status: true, shortNames: ['pdb'] },
];

const manifests = readdirSync(MANIFESTS_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(`${MANIFESTS_DIR}/${f}`, 'utf8')).map((d) => d.toJS() as KubernetesObject));
const named = (kind: string) => {
  const object = manifests.find((o) => o.kind === kind);
  if (!object?.metadata?.name) throw new Error(`deploy/kubernetes has no ${kind}`);
  return object.metadata.name;
};

let double: KubeApiDouble;
let kc: KubeConfig;

beforeAll(async () => {
  double = await startKubeApiDouble({ namespaces: ['default', 'kube-system', NAMESPACE], resources: MANIFEST_KINDS });
  kc = new KubeConfig();
  kc.loadFromString(kubeconfigFor(double));
  const objects = KubernetesObjectApi.makeApiClient(kc);
  for (const object of manifests) await objects.create(object);
});
afterAll(async () => {
  await double?.close();
});

describe('deploy/kubernetes applied', () => {
  const server = () => kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: named('Deployment'), namespace: NAMESPACE });
  const container = async (): Promise<V1Container> => (await server()).spec!.template.spec!.containers[0];

  test('the server probes /readyz for readiness and /healthz for liveness and start, on its HTTP port', async () => {
    const c = await container();
    const http = c.ports!.find((p) => p.name === 'http')!;
    expect(http.containerPort).toBe(4000);
    expect(c.env!.find((e) => e.name === 'PORT')?.value).toBe(String(http.containerPort));
    expect(c.readinessProbe!.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
    expect(c.livenessProbe!.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
    expect(c.startupProbe!.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
  });

  test('it runs as a non-root user, without privileges, on a read-only root filesystem with a writable /tmp', async () => {
    const pod = (await server()).spec!.template.spec!;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: expect.any(Number) });
    expect(pod.securityContext!.runAsUser).not.toBe(0);
    const c = await container();
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    const tmp = c.volumeMounts!.find((m) => m.mountPath === '/tmp')!;
    expect(tmp.readOnly).toBeFalsy();
    expect(pod.volumes!.find((v) => v.name === tmp.name)!.emptyDir).toBeDefined();
  });

  test('every Secret its environment names exists and has the key (an optional one excepted)', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const refs = (await container()).env!.flatMap((e) => (e.valueFrom?.secretKeyRef ? [{ env: e.name, ...e.valueFrom.secretKeyRef }] : []));
    expect(refs.map((r) => r.env)).toEqual(expect.arrayContaining(['DATABASE_URL', 'BERTH_JWT_SECRET', 'BERTH_ENCRYPTION_KEYS']));
    for (const ref of refs.filter((r) => !r.optional)) {
      const secret = await core.readNamespacedSecret({ name: ref.name!, namespace: NAMESPACE });
      expect({ env: ref.env, keys: Object.keys({ ...secret.data, ...secret.stringData }) }).toEqual({ env: ref.env, keys: expect.arrayContaining([ref.key]) });
    }
  });

  test('the Service and the PodDisruptionBudget select the server\'s pods; the Service targets its HTTP port', async () => {
    const deployment = await server();
    const labels = deployment.spec!.template.metadata!.labels!;
    const service = await kc.makeApiClient(CoreV1Api).readNamespacedService({ name: named('Service'), namespace: NAMESPACE });
    expect(labels).toMatchObject(service.spec!.selector!);
    expect((await container()).ports!.map((p) => p.name)).toContain(service.spec!.ports![0].targetPort);
    const pdb = await kc.makeApiClient(PolicyV1Api).readNamespacedPodDisruptionBudget({ name: named('PodDisruptionBudget'), namespace: NAMESPACE });
    expect(pdb.spec!.selector!.matchLabels).toEqual(deployment.spec!.selector.matchLabels);
    expect(labels).toMatchObject(pdb.spec!.selector!.matchLabels!);
  });

  test('the pods run as the ServiceAccount, with its token, which the ClusterRoleBinding binds to the ClusterRole', async () => {
    const pod = (await server()).spec!.template.spec!;
    const account = await kc.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: pod.serviceAccountName!, namespace: NAMESPACE });
    expect(pod.automountServiceAccountToken).toBe(true);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const binding = await rbac.readClusterRoleBinding({ name: named('ClusterRoleBinding') });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: account.metadata!.name, namespace: NAMESPACE }]);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: named('ClusterRole') });
    expect((await rbac.readClusterRole({ name: binding.roleRef.name })).rules!.length).toBeGreaterThan(0);
  });
});

describe('the ClusterRole against what Berth asks of a cluster', () => {
  let berth: TestServer;
  let cluster: KubeApiDouble;
  let admin: Record<string, string>;

  beforeAll(async () => {
    cluster = await startKubeApiDouble({ helmController: { delayMs: 20 } });
    berth = await startTestServer({
      K8S_WATCH: 'true', TASK_WORKER: 'true', DEPLOYMENT_CREDENTIALS: 'true', TASK_POLL_MS: '200', BERTH_PUBLIC_URL: 'https://berth.example.com',
    });
    admin = await berth.adminAuth();
  });
  afterAll(async () => {
    await berth?.stop();
    await cluster?.close();
  });

  const gql = async (query: string, variables: object, headers = admin) => {
    const res = await berth.gql<any, object>(query, variables, headers);
    expect(res.errors).toBeUndefined();
    return res.data;
  };
  const tasksDone = async (deploymentId: string, count: number) => {
    const tasks = await berth.sql<{ status: string }>('select status from deployment_tasks where deployment_id = ?', [deploymentId]);
    return tasks.length === count && tasks.every((t) => t.status === 'Done');
  };

  /** What a request needs: its verb on its resource; a server-side apply that created its object needs create too. */
  const needs = (r: RequestRecord): string[] => {
    const at = `${r.resource!.group}|${r.resource!.resource}|`;
    return r.verb === 'patch' && r.status === 201 ? [`${at}patch`, `${at}create`] : [`${at}${r.verb}`];
  };
  const grants = (rules: V1PolicyRule[]) =>
    new Set(rules.flatMap((rule) => rule.apiGroups!.flatMap((g) => rule.resources!.flatMap((res) => rule.verbs.map((verb) => `${g}|${res}|${verb}`)))));

  test('every request of the watch, the tasks, platz-creds, statistics and Kubportal is granted, and every grant is used', async () => {
    const { clusterId } = await watchedCluster(berth, admin, cluster, 'rbac');

    // Kubportal: the statistics, and an access approved with a namespace of its own
    expect((await gql(`query($id: ID!) { k8sCluster(id: $id) { statistics { nodeCount } } }`, { id: clusterId })).k8sCluster.statistics).toBeDefined();
    const user = await createUser(berth, { username: `ann-${unique()}` });
    await gql('mutation { requestAccess { approvalState } }', {}, user.headers);
    const approval = await gql(
      `mutation($u: ID!, $i: ApproveAccessInput!) { approveAccessRequest(userId: $u, input: $i) { approvalState } }`,
      { u: user.id, i: { newNamespace: { clusterId, name: `team${unique()}` } } },
    );
    expect(approval.approveAccessRequest.approvalState).toBe('ACCESS_APPROVED');

    // a deployment installed, upgraded (everything applied again), its workloads restarted, then uninstalled
    const { id, namespace } = await createDeployment(berth, admin, clusterId, 'rbac', { config: { size: 1 } });
    await waitFor(() => tasksDone(id, 1), 'installed');
    await gql(`mutation($id: ID!) { updateDeployment(id: $id, input: { config: { size: 2 } }) { id } }`, { id });
    await waitFor(() => tasksDone(id, 2), 'upgraded');
    const creds = `/api/v1/namespaces/${namespace}/secrets/platz-creds`;
    await waitFor(() => cluster.countRequests({ method: 'PATCH', path: creds, status: 200 }) > 0, 'platz-creds written again');
    cluster.create({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace }, spec: { replicas: 1 } });
    const workloads = () => berth.sql<{ id: string; name: string }>(`select id, name from k8s_resources where deployment_id = ? and kind in ('Deployment', 'StatefulSet')`, [id]);
    await waitFor(async () => (await workloads()).length === 2, 'the Deployment and the StatefulSet mirrored');
    for (const workload of await workloads()) {
      await gql(`mutation($input: CreateDeploymentTaskInput!) { createDeploymentTask(input: $input) { id } }`, {
        input: { deploymentId: id, restartK8sResource: { resourceId: workload.id, resourceName: workload.name } },
      });
    }
    await waitFor(() => tasksDone(id, 4), 'both restarted');
    await gql(`mutation($id: ID!) { deleteDeployment(id: $id) { id } }`, { id });
    await waitFor(async () => !cluster.get({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }), 'uninstalled');

    const rules = (await kc.makeApiClient(RbacAuthorizationV1Api).readClusterRole({ name: named('ClusterRole') })).rules!;
    const granted = grants(rules);
    // discovery and /version carry no resource: every authenticated user may read them (system:discovery)
    const used = new Set(cluster.requests.filter((r) => r.resource).flatMap(needs));
    expect({ notGranted: [...used].filter((n) => !granted.has(n)).sort(), unused: [...granted].filter((g) => !used.has(g)).sort() }).toEqual({
      notGranted: [],
      unused: [],
    });
  });
});
