import {
  Bot, BotToken, Deployment, DeploymentKind, DeploymentPermission, DeploymentResource, DeploymentResourceType, DeploymentTask, Env,
  EnvUserPermission, Group, GroupMember, GroupWebApp, HelmChart, HelmRegistry, HelmTagFormat, K8sCluster, K8sNamespace, K8sResource,
  K8sServiceAccount, Secret, User, UserToken, WebApp,
} from '../src/entities/index.js';
import type { DeploymentTaskOperation } from '../src/entities/deployment-task-operation.js';
import { DeploymentTaskStatus, EnvUserRole, HelmRegistryProvider, UserDeploymentRole } from '../src/entities/enums.js';
import { build, inCreationOrder, persist, unique } from './support/fixtures.js';
import { createUser, grantEnvRole } from './support/identities.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

/** Rows get distinct, increasing createdAt in the order they are declared, so "oldest first" is predictable. */
const make = inCreationOrder();

let auth: Record<string, string>;

async function query(document: string, variables: object = {}): Promise<any> {
  const res = await server.gql<any, any>(document, variables, auth);
  expect(res.errors).toBeUndefined();
  return res.data;
}

const ids = (rows: { id: string }[] | null | undefined) => rows?.map((r) => r.id);
const idOf = (row: { id: string } | null | undefined) => (row ? { id: row.id } : null);
const sorted = (list: string[] | undefined) => [...(list ?? [])].sort();

const w = {} as {
  envs: Record<'prod' | 'empty', Env>;
  clusters: Record<'c1' | 'c2' | 'c3', K8sCluster>;
  namespaces: Record<'ns1' | 'ns2' | 'ns3' | 'orphan', K8sNamespace>;
  serviceAccounts: Record<'sa1' | 'sa2', K8sServiceAccount>;
  users: Record<'u1' | 'u2' | 'u3', User>;
  bots: Record<'b1' | 'b2', Bot>;
  groups: Record<'g1' | 'g2' | 'g3', Group>;
  webApps: Record<'wa1' | 'wa2' | 'wa3', WebApp>;
  kinds: Record<'k1' | 'k2', DeploymentKind>;
  registries: Record<'r1' | 'r2', HelmRegistry>;
  tagFormat: HelmTagFormat;
  charts: Record<'ch1' | 'ch2' | 'ch3' | 'ch4' | 'ch5', HelmChart>;
  deployments: Record<'d1' | 'd2' | 'd3' | 'd4', Deployment>;
  /** d1's tasks oldest first: install, upgrade, invoke, uninstall */
  d1Tasks: DeploymentTask[];
  /** d2's tasks, created in the same millisecond */
  d2Tasks: DeploymentTask[];
  d3Task: DeploymentTask;
  k8sResources: Record<'kr1' | 'kr2' | 'kr3' | 'kr4', K8sResource>;
  resourceTypes: Record<'sensitive' | 'plain', DeploymentResourceType>;
  resources: Record<'res1' | 'res2' | 'res3', DeploymentResource>;
  envPermissions: Record<'ep1' | 'ep2' | 'ep3', EnvUserPermission>;
  deploymentPermissions: Record<'dp1' | 'dp2' | 'dp3', DeploymentPermission>;
  secrets: Record<'s1' | 's2', Secret>;
  userToken: UserToken;
  botTokens: Record<'bt1' | 'bt2', BotToken>;
};

beforeAll(async () => {
  auth = await server.adminAuth();
  const em = server.em.fork();

  w.clusters = {} as typeof w.clusters;
  w.users = {
    u1: make(User, { username: 'rel-u1', email: 'u1@rel.test', displayName: 'U One' }),
    u2: make(User, { username: 'rel-u2', email: 'u2@rel.test', displayName: 'U Two' }),
    u3: make(User, { username: 'rel-u3', email: 'u3@rel.test', displayName: 'U Three' }),
  };
  w.envs = { prod: make(Env, { name: 'rel-prod', owner: w.users.u1 }), empty: make(Env, { name: 'rel-empty' }) };
  w.clusters = {
    c1: make(K8sCluster, { env: w.envs.prod, providerId: 'rel:c1', name: 'c1' }),
    c2: make(K8sCluster, { env: w.envs.prod, providerId: 'rel:c2', name: 'c2' }),
    c3: make(K8sCluster, { env: null, providerId: 'rel:c3', name: 'c3' }),
  };
  const { c1, c2, c3 } = w.clusters;
  w.namespaces = {
    ns1: make(K8sNamespace, { cluster: c1, name: 'ns1' }),
    ns2: make(K8sNamespace, { cluster: c1, name: 'ns2' }),
    ns3: make(K8sNamespace, { cluster: c2, name: 'ns3' }),
    orphan: make(K8sNamespace, { cluster: null, name: 'orphan' }),
  };
  w.serviceAccounts = {
    sa1: make(K8sServiceAccount, { namespace: w.namespaces.ns1, name: 'sa1' }),
    sa2: make(K8sServiceAccount, { namespace: w.namespaces.ns1, name: 'sa2' }),
  };
  w.users.u1.serviceAccount = w.serviceAccounts.sa1;
  w.users.u2.serviceAccount = w.serviceAccounts.sa1;
  w.bots = { b1: make(Bot, { displayName: 'b1' }), b2: make(Bot, { displayName: 'b2' }) };
  w.groups = { g1: make(Group, { name: 'rel-g1' }), g2: make(Group, { name: 'rel-g2' }), g3: make(Group, { name: 'rel-g3' }) };
  w.webApps = { wa1: make(WebApp, { name: 'wa1' }), wa2: make(WebApp, { name: 'wa2' }), wa3: make(WebApp, { name: 'wa3' }) };
  const { g1, g2 } = w.groups;
  const { u1, u2 } = w.users;
  const { wa1, wa2 } = w.webApps;
  // link order differs from row order, so the link's createdAt decides
  const links = [
    make(GroupMember, { group: g1, user: u2 }),
    make(GroupMember, { group: g1, user: u1 }),
    make(GroupMember, { group: g2, user: u1 }),
    make(GroupWebApp, { group: g1, webApp: wa2 }),
    make(GroupWebApp, { group: g1, webApp: wa1 }),
    make(GroupWebApp, { group: g2, webApp: wa1 }),
  ];
  w.kinds = { k1: make(DeploymentKind, { name: 'RelK1' }), k2: make(DeploymentKind, { name: 'RelK2' }) };
  w.registries = {
    r1: make(HelmRegistry, { domainName: 'rel.example.com', repoName: 'r1', kind: w.kinds.k1, provider: HelmRegistryProvider.Oci }),
    r2: make(HelmRegistry, { domainName: 'rel.example.com', repoName: 'r2', kind: w.kinds.k1 }),
  };
  w.tagFormat = make(HelmTagFormat, { pattern: '^rel-(?<version>.+)$' });
  const chart = (helmRegistry: HelmRegistry, tag: string, tagFormat: HelmTagFormat | null) =>
    make(HelmChart, {
      helmRegistry,
      imageTag: tag,
      imageDigest: `sha256:${tag}`,
      tagFormat,
      valuesUi: { inputs: [{ id: 'replica_count', type: 'number', initialValue: 1 }] },
      features: { cardinality: 'Many', standard_ingress: true },
      parsedVersion: tag.replace(/^rel-/, ''),
    });
  w.charts = {
    ch1: chart(w.registries.r1, 'rel-1', w.tagFormat),
    ch5: chart(w.registries.r2, 'other-1', null),
    ch2: chart(w.registries.r1, 'rel-2', w.tagFormat),
    ch3: chart(w.registries.r1, 'rel-3', w.tagFormat),
    ch4: chart(w.registries.r1, 'rel-4', w.tagFormat),
  };
  const dep = (name: string, cluster: K8sCluster, helmChart: HelmChart) => make(Deployment, { name, cluster, kind: w.kinds.k1, helmChart });
  w.deployments = {
    d1: dep('d1', c1, w.charts.ch1),
    d3: dep('d3', c2, w.charts.ch5),
    d2: dep('d2', c1, w.charts.ch2),
    d4: dep('d4', c3, w.charts.ch3),
  };
  const { d1, d2, d3, d4 } = w.deployments;
  const task = (deployment: Deployment, operation: DeploymentTaskOperation, fields: Partial<DeploymentTask> = {}) =>
    make(DeploymentTask, { deployment, cluster: deployment.cluster, operation, status: DeploymentTaskStatus.Done, ...fields });
  w.d1Tasks = [
    task(d1, { Install: { helm_chart_id: w.charts.ch1.id, config_inputs: { db_name: 'app', nested_key: { inner_key: 1 } }, values_override: { replica_count: 2 } } }, { actingUser: u1 }),
    task(
      d1,
      {
        Upgrade: {
          helm_chart_id: w.charts.ch2.id,
          prev_helm_chart_id: w.charts.ch1.id,
          config_inputs: { db_name: 'app2' },
          config_delta: { db_name: ['app', 'app2'] },
          values_override: null,
        },
      },
      { actingBot: w.bots.b1, canceledByUser: u2 },
    ),
    task(d1, { InvokeAction: { helm_chart_id: w.charts.ch2.id, action_id: 'backup-now', body: { target_bucket: 's3://b' } } }, { actingDeployment: d2, canceledByBot: w.bots.b1 }),
    task(d1, { Uninstall: {} }, { status: DeploymentTaskStatus.Pending, canceledByDeployment: d3 }),
  ];
  const sameInstant = new Date(); // later than every row made so far
  w.d2Tasks = [
    task(d2, { Reinstall: { reason: 'node drained' } }, { createdAt: sameInstant }),
    task(d2, { Recreate: { old_cluster_id: c1.id, old_namespace: 'old-ns', new_cluster_id: c2.id, new_namespace: 'new-ns' } }, { createdAt: sameInstant }),
    task(d2, { RestartK8sResource: { resource_id: '0b5f1c36-2f0e-4c52-9a53-7d1f4c2b9e01', resource_name: 'web-0' } }, { createdAt: sameInstant }),
  ];
  w.d3Task = task(d3, { Install: { helm_chart_id: w.charts.ch5.id, config_inputs: null, values_override: null } });
  w.k8sResources = {
    kr1: make(K8sResource, { cluster: c1, deployment: d1, kind: 'Deployment', apiVersion: 'apps/v1', name: 'd1' }),
    kr3: make(K8sResource, { cluster: c2, deployment: null, kind: 'ConfigMap', apiVersion: 'v1', name: 'loose' }),
    kr2: make(K8sResource, { cluster: c1, deployment: d1, kind: 'Service', apiVersion: 'v1', name: 'd1' }),
    kr4: make(K8sResource, { cluster: c2, deployment: d3, kind: 'Deployment', apiVersion: 'apps/v1', name: 'd3' }),
  };
  w.resourceTypes = {
    sensitive: make(DeploymentResourceType, {
      env: w.envs.prod,
      deploymentKind: w.kinds.k1,
      key: 'db',
      spec: { values_ui: { inputs: [{ id: 'password', sensitive: true }, { id: 'host' }] } },
    }),
    plain: make(DeploymentResourceType, { env: null, deploymentKind: w.kinds.k1, key: 'cache', spec: {} }),
  };
  w.resources = {
    res1: make(DeploymentResource, { type: w.resourceTypes.sensitive, deployment: d1, name: 'db1', props: { password: 's3cret', host: 'db.local', port: 5432 } }),
    res2: make(DeploymentResource, { type: w.resourceTypes.plain, deployment: d1, name: 'cache1', props: { password: 'not-marked', size: 3 } }),
    res3: make(DeploymentResource, { type: w.resourceTypes.sensitive, deployment: null, name: 'db2', props: { password: 'p' } }),
  };
  w.envPermissions = {
    ep1: make(EnvUserPermission, { env: w.envs.prod, user: u1, role: EnvUserRole.Admin }),
    ep2: make(EnvUserPermission, { env: w.envs.prod, bot: w.bots.b1, role: EnvUserRole.User }),
    ep3: make(EnvUserPermission, { env: w.envs.empty, user: u2, role: EnvUserRole.User }),
  };
  w.deploymentPermissions = {
    dp1: make(DeploymentPermission, { env: w.envs.prod, user: u1, kind: w.kinds.k1, role: UserDeploymentRole.Owner }),
    dp2: make(DeploymentPermission, { env: w.envs.prod, bot: w.bots.b1, kind: w.kinds.k1, role: UserDeploymentRole.Maintainer }),
    dp3: make(DeploymentPermission, { env: w.envs.empty, user: u1, kind: w.kinds.k2, role: UserDeploymentRole.Maintainer }),
  };
  w.secrets = {
    s1: make(Secret, { env: w.envs.prod, collection: 'c', name: 's1', contentsEncrypted: 'x' }),
    s2: make(Secret, { env: w.envs.prod, collection: 'c', name: 's2', contentsEncrypted: 'x' }),
  };
  w.userToken = make(UserToken, { user: u1, secretHash: 'x' });
  w.botTokens = {
    bt1: make(BotToken, { bot: w.bots.b1, createdByUser: u1, secretHash: 'x' }),
    bt2: make(BotToken, { bot: w.bots.b1, createdByUser: null, secretHash: 'x' }),
  };
  // two flushes: with env.owner → user → service account → namespace → cluster → env in one unit of work, MikroORM's
  // commit order can put tasks before their deployment (it then defers the required deployment_id and refuses)
  em.persist([
    ...Object.values(w.users), ...Object.values(w.envs), ...Object.values(w.clusters), ...Object.values(w.namespaces),
    ...Object.values(w.serviceAccounts), ...Object.values(w.bots), ...Object.values(w.groups), ...Object.values(w.webApps), ...links,
    ...Object.values(w.kinds), ...Object.values(w.registries), w.tagFormat, ...Object.values(w.charts), ...Object.values(w.deployments),
  ]);
  await em.flush();
  em.persist([
    ...w.d1Tasks, ...w.d2Tasks, w.d3Task, ...Object.values(w.k8sResources), ...Object.values(w.resourceTypes), ...Object.values(w.resources),
    ...Object.values(w.envPermissions), ...Object.values(w.deploymentPermissions), ...Object.values(w.secrets), w.userToken,
    ...Object.values(w.botTokens),
  ]);
  await em.flush();
  // the revision points back at a task of the deployment
  d1.revision = w.d1Tasks[1];
  d3.revision = w.d3Task;
  await em.flush();
  void d4;
});

/** d2's tasks newest first: same createdAt, so id descending */
const d2Newest = () => [...w.d2Tasks].sort((a, b) => (a.id < b.id ? 1 : -1));
const d1Newest = () => [...w.d1Tasks].reverse();

describe('deployment relations', () => {
  const DEPLOYMENT = `query($id: ID!) { deployment(id: $id) {
    id cluster { id } env { id } kind { id } helmChart { id } revision { id } latestTask { id }
    tasks { id } k8sResources { id } resources { id }
  } }`;

  test('to-one relations: cluster, env through the cluster, kind, chart and revision', async () => {
    const { d1, d2, d3, d4 } = w.deployments;
    const one = (await query(DEPLOYMENT, { id: d1.id })).deployment;
    expect(one).toMatchObject({
      id: d1.id,
      cluster: idOf(w.clusters.c1),
      env: idOf(w.envs.prod),
      kind: idOf(w.kinds.k1),
      helmChart: idOf(w.charts.ch1),
      revision: idOf(w.d1Tasks[1]),
      latestTask: idOf(w.d1Tasks[3]),
    });
    expect((await query(DEPLOYMENT, { id: d3.id })).deployment).toMatchObject({ cluster: idOf(w.clusters.c2), env: idOf(w.envs.prod), revision: idOf(w.d3Task) });
    expect((await query(DEPLOYMENT, { id: d2.id })).deployment).toMatchObject({ revision: null, latestTask: idOf(d2Newest()[0]) });
    // a cluster without an env, and a deployment without tasks
    expect((await query(DEPLOYMENT, { id: d4.id })).deployment).toMatchObject({
      cluster: idOf(w.clusters.c3),
      env: null,
      helmChart: idOf(w.charts.ch3),
      revision: null,
      latestTask: null,
      tasks: [],
      k8sResources: [],
      resources: [],
    });
  });

  test('to-many relations: tasks newest first, k8s resources and deployment resources oldest first', async () => {
    const one = (await query(DEPLOYMENT, { id: w.deployments.d1.id })).deployment;
    expect(ids(one.tasks)).toEqual(ids(d1Newest()));
    expect(ids(one.k8sResources)).toEqual([w.k8sResources.kr1.id, w.k8sResources.kr2.id]);
    expect(ids(one.resources)).toEqual([w.resources.res1.id, w.resources.res2.id]);
    const three = (await query(DEPLOYMENT, { id: w.deployments.d3.id })).deployment;
    expect(ids(three.tasks)).toEqual([w.d3Task.id]);
    expect(ids(three.k8sResources)).toEqual([w.k8sResources.kr4.id]);
    // tasks created in the same millisecond come by id, descending
    expect(ids((await query(DEPLOYMENT, { id: w.deployments.d2.id })).deployment.tasks)).toEqual(ids(d2Newest()));
  });

  test('tasks(first: 2) returns the two newest tasks of each deployment in one list', async () => {
    const TASK_FIELDS = `id createdAt executeAt status operation { __typename ... on ReinstallOperation { reason } ... on UpgradeOperation { helmChartId prevHelmChartId } }`;
    const data = await query(`query($filter: DeploymentFilter) { deployments(filter: $filter) { edges { node {
      id newest: tasks(first: 2) { ${TASK_FIELDS} } all: tasks { ${TASK_FIELDS} } none: tasks(first: 0) { id } latestTask { id }
    } } } }`, { filter: { kindId: w.kinds.k1.id } });
    const byId = new Map<string, any>(data.deployments.edges.map((e: any) => [e.node.id, e.node]));
    const { d1, d2, d3, d4 } = w.deployments;
    expect(ids(byId.get(d1.id).newest)).toEqual(ids(d1Newest().slice(0, 2)));
    expect(ids(byId.get(d2.id).newest)).toEqual(ids(d2Newest().slice(0, 2)));
    expect(ids(byId.get(d3.id).newest)).toEqual([w.d3Task.id]);
    expect(byId.get(d4.id).newest).toEqual([]);
    for (const node of byId.values()) {
      // the limited list maps rows exactly as the full one does
      expect(node.newest).toEqual(node.all.slice(0, 2));
      expect(node.none).toEqual([]);
      expect(node.latestTask).toEqual(node.all[0] ? { id: node.all[0].id } : null);
    }
  });

  test("the latest task is the newest the caller may see: one in another env's cluster (left by a move) is skipped", async () => {
    const [here, there] = await persist(server, build(Env, { name: `here-${unique()}` }), build(Env, { name: `there-${unique()}` }));
    const [hereCluster, thereCluster] = await persist(
      server,
      build(K8sCluster, { env: here, providerId: `here:${unique()}`, name: 'here' }),
      build(K8sCluster, { env: there, providerId: `there:${unique()}`, name: 'there' }),
    );
    // a kind and chart of its own, so the other tests' lists of the world's kinds do not change
    const kind = build(DeploymentKind, { name: `Moved${unique()}` });
    const registry = build(HelmRegistry, { domainName: 'r.example.com', repoName: `moved-${unique()}`, kind, provider: HelmRegistryProvider.Oci });
    const chart = build(HelmChart, { helmRegistry: registry, imageDigest: `sha256:${unique()}`, imageTag: '1.0.0' });
    await persist(server, kind, registry, chart);
    const [moved] = await persist(server, build(Deployment, { name: `moved-${unique()}`, kind, cluster: hereCluster, helmChart: chart }));
    const at = Date.now();
    const [older, newer] = await persist(
      server,
      build(DeploymentTask, { deployment: moved, cluster: hereCluster, operation: { Reinstall: { reason: 'here' } }, createdAt: new Date(at - 2000) }),
      build(DeploymentTask, { deployment: moved, cluster: thereCluster, operation: { Reinstall: { reason: 'there' } }, createdAt: new Date(at - 1000) }),
    );
    const user = await createUser(server);
    await grantEnvRole(server, here.id, { userId: user.id }, EnvUserRole.User);
    const LIST = `query($filter: DeploymentFilter) { deployments(filter: $filter) { edges { node { id cluster { id env { id } } latestTask { id } } } } }`;
    const as = async (headers: Record<string, string>, document: string, variables: object) => (await server.gql<any, any>(document, variables, headers)).data;
    const listed = await as(user.headers, LIST, { filter: { clusterId: hereCluster.id } });
    expect(listed.deployments.edges.map((e: any) => e.node)).toEqual([{ id: moved.id, cluster: { id: hereCluster.id, env: { id: here.id } }, latestTask: { id: older.id } }]);
    expect((await as(user.headers, `query($id: ID!) { deployment(id: $id) { latestTask { id } } }`, { id: moved.id })).deployment.latestTask).toEqual({ id: older.id });
    const asAdmin = await as(auth, LIST, { filter: { clusterId: hereCluster.id } });
    expect(asAdmin.deployments.edges[0].node.latestTask).toEqual({ id: newer.id });
  });

  test('tasks(first:) is validated like a page size', async () => {
    for (const first of [-1, 501]) {
      const res = await server.gql<any, any>(`query($id: ID!, $first: Int) { deployment(id: $id) { tasks(first: $first) { id } } }`, { id: w.deployments.d1.id, first }, auth);
      expect(res.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
    }
  });
});

describe('task operations (a union over the stored snake_case JSON)', () => {
  const OPERATION = `query($id: ID!) { deploymentTask(id: $id) { id operation {
    __typename
    ... on InstallOperation { helmChartId configInputs valuesOverride }
    ... on UpgradeOperation { helmChartId prevHelmChartId configInputs configDelta valuesOverride }
    ... on ReinstallOperation { reason }
    ... on RecreateOperation { oldClusterId oldNamespace newClusterId newNamespace }
    ... on UninstallOperation { uninstall }
    ... on InvokeActionOperation { helmChartId actionId body }
    ... on RestartK8sResourceOperation { resourceId resourceName }
  } } }`;
  const operation = async (task: DeploymentTask) => (await query(OPERATION, { id: task.id })).deploymentTask.operation;

  test('Install, Upgrade and InvokeAction: top-level keys camelCased, JSON values left as stored', async () => {
    const [install, upgrade, invoke] = w.d1Tasks;
    expect(await operation(install)).toEqual({
      __typename: 'InstallOperation',
      helmChartId: w.charts.ch1.id,
      configInputs: { db_name: 'app', nested_key: { inner_key: 1 } },
      valuesOverride: { replica_count: 2 },
    });
    expect(await operation(upgrade)).toEqual({
      __typename: 'UpgradeOperation',
      helmChartId: w.charts.ch2.id,
      prevHelmChartId: w.charts.ch1.id,
      configInputs: { db_name: 'app2' },
      configDelta: { db_name: ['app', 'app2'] },
      valuesOverride: null,
    });
    expect(await operation(invoke)).toEqual({
      __typename: 'InvokeActionOperation',
      helmChartId: w.charts.ch2.id,
      actionId: 'backup-now',
      body: { target_bucket: 's3://b' },
    });
    expect(await operation(w.d3Task)).toEqual({ __typename: 'InstallOperation', helmChartId: w.charts.ch5.id, configInputs: null, valuesOverride: null });
  });

  test('Reinstall, Recreate, Uninstall and RestartK8sResource', async () => {
    const [reinstall, recreate, restart] = w.d2Tasks;
    expect(await operation(reinstall)).toEqual({ __typename: 'ReinstallOperation', reason: 'node drained' });
    expect(await operation(recreate)).toEqual({
      __typename: 'RecreateOperation',
      oldClusterId: w.clusters.c1.id,
      oldNamespace: 'old-ns',
      newClusterId: w.clusters.c2.id,
      newNamespace: 'new-ns',
    });
    expect(await operation(w.d1Tasks[3])).toEqual({ __typename: 'UninstallOperation', uninstall: true });
    expect(await operation(restart)).toEqual({
      __typename: 'RestartK8sResourceOperation',
      resourceId: '0b5f1c36-2f0e-4c52-9a53-7d1f4c2b9e01',
      resourceName: 'web-0',
    });
  });

  test('a list of tasks resolves each operation to its own type', async () => {
    const data = await query(`query($filter: DeploymentTaskFilter) { deploymentTasks(filter: $filter) { edges { node { id operation { __typename } } } } }`, {
      filter: { envId: w.envs.prod.id },
    });
    const types = new Map<string, string>(data.deploymentTasks.edges.map((e: any) => [e.node.id, e.node.operation.__typename]));
    expect(types.get(w.d1Tasks[0].id)).toBe('InstallOperation');
    expect(types.get(w.d1Tasks[1].id)).toBe('UpgradeOperation');
    expect(types.get(w.d1Tasks[2].id)).toBe('InvokeActionOperation');
    expect(types.get(w.d1Tasks[3].id)).toBe('UninstallOperation');
    expect(types.get(w.d2Tasks[0].id)).toBe('ReinstallOperation');
    expect(types.get(w.d2Tasks[1].id)).toBe('RecreateOperation');
    expect(types.get(w.d2Tasks[2].id)).toBe('RestartK8sResourceOperation');
    expect(types.get(w.d3Task.id)).toBe('InstallOperation');
    expect(types.size).toBe(8);
  });

  test('task actors and cancelers', async () => {
    const TASK = `query($id: ID!) { deploymentTask(id: $id) {
      cluster { id } deployment { id }
      actingUser { id } actingBot { id } actingDeployment { id } canceledByUser { id } canceledByBot { id } canceledByDeployment { id }
    } }`;
    const none = { actingUser: null, actingBot: null, actingDeployment: null, canceledByUser: null, canceledByBot: null, canceledByDeployment: null };
    const [install, upgrade, invoke, uninstall] = w.d1Tasks;
    const base = { cluster: idOf(w.clusters.c1), deployment: idOf(w.deployments.d1) };
    expect((await query(TASK, { id: install.id })).deploymentTask).toEqual({ ...base, ...none, actingUser: idOf(w.users.u1) });
    expect((await query(TASK, { id: upgrade.id })).deploymentTask).toEqual({ ...base, ...none, actingBot: idOf(w.bots.b1), canceledByUser: idOf(w.users.u2) });
    expect((await query(TASK, { id: invoke.id })).deploymentTask).toEqual({ ...base, ...none, actingDeployment: idOf(w.deployments.d2), canceledByBot: idOf(w.bots.b1) });
    expect((await query(TASK, { id: uninstall.id })).deploymentTask).toEqual({ ...base, ...none, canceledByDeployment: idOf(w.deployments.d3) });
    expect((await query(TASK, { id: w.d3Task.id })).deploymentTask).toEqual({ cluster: idOf(w.clusters.c2), deployment: idOf(w.deployments.d3), ...none });
  });
});

describe('cluster, env and namespace relations', () => {
  test('cluster: env, deployments, namespaces and k8s resources', async () => {
    const CLUSTER = `query($id: ID!) { k8sCluster(id: $id) { env { id } deployments { id } namespaces { id } k8sResources { id } } }`;
    expect((await query(CLUSTER, { id: w.clusters.c1.id })).k8sCluster).toEqual({
      env: idOf(w.envs.prod),
      deployments: [idOf(w.deployments.d1), idOf(w.deployments.d2)],
      namespaces: [idOf(w.namespaces.ns1), idOf(w.namespaces.ns2)],
      k8sResources: [idOf(w.k8sResources.kr1), idOf(w.k8sResources.kr2)],
    });
    expect((await query(CLUSTER, { id: w.clusters.c2.id })).k8sCluster).toEqual({
      env: idOf(w.envs.prod),
      deployments: [idOf(w.deployments.d3)],
      namespaces: [idOf(w.namespaces.ns3)],
      k8sResources: [idOf(w.k8sResources.kr3), idOf(w.k8sResources.kr4)],
    });
    expect((await query(CLUSTER, { id: w.clusters.c3.id })).k8sCluster).toEqual({ env: null, deployments: [idOf(w.deployments.d4)], namespaces: [], k8sResources: [] });
  });

  test('env: clusters, deployments of its clusters, permissions, secrets and owner', async () => {
    const ENV = `query($id: ID!) { env(id: $id) {
      owner { id } clusters { id } deployments { id } userPermissions { id } deploymentPermissions { id } secrets { id name collection }
    } }`;
    const prod = (await query(ENV, { id: w.envs.prod.id })).env;
    expect(prod.owner).toEqual(idOf(w.users.u1));
    expect(ids(prod.clusters)).toEqual([w.clusters.c1.id, w.clusters.c2.id]);
    expect(sorted(ids(prod.deployments))).toEqual(sorted([w.deployments.d1.id, w.deployments.d2.id, w.deployments.d3.id]));
    expect(ids(prod.userPermissions)).toEqual([w.envPermissions.ep1.id, w.envPermissions.ep2.id]);
    expect(ids(prod.deploymentPermissions)).toEqual([w.deploymentPermissions.dp1.id, w.deploymentPermissions.dp2.id]);
    expect(prod.secrets).toEqual([
      { id: w.secrets.s1.id, name: 's1', collection: 'c' },
      { id: w.secrets.s2.id, name: 's2', collection: 'c' },
    ]);
    expect((await query(ENV, { id: w.envs.empty.id })).env).toEqual({
      owner: null,
      clusters: [],
      deployments: [],
      userPermissions: [idOf(w.envPermissions.ep3)],
      deploymentPermissions: [idOf(w.deploymentPermissions.dp3)],
      secrets: [],
    });
  });

  test('the same relations batched over a list of envs give each env its own rows', async () => {
    const data = await query(`query($filter: EnvFilter) { envs(filter: $filter) { edges { node { id owner { id } clusters { id } deployments { id } secrets { id } } } } }`, {});
    const byId = new Map<string, any>(data.envs.edges.map((e: any) => [e.node.id, e.node]));
    expect(sorted(ids(byId.get(w.envs.prod.id).deployments))).toEqual(sorted([w.deployments.d1.id, w.deployments.d2.id, w.deployments.d3.id]));
    expect(ids(byId.get(w.envs.prod.id).secrets)).toEqual([w.secrets.s1.id, w.secrets.s2.id]);
    expect(byId.get(w.envs.empty.id)).toEqual({ id: w.envs.empty.id, owner: null, clusters: [], deployments: [], secrets: [] });
  });

  test('namespaces and service accounts in both directions', async () => {
    const NS = `query($id: ID!) { k8sNamespace(id: $id) { cluster { id } serviceAccounts { id } } }`;
    expect((await query(NS, { id: w.namespaces.ns1.id })).k8sNamespace).toEqual({
      cluster: idOf(w.clusters.c1),
      serviceAccounts: [idOf(w.serviceAccounts.sa1), idOf(w.serviceAccounts.sa2)],
    });
    expect((await query(NS, { id: w.namespaces.orphan.id })).k8sNamespace).toEqual({ cluster: null, serviceAccounts: [] });
    const SA = `query($id: ID!) { k8sServiceAccount(id: $id) { namespace { id } users { id } } }`;
    expect((await query(SA, { id: w.serviceAccounts.sa1.id })).k8sServiceAccount).toEqual({
      namespace: idOf(w.namespaces.ns1),
      users: [idOf(w.users.u1), idOf(w.users.u2)],
    });
    expect((await query(SA, { id: w.serviceAccounts.sa2.id })).k8sServiceAccount).toEqual({ namespace: idOf(w.namespaces.ns1), users: [] });
  });

  test('k8s resources, secrets: their cluster, deployment and env', async () => {
    const KR = `query($id: ID!) { k8sResource(id: $id) { cluster { id } deployment { id } } }`;
    expect((await query(KR, { id: w.k8sResources.kr2.id })).k8sResource).toEqual({ cluster: idOf(w.clusters.c1), deployment: idOf(w.deployments.d1) });
    expect((await query(KR, { id: w.k8sResources.kr3.id })).k8sResource).toEqual({ cluster: idOf(w.clusters.c2), deployment: null });
    expect((await query(`query($id: ID!) { secret(id: $id) { env { id } } }`, { id: w.secrets.s2.id })).secret).toEqual({ env: idOf(w.envs.prod) });
  });
});

describe('users, groups, web apps, bots and tokens', () => {
  test('user: groups, service account and permissions', async () => {
    const USER = `query($id: ID!) { user(id: $id) { groups { id } serviceAccount { id } envPermissions { id } deploymentPermissions { id } } }`;
    expect((await query(USER, { id: w.users.u1.id })).user).toEqual({
      // by membership date: g1 then g2
      groups: [idOf(w.groups.g1), idOf(w.groups.g2)],
      serviceAccount: idOf(w.serviceAccounts.sa1),
      envPermissions: [idOf(w.envPermissions.ep1)],
      deploymentPermissions: [idOf(w.deploymentPermissions.dp1), idOf(w.deploymentPermissions.dp3)],
    });
    expect((await query(USER, { id: w.users.u2.id })).user).toEqual({
      groups: [idOf(w.groups.g1)],
      serviceAccount: idOf(w.serviceAccounts.sa1),
      envPermissions: [idOf(w.envPermissions.ep3)],
      deploymentPermissions: [],
    });
    expect((await query(USER, { id: w.users.u3.id })).user).toEqual({ groups: [], serviceAccount: null, envPermissions: [], deploymentPermissions: [] });
  });

  test('group: members and web apps in link order; web app: its groups', async () => {
    const GROUP = `query($id: ID!) { group(id: $id) { members { id username } webApps { id name } } }`;
    expect((await query(GROUP, { id: w.groups.g1.id })).group).toEqual({
      members: [
        { id: w.users.u2.id, username: 'rel-u2' },
        { id: w.users.u1.id, username: 'rel-u1' },
      ],
      webApps: [
        { id: w.webApps.wa2.id, name: 'wa2' },
        { id: w.webApps.wa1.id, name: 'wa1' },
      ],
    });
    expect((await query(GROUP, { id: w.groups.g2.id })).group).toEqual({ members: [{ id: w.users.u1.id, username: 'rel-u1' }], webApps: [{ id: w.webApps.wa1.id, name: 'wa1' }] });
    expect((await query(GROUP, { id: w.groups.g3.id })).group).toEqual({ members: [], webApps: [] });
    const APP = `query($id: ID!) { webApp(id: $id) { groups { id } } }`;
    expect((await query(APP, { id: w.webApps.wa1.id })).webApp.groups).toEqual([idOf(w.groups.g1), idOf(w.groups.g2)]);
    expect((await query(APP, { id: w.webApps.wa2.id })).webApp.groups).toEqual([idOf(w.groups.g1)]);
    expect((await query(APP, { id: w.webApps.wa3.id })).webApp.groups).toEqual([]);
  });

  test('members batched over a list of groups', async () => {
    const data = await query(`query($filter: GroupFilter) { groups(filter: $filter) { edges { node { id members { id } webApps { id } } } } }`, { filter: { name: 'rel-' } });
    expect(data.groups.edges.map((e: any) => e.node)).toEqual([
      { id: w.groups.g1.id, members: [idOf(w.users.u2), idOf(w.users.u1)], webApps: [idOf(w.webApps.wa2), idOf(w.webApps.wa1)] },
      { id: w.groups.g2.id, members: [idOf(w.users.u1)], webApps: [idOf(w.webApps.wa1)] },
      { id: w.groups.g3.id, members: [], webApps: [] },
    ]);
  });

  test('permissions: env, holder (user or bot) and kind', async () => {
    const EP = `query($id: ID!) { envUserPermission(id: $id) { role env { id } user { id } bot { id } } }`;
    expect((await query(EP, { id: w.envPermissions.ep1.id })).envUserPermission).toEqual({ role: 'Admin', env: idOf(w.envs.prod), user: idOf(w.users.u1), bot: null });
    expect((await query(EP, { id: w.envPermissions.ep2.id })).envUserPermission).toEqual({ role: 'User', env: idOf(w.envs.prod), user: null, bot: idOf(w.bots.b1) });
    const DP = `query($id: ID!) { deploymentPermission(id: $id) { role env { id } user { id } bot { id } kind { id } } }`;
    expect((await query(DP, { id: w.deploymentPermissions.dp2.id })).deploymentPermission).toEqual({
      role: 'Maintainer',
      env: idOf(w.envs.prod),
      user: null,
      bot: idOf(w.bots.b1),
      kind: idOf(w.kinds.k1),
    });
    expect((await query(DP, { id: w.deploymentPermissions.dp3.id })).deploymentPermission).toEqual({
      role: 'Maintainer',
      env: idOf(w.envs.empty),
      user: idOf(w.users.u1),
      bot: null,
      kind: idOf(w.kinds.k2),
    });
  });

  test('bots and tokens', async () => {
    const BOT = `query($id: ID!) { bot(id: $id) { envPermissions { id } deploymentPermissions { id } } }`;
    expect((await query(BOT, { id: w.bots.b1.id })).bot).toEqual({ envPermissions: [idOf(w.envPermissions.ep2)], deploymentPermissions: [idOf(w.deploymentPermissions.dp2)] });
    expect((await query(BOT, { id: w.bots.b2.id })).bot).toEqual({ envPermissions: [], deploymentPermissions: [] });
    const BT = `query($id: ID!) { botToken(id: $id) { bot { id } createdByUser { id } } }`;
    expect((await query(BT, { id: w.botTokens.bt1.id })).botToken).toEqual({ bot: idOf(w.bots.b1), createdByUser: idOf(w.users.u1) });
    expect((await query(BT, { id: w.botTokens.bt2.id })).botToken).toEqual({ bot: idOf(w.bots.b1), createdByUser: null });
    expect((await query(`query($id: ID!) { userToken(id: $id) { user { id } } }`, { id: w.userToken.id })).userToken).toEqual({ user: idOf(w.users.u1) });
  });
});

describe('kinds, registries and charts', () => {
  test('deployment kind: registries and deployments', async () => {
    const KIND = `query($id: ID!) { deploymentKind(id: $id) { helmRegistries { id } deployments { id } } }`;
    const { d1, d2, d3, d4 } = w.deployments;
    // deployments oldest first: d1, d3, d2, d4 were created in that order
    expect((await query(KIND, { id: w.kinds.k1.id })).deploymentKind).toEqual({
      helmRegistries: [idOf(w.registries.r1), idOf(w.registries.r2)],
      deployments: [idOf(d1), idOf(d3), idOf(d2), idOf(d4)],
    });
    expect((await query(KIND, { id: w.kinds.k2.id })).deploymentKind).toEqual({ helmRegistries: [], deployments: [] });
  });

  test('registry: kind and charts newest first, charts(first:) per registry', async () => {
    const c = w.charts;
    const data = await query(`query($filter: HelmRegistryFilter) { helmRegistries(filter: $filter) { edges { node {
      id kind { id } all: charts { ...chart } two: charts(first: 2) { ...chart } none: charts(first: 0) { id }
    } } } }
    fragment chart on HelmChart { id imageTag imageDigest createdAt available valuesUi features parsedVersion parsedBranch tagFormat { id } }`, {
      filter: { kindId: w.kinds.k1.id },
    });
    const [r1, r2] = data.helmRegistries.edges.map((e: any) => e.node);
    expect(r1.id).toBe(w.registries.r1.id);
    expect(r1.kind).toEqual(idOf(w.kinds.k1));
    expect(ids(r1.all)).toEqual([c.ch4.id, c.ch3.id, c.ch2.id, c.ch1.id]);
    expect(r1.all[0]).toMatchObject({
      imageTag: 'rel-4',
      valuesUi: { inputs: [{ id: 'replica_count', type: 'number', initialValue: 1 }] },
      features: { cardinality: 'Many', standard_ingress: true },
      parsedVersion: '4',
      tagFormat: idOf(w.tagFormat),
    });
    expect(r1.two).toEqual(r1.all.slice(0, 2));
    expect(r1.none).toEqual([]);
    expect(r2.id).toBe(w.registries.r2.id);
    expect(ids(r2.all)).toEqual([c.ch5.id]);
    expect(r2.two).toEqual(r2.all);
  });

  test('chart: registry, kind through the registry and tag format', async () => {
    const CHART = `query($id: ID!) { helmChart(id: $id) { helmRegistry { id } kind { id } tagFormat { id pattern } } }`;
    expect((await query(CHART, { id: w.charts.ch2.id })).helmChart).toEqual({
      helmRegistry: idOf(w.registries.r1),
      kind: idOf(w.kinds.k1),
      tagFormat: { id: w.tagFormat.id, pattern: '^rel-(?<version>.+)$' },
    });
    expect((await query(CHART, { id: w.charts.ch5.id })).helmChart).toEqual({ helmRegistry: idOf(w.registries.r2), kind: idOf(w.kinds.k1), tagFormat: null });
  });
});

describe('deployment resources', () => {
  test('props leave out the inputs the type marks sensitive', async () => {
    const RES = `query($id: ID!) { deploymentResource(id: $id) { name props type { id } deployment { id } } }`;
    expect((await query(RES, { id: w.resources.res1.id })).deploymentResource).toEqual({
      name: 'db1',
      props: { host: 'db.local', port: 5432 },
      type: idOf(w.resourceTypes.sensitive),
      deployment: idOf(w.deployments.d1),
    });
    // another type: nothing marked sensitive, so a "password" prop is an ordinary one
    expect((await query(RES, { id: w.resources.res2.id })).deploymentResource).toEqual({
      name: 'cache1',
      props: { password: 'not-marked', size: 3 },
      type: idOf(w.resourceTypes.plain),
      deployment: idOf(w.deployments.d1),
    });
    expect((await query(RES, { id: w.resources.res3.id })).deploymentResource).toEqual({
      name: 'db2',
      props: {},
      type: idOf(w.resourceTypes.sensitive),
      deployment: null,
    });
  });

  test('props are stripped wherever a resource is reached: lists, deployment.resources, type.resources', async () => {
    const list = await query(`query($filter: DeploymentResourceFilter) { deploymentResources(filter: $filter) { edges { node { id props } } } }`, {
      filter: { deploymentId: w.deployments.d1.id },
    });
    expect(list.deploymentResources.edges.map((e: any) => e.node)).toEqual([
      { id: w.resources.res1.id, props: { host: 'db.local', port: 5432 } },
      { id: w.resources.res2.id, props: { password: 'not-marked', size: 3 } },
    ]);
    const viaDeployment = await query(`query($id: ID!) { deployment(id: $id) { resources { id props } } }`, { id: w.deployments.d1.id });
    expect(viaDeployment.deployment.resources).toEqual(list.deploymentResources.edges.map((e: any) => e.node));
    const viaType = await query(`query($id: ID!) { deploymentResourceType(id: $id) { env { id } deploymentKind { id } resources { id props } } }`, {
      id: w.resourceTypes.sensitive.id,
    });
    expect(viaType.deploymentResourceType).toEqual({
      env: idOf(w.envs.prod),
      deploymentKind: idOf(w.kinds.k1),
      resources: [
        { id: w.resources.res1.id, props: { host: 'db.local', port: 5432 } },
        { id: w.resources.res3.id, props: {} },
      ],
    });
    const global = await query(`query($id: ID!) { deploymentResourceType(id: $id) { env { id } resources { id } } }`, { id: w.resourceTypes.plain.id });
    expect(global.deploymentResourceType).toEqual({ env: null, resources: [idOf(w.resources.res2)] });
  });

  test('the stored props keep the sensitive values (only the API hides them)', async () => {
    const [row] = await server.sql<{ props: unknown }>('select props from deployment_resources where id = ?', [w.resources.res1.id]);
    const props = typeof row.props === 'string' ? JSON.parse(row.props) : row.props;
    expect(props).toEqual({ password: 's3cret', host: 'db.local', port: 5432 });
  });
});
