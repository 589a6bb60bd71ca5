import {
  Bot, BotToken, Deployment, DeploymentKind, DeploymentPermission, DeploymentResource, DeploymentResourceType, DeploymentTask, Env,
  EnvUserPermission, Group, HelmChart, HelmRegistry, HelmTagFormat, K8sCluster, K8sNamespace, K8sResource, K8sServiceAccount, Secret,
  User, UserToken, WebApp,
} from '../src/entities/index.js';
import {
  DeploymentResourceSyncStatus, DeploymentStatus, DeploymentTaskStatus, EnvUserRole, HelmRegistryProvider, UserApprovalState,
  UserDeploymentRole,
} from '../src/entities/enums.js';
import { inCreationOrder, persist } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

/** Rows get distinct, increasing createdAt in the order they are declared, so list order is predictable. */
const make = inCreationOrder();

const HOUR = 3_600_000;
const UNKNOWN_ID = '5f0c1d9e-7a7b-4c1e-9d3a-000000000000';

/** Every list query, its filter input type and its by-id query. */
const LISTS = {
  users: { filter: 'UserFilter', single: 'user' },
  groups: { filter: 'GroupFilter', single: 'group' },
  webApps: { filter: 'WebAppFilter', single: 'webApp' },
  envs: { filter: 'EnvFilter', single: 'env' },
  envUserPermissions: { filter: 'EnvUserPermissionFilter', single: 'envUserPermission' },
  k8sClusters: { filter: 'K8sClusterFilter', single: 'k8sCluster' },
  k8sNamespaces: { filter: 'K8sNamespaceFilter', single: 'k8sNamespace' },
  k8sServiceAccounts: { filter: 'K8sServiceAccountFilter', single: 'k8sServiceAccount' },
  deploymentKinds: { filter: 'DeploymentKindFilter', single: 'deploymentKind' },
  helmRegistries: { filter: 'HelmRegistryFilter', single: 'helmRegistry' },
  helmTagFormats: { filter: 'HelmTagFormatFilter', single: 'helmTagFormat' },
  helmCharts: { filter: 'HelmChartFilter', single: 'helmChart' },
  deployments: { filter: 'DeploymentFilter', single: 'deployment' },
  deploymentPermissions: { filter: 'DeploymentPermissionFilter', single: 'deploymentPermission' },
  deploymentTasks: { filter: 'DeploymentTaskFilter', single: 'deploymentTask' },
  deploymentResourceTypes: { filter: 'DeploymentResourceTypeFilter', single: 'deploymentResourceType' },
  deploymentResources: { filter: 'DeploymentResourceFilter', single: 'deploymentResource' },
  k8sResources: { filter: 'K8sResourceFilter', single: 'k8sResource' },
  secrets: { filter: 'SecretFilter', single: 'secret' },
  userTokens: { filter: 'UserTokenFilter', single: 'userToken' },
  bots: { filter: 'BotFilter', single: 'bot' },
  botTokens: { filter: 'BotTokenFilter', single: 'botToken' },
} as const;
type ListName = keyof typeof LISTS;

let auth: Record<string, string>;

/** The ids a list returns for a filter, in list order; checks totalCount agrees. */
async function list(name: ListName, filter: object): Promise<string[]> {
  const res = await server.gql<any, any>(
    `query($filter: ${LISTS[name].filter}, $first: Int) { ${name}(filter: $filter, first: $first) { totalCount edges { node { id } } } }`,
    { filter, first: 500 },
    auth,
  );
  expect(res.errors).toBeUndefined();
  const ids = res.data[name].edges.map((e: any) => e.node.id as string);
  expect(res.data[name].totalCount).toBe(ids.length);
  return ids;
}

/** The rows a filter returns, by name, among the named candidates (other rows in the database are ignored). */
async function among<R extends Record<string, { id: string }>>(name: ListName, filter: object, rows: R): Promise<(keyof R)[]> {
  const byId = new Map(Object.entries(rows).map(([key, row]) => [row.id, key]));
  return (await list(name, filter)).filter((id) => byId.has(id)).map((id) => byId.get(id) as keyof R);
}

async function expectBadInput(query: string, variables: object, field: string): Promise<void> {
  const res = await server.gql<any, any>(query, variables, auth);
  expect(res.errors).toHaveLength(1);
  expect(res.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field });
}

// ---- the world every filter test reads ----
const w = {} as {
  users: Record<'alice' | 'bob' | 'carol', User>;
  bots: Record<'deployBot' | 'auditBot', Bot>;
  groups: Record<'ops' | 'devs' | 'pct', Group>;
  webApps: Record<'grafana' | 'kibana' | 'pct', WebApp>;
  envs: Record<'prod' | 'dev' | 'abc', Env>;
  clusters: Record<'prodEu' | 'prodUs' | 'devEu' | 'stray', K8sCluster>;
  namespaces: Record<'teamA' | 'teamB' | 'devTeamA', K8sNamespace>;
  serviceAccounts: Record<'deployer' | 'reader' | 'devDeployer', K8sServiceAccount>;
  kinds: Record<'web' | 'job' | 'pct', DeploymentKind>;
  registries: Record<'web' | 'jobs' | 'webNext', HelmRegistry>;
  tagFormats: Record<'semver' | 'branch', HelmTagFormat>;
  charts: Record<'main1' | 'main2' | 'main3' | 'feat1' | 'feat2' | 'job1' | 'job2' | 'next1', HelmChart>;
  deployments: Record<'frontend' | 'backend' | 'nightly' | 'pct', Deployment>;
  tasks: Record<'frontendDone' | 'frontendFuture' | 'backendStarted' | 'nightlyFailed' | 'nightlyCanceled' | 'pctPending', DeploymentTask>;
  envPermissions: Record<'aliceProd' | 'botProd' | 'aliceDev', EnvUserPermission>;
  deploymentPermissions: Record<'aliceProdWeb' | 'bobProdJob' | 'botDevWeb', DeploymentPermission>;
  resourceTypes: Record<'prodDb' | 'globalDb' | 'devQueue', DeploymentResourceType>;
  resources: Record<'db1' | 'db2' | 'queue' | 'global', DeploymentResource>;
  k8sResources: Record<'frontDeploy' | 'frontService' | 'cron' | 'pct', K8sResource>;
  secrets: Record<'prodDbPassword' | 'prodDbUser' | 'devDbPassword', Secret>;
  userTokens: Record<'alice1' | 'alice2' | 'bob1', UserToken>;
  botTokens: Record<'deploy1' | 'audit1' | 'deploy2', BotToken>;
  /** between the tasks created before and after it */
  taskCutoff: Date;
};

beforeAll(async () => {
  auth = await server.adminAuth();

  w.users = {
    alice: make(User, { username: 'fu-alice', email: 'Alice@Example.org', displayName: 'Alice Liddell', approvalState: UserApprovalState.NEW }),
    bob: make(User, { username: 'fu-bob', email: 'bob@other.net', displayName: 'Bob Alison', isActive: false, isAdmin: true, approvalState: UserApprovalState.ACCESS_APPROVED }),
    carol: make(User, { username: 'fu-carol', email: 'carol@example.org', displayName: 'Carol a%b_c', approvalState: UserApprovalState.ACCESS_REQUESTED }),
  };
  w.bots = { deployBot: make(Bot, { displayName: 'Deploy Bot' }), auditBot: make(Bot, { displayName: 'audit bot 100%' }) };
  w.groups = {
    ops: make(Group, { name: 'Ops Admins', canAdmin: true }),
    devs: make(Group, { name: 'Developers' }),
    pct: make(Group, { name: 'x%y_z' }),
  };
  w.webApps = {
    grafana: make(WebApp, { name: 'Grafana', linkShow: true }),
    kibana: make(WebApp, { name: 'Kibana' }),
    pct: make(WebApp, { name: '50% off', linkShow: true }),
  };
  w.envs = {
    prod: make(Env, { name: 'Prod', autoAddNewUsers: true }),
    dev: make(Env, { name: 'Dev' }),
    abc: make(Env, { name: 'abc' }),
  };
  const { prod, dev } = w.envs;
  w.clusters = {
    prodEu: make(K8sCluster, { env: prod, providerId: 'f:prod-eu', name: 'prod-eu', ignore: false, isOk: true }),
    prodUs: make(K8sCluster, { env: prod, providerId: 'f:prod-us', name: 'prod-us', ignore: true, isOk: false }),
    devEu: make(K8sCluster, { env: dev, providerId: 'f:dev-eu', name: 'dev-eu', ignore: false, isOk: false }),
    stray: make(K8sCluster, { env: null, providerId: 'f:stray', name: 'a%b', ignore: true, isOk: true }),
  };
  const { prodEu, prodUs, devEu, stray } = w.clusters;
  w.namespaces = {
    teamA: make(K8sNamespace, { cluster: prodEu, name: 'Team-A', visible: true }),
    teamB: make(K8sNamespace, { cluster: prodEu, name: 'team_b', visible: false }),
    devTeamA: make(K8sNamespace, { cluster: devEu, name: 'team-a' }),
  };
  w.serviceAccounts = {
    deployer: make(K8sServiceAccount, { namespace: w.namespaces.teamA, name: 'Deployer' }),
    reader: make(K8sServiceAccount, { namespace: w.namespaces.teamA, name: 'reader' }),
    devDeployer: make(K8sServiceAccount, { namespace: w.namespaces.devTeamA, name: 'deployer' }),
  };
  w.kinds = { web: make(DeploymentKind, { name: 'FWeb' }), job: make(DeploymentKind, { name: 'FJob' }), pct: make(DeploymentKind, { name: 'F%' }) };
  w.registries = {
    web: make(HelmRegistry, { domainName: 'reg.example.com', repoName: 'web', kind: w.kinds.web, provider: HelmRegistryProvider.Oci }),
    jobs: make(HelmRegistry, { domainName: 'ecr.aws', repoName: 'jobs', kind: w.kinds.job, provider: HelmRegistryProvider.Ecr }),
    webNext: make(HelmRegistry, { domainName: 'reg.example.com', repoName: 'web-next', kind: w.kinds.web, provider: HelmRegistryProvider.Oci }),
  };
  w.tagFormats = {
    semver: make(HelmTagFormat, { pattern: '^v(?<version>.+)$' }),
    branch: make(HelmTagFormat, { pattern: '^(?<branch>[a-z]+)-(?<commit>[0-9a-f]+)$' }),
  };
  const chart = (helmRegistry: HelmRegistry, parsedBranch: string | null, tag: string) =>
    make(HelmChart, { helmRegistry, parsedBranch, imageTag: tag, imageDigest: `sha256:${tag}` });
  w.charts = {
    main1: chart(w.registries.web, 'main', 'main-1'),
    feat1: chart(w.registries.web, 'feature', 'feature-1'),
    job1: chart(w.registries.jobs, null, '1.0.0'),
    next1: chart(w.registries.webNext, 'main', 'main-1'),
    main2: chart(w.registries.web, 'main', 'main-2'),
    feat2: chart(w.registries.web, 'feature', 'feature-2'),
    job2: chart(w.registries.jobs, null, '1.0.1'),
    main3: chart(w.registries.web, 'main', 'main-3'),
  };
  w.deployments = {
    frontend: make(Deployment, { name: 'frontend', cluster: prodEu, kind: w.kinds.web, helmChart: w.charts.main1, status: DeploymentStatus.Running }),
    backend: make(Deployment, { name: 'Backend-API', cluster: prodUs, kind: w.kinds.web, helmChart: w.charts.feat2, enabled: false, status: DeploymentStatus.Error }),
    nightly: make(Deployment, { name: 'nightly', cluster: devEu, kind: w.kinds.job, helmChart: w.charts.job1, status: DeploymentStatus.Running }),
    pct: make(Deployment, { name: 'a%b', cluster: stray, kind: w.kinds.job, helmChart: w.charts.job1 }),
  };
  const now = Date.now();
  const task = (deployment: Deployment, status: DeploymentTaskStatus, executeAt: number) =>
    make(DeploymentTask, { deployment, cluster: deployment.cluster, status, executeAt: new Date(executeAt), operation: { Reinstall: { reason: 'test' } } });
  const { frontend, backend, nightly } = w.deployments;
  w.tasks = {
    frontendDone: task(frontend, DeploymentTaskStatus.Done, now - 5 * HOUR),
    frontendFuture: task(frontend, DeploymentTaskStatus.Pending, now + HOUR),
    backendStarted: task(backend, DeploymentTaskStatus.Started, now - 4 * HOUR),
    nightlyFailed: task(nightly, DeploymentTaskStatus.Failed, now - 3 * HOUR),
    nightlyCanceled: task(nightly, DeploymentTaskStatus.Canceled, now - 2 * HOUR),
    pctPending: task(w.deployments.pct, DeploymentTaskStatus.Pending, now - HOUR),
  };
  // the last two tasks were created at or after this instant
  w.taskCutoff = w.tasks.nightlyCanceled.createdAt;
  const { alice, bob } = w.users;
  w.envPermissions = {
    aliceProd: make(EnvUserPermission, { env: prod, user: alice, role: EnvUserRole.Admin }),
    botProd: make(EnvUserPermission, { env: prod, bot: w.bots.deployBot, role: EnvUserRole.User }),
    aliceDev: make(EnvUserPermission, { env: dev, user: alice, role: EnvUserRole.User }),
  };
  w.deploymentPermissions = {
    aliceProdWeb: make(DeploymentPermission, { env: prod, user: alice, kind: w.kinds.web, role: UserDeploymentRole.Owner }),
    bobProdJob: make(DeploymentPermission, { env: prod, user: bob, kind: w.kinds.job, role: UserDeploymentRole.Maintainer }),
    botDevWeb: make(DeploymentPermission, { env: dev, bot: w.bots.deployBot, kind: w.kinds.web, role: UserDeploymentRole.Maintainer }),
  };
  w.resourceTypes = {
    prodDb: make(DeploymentResourceType, { env: prod, deploymentKind: w.kinds.web, key: 'postgres', spec: {} }),
    globalDb: make(DeploymentResourceType, { env: null, deploymentKind: w.kinds.web, key: 'Postgres', spec: {} }),
    devQueue: make(DeploymentResourceType, { env: dev, deploymentKind: w.kinds.job, key: 'queue', spec: {} }),
  };
  w.resources = {
    db1: make(DeploymentResource, { type: w.resourceTypes.prodDb, deployment: frontend, name: 'db1', syncStatus: DeploymentResourceSyncStatus.Ready }),
    db2: make(DeploymentResource, { type: w.resourceTypes.prodDb, deployment: null, name: 'db2', exists: false, syncStatus: DeploymentResourceSyncStatus.Deleting }),
    queue: make(DeploymentResource, { type: w.resourceTypes.devQueue, deployment: nightly, name: 'q1', syncStatus: DeploymentResourceSyncStatus.Error }),
    global: make(DeploymentResource, { type: w.resourceTypes.globalDb, deployment: frontend, name: 'g1', syncStatus: DeploymentResourceSyncStatus.Ready }),
  };
  w.k8sResources = {
    frontDeploy: make(K8sResource, { cluster: prodEu, deployment: frontend, kind: 'Deployment', apiVersion: 'apps/v1', name: 'frontend' }),
    frontService: make(K8sResource, { cluster: prodEu, deployment: frontend, kind: 'Service', apiVersion: 'v1', name: 'Frontend' }),
    cron: make(K8sResource, { cluster: devEu, deployment: nightly, kind: 'CronJob', apiVersion: 'batch/v1', name: 'nightly' }),
    pct: make(K8sResource, { cluster: prodEu, deployment: null, kind: 'Deployment', apiVersion: 'apps/v1', name: 'a%b' }),
  };
  w.secrets = {
    prodDbPassword: make(Secret, { env: prod, collection: 'db', name: 'Password', contentsEncrypted: 'x' }),
    prodDbUser: make(Secret, { env: prod, collection: 'DB', name: 'user', contentsEncrypted: 'x' }),
    devDbPassword: make(Secret, { env: dev, collection: 'db', name: 'password', contentsEncrypted: 'x' }),
  };
  w.userTokens = {
    alice1: make(UserToken, { user: alice, name: 'ci', secretHash: 'x' }),
    alice2: make(UserToken, { user: alice, name: 'laptop', secretHash: 'x' }),
    bob1: make(UserToken, { user: bob, secretHash: 'x' }),
  };
  w.botTokens = {
    deploy1: make(BotToken, { bot: w.bots.deployBot, createdByUser: alice, secretHash: 'x' }),
    audit1: make(BotToken, { bot: w.bots.auditBot, createdByUser: null, secretHash: 'x' }),
    deploy2: make(BotToken, { bot: w.bots.deployBot, createdByUser: bob, secretHash: 'x' }),
  };
  const { taskCutoff: _cutoff, ...groups } = w;
  await persist(server, ...Object.values(groups).flatMap((g) => Object.values(g as Record<string, object>)));
});

describe('user filters', () => {
  const rows = () => w.users;
  test('displayName and email are case-insensitive substrings', async () => {
    expect(await among('users', { displayName: 'ALI' }, rows())).toEqual(['alice', 'bob']);
    expect(await among('users', { displayName: 'liddell' }, rows())).toEqual(['alice']);
    expect(await among('users', { email: 'EXAMPLE.ORG' }, rows())).toEqual(['alice', 'carol']);
    expect(await among('users', { email: 'nobody' }, rows())).toEqual([]);
  });

  test('username is case-insensitive but exact', async () => {
    expect(await among('users', { username: 'FU-ALICE' }, rows())).toEqual(['alice']);
    expect(await among('users', { username: 'fu-ali' }, rows())).toEqual([]);
    expect(await among('users', { username: 'alice' }, rows())).toEqual([]);
  });

  test('LIKE wildcards match literally', async () => {
    expect(await among('users', { displayName: 'a%' }, rows())).toEqual(['carol']);
    expect(await among('users', { displayName: 'b_c' }, rows())).toEqual(['carol']);
    expect(await among('users', { displayName: '%' }, rows())).toEqual(['carol']);
    expect(await among('users', { displayName: '_' }, rows())).toEqual(['carol']);
    expect(await among('users', { username: 'fu_bob' }, rows())).toEqual([]);
    expect(await among('users', { username: 'fu-%' }, rows())).toEqual([]);
    expect(await among('users', { email: '\\' }, rows())).toEqual([]);
  });

  test('booleans and the approval state narrow; fields combine with AND', async () => {
    expect(await among('users', { isActive: false }, rows())).toEqual(['bob']);
    expect(await among('users', { isActive: true }, rows())).toEqual(['alice', 'carol']);
    expect(await among('users', { isAdmin: true }, rows())).toEqual(['bob']);
    expect(await among('users', { isAdmin: false }, rows())).toEqual(['alice', 'carol']);
    expect(await among('users', { approvalState: 'ACCESS_REQUESTED' }, rows())).toEqual(['carol']);
    expect(await among('users', { approvalState: 'NEW' }, rows())).toEqual(['alice']);
    expect(await among('users', { email: 'example.org', isActive: true, approvalState: 'NEW' }, rows())).toEqual(['alice']);
    expect(await among('users', { displayName: 'ali', isAdmin: false }, rows())).toEqual(['alice']);
    // the bootstrap admin is an admin too
    const admins = await list('users', { isAdmin: true });
    expect(admins).toHaveLength(2);
  });
});

describe('group, web app, env and bot filters', () => {
  test('groups: name is a case-insensitive substring, canAdmin a boolean', async () => {
    expect(await among('groups', { name: 'ADMIN' }, w.groups)).toEqual(['ops']);
    expect(await among('groups', { name: 'e' }, w.groups)).toEqual(['devs']);
    expect(await among('groups', { name: 'x%' }, w.groups)).toEqual(['pct']);
    expect(await among('groups', { name: '_' }, w.groups)).toEqual(['pct']);
    expect(await among('groups', { canAdmin: true }, w.groups)).toEqual(['ops']);
    expect(await among('groups', { canAdmin: false }, w.groups)).toEqual(['devs', 'pct']);
    expect(await among('groups', { name: 'o', canAdmin: false }, w.groups)).toEqual(['devs']);
  });

  test('webApps: name is a case-insensitive substring, linkShow a boolean', async () => {
    expect(await among('webApps', { name: 'ANA' }, w.webApps)).toEqual(['grafana', 'kibana']);
    expect(await among('webApps', { name: '0%' }, w.webApps)).toEqual(['pct']);
    expect(await among('webApps', { name: 'a%' }, w.webApps)).toEqual([]);
    expect(await among('webApps', { linkShow: true }, w.webApps)).toEqual(['grafana', 'pct']);
    expect(await among('webApps', { linkShow: false }, w.webApps)).toEqual(['kibana']);
  });

  test('envs: name is case-insensitive but exact, autoAddNewUsers a boolean', async () => {
    expect(await list('envs', { name: 'PROD' })).toEqual([w.envs.prod.id]);
    expect(await list('envs', { name: 'pro' })).toEqual([]);
    expect(await list('envs', { name: 'ABC' })).toEqual([w.envs.abc.id]);
    expect(await list('envs', { name: 'a%' })).toEqual([]);
    expect(await list('envs', { name: 'a_c' })).toEqual([]);
    expect(await list('envs', { autoAddNewUsers: true })).toEqual([w.envs.prod.id]);
    expect(await among('envs', { autoAddNewUsers: false }, w.envs)).toEqual(['dev', 'abc']);
  });

  test('bots: displayName is a case-insensitive substring', async () => {
    expect(await list('bots', { displayName: 'BOT' })).toEqual([w.bots.deployBot.id, w.bots.auditBot.id]);
    expect(await list('bots', { displayName: 'deploy' })).toEqual([w.bots.deployBot.id]);
    expect(await list('bots', { displayName: '0%' })).toEqual([w.bots.auditBot.id]);
    expect(await list('bots', { displayName: 'y%b' })).toEqual([]);
  });
});

describe('permission filters', () => {
  test('envUserPermissions by env, user, bot and role', async () => {
    const rows = w.envPermissions;
    expect(await list('envUserPermissions', { envId: w.envs.prod.id })).toEqual([rows.aliceProd.id, rows.botProd.id]);
    expect(await list('envUserPermissions', { userId: w.users.alice.id })).toEqual([rows.aliceProd.id, rows.aliceDev.id]);
    expect(await list('envUserPermissions', { botId: w.bots.deployBot.id })).toEqual([rows.botProd.id]);
    expect(await list('envUserPermissions', { role: 'User' })).toEqual([rows.botProd.id, rows.aliceDev.id]);
    expect(await list('envUserPermissions', { role: 'Admin', userId: w.users.alice.id })).toEqual([rows.aliceProd.id]);
    expect(await list('envUserPermissions', { envId: w.envs.abc.id })).toEqual([]);
    expect(await list('envUserPermissions', { userId: UNKNOWN_ID })).toEqual([]);
  });

  test('deploymentPermissions by env, user, bot, kind and role', async () => {
    const rows = w.deploymentPermissions;
    expect(await list('deploymentPermissions', { envId: w.envs.prod.id })).toEqual([rows.aliceProdWeb.id, rows.bobProdJob.id]);
    expect(await list('deploymentPermissions', { userId: w.users.bob.id })).toEqual([rows.bobProdJob.id]);
    expect(await list('deploymentPermissions', { botId: w.bots.deployBot.id })).toEqual([rows.botDevWeb.id]);
    expect(await list('deploymentPermissions', { kindId: w.kinds.web.id })).toEqual([rows.aliceProdWeb.id, rows.botDevWeb.id]);
    expect(await list('deploymentPermissions', { role: 'Maintainer' })).toEqual([rows.bobProdJob.id, rows.botDevWeb.id]);
    expect(await list('deploymentPermissions', { role: 'Owner', envId: w.envs.dev.id })).toEqual([]);
    // ids are matched whatever their case
    expect(await list('deploymentPermissions', { kindId: w.kinds.job.id.toUpperCase() })).toEqual([rows.bobProdJob.id]);
  });
});

describe('cluster, namespace and service account filters', () => {
  test('k8sClusters by env, case-insensitive exact name, ignore and isOk', async () => {
    const c = w.clusters;
    expect(await list('k8sClusters', { envId: w.envs.prod.id })).toEqual([c.prodEu.id, c.prodUs.id]);
    expect(await list('k8sClusters', { name: 'PROD-EU' })).toEqual([c.prodEu.id]);
    expect(await list('k8sClusters', { name: 'prod' })).toEqual([]);
    expect(await list('k8sClusters', { name: 'A%B' })).toEqual([c.stray.id]);
    expect(await list('k8sClusters', { name: 'a%' })).toEqual([]);
    expect(await list('k8sClusters', { ignore: true })).toEqual([c.prodUs.id, c.stray.id]);
    expect(await list('k8sClusters', { isOk: true })).toEqual([c.prodEu.id, c.stray.id]);
    expect(await list('k8sClusters', { isOk: false, ignore: false })).toEqual([c.devEu.id]);
    expect(await list('k8sClusters', { envId: w.envs.prod.id, isOk: false })).toEqual([c.prodUs.id]);
  });

  test('k8sNamespaces by cluster, case-insensitive exact name and visible', async () => {
    const n = w.namespaces;
    expect(await list('k8sNamespaces', { clusterId: w.clusters.prodEu.id })).toEqual([n.teamA.id, n.teamB.id]);
    expect(await list('k8sNamespaces', { name: 'TEAM-A' })).toEqual([n.teamA.id, n.devTeamA.id]);
    expect(await list('k8sNamespaces', { name: 'team' })).toEqual([]);
    expect(await list('k8sNamespaces', { name: 'team-b' })).toEqual([]);
    expect(await list('k8sNamespaces', { name: 'team_b' })).toEqual([n.teamB.id]);
    expect(await list('k8sNamespaces', { name: 'team_a' })).toEqual([]);
    expect(await list('k8sNamespaces', { visible: false })).toEqual([n.teamB.id]);
    expect(await list('k8sNamespaces', { visible: true, clusterId: w.clusters.devEu.id })).toEqual([n.devTeamA.id]);
  });

  test('k8sServiceAccounts by namespace and case-insensitive exact name', async () => {
    const s = w.serviceAccounts;
    expect(await list('k8sServiceAccounts', { namespaceId: w.namespaces.teamA.id })).toEqual([s.deployer.id, s.reader.id]);
    expect(await list('k8sServiceAccounts', { name: 'DEPLOYER' })).toEqual([s.deployer.id, s.devDeployer.id]);
    expect(await list('k8sServiceAccounts', { name: 'deploy' })).toEqual([]);
    expect(await list('k8sServiceAccounts', { name: 'deployer', namespaceId: w.namespaces.devTeamA.id })).toEqual([s.devDeployer.id]);
    expect(await list('k8sServiceAccounts', { name: '%' })).toEqual([]);
  });
});

describe('kind, registry, tag format and chart filters', () => {
  test('deploymentKinds: name is exact and case-sensitive', async () => {
    expect(await list('deploymentKinds', { name: 'FWeb' })).toEqual([w.kinds.web.id]);
    expect(await list('deploymentKinds', { name: 'fweb' })).toEqual([]);
    expect(await list('deploymentKinds', { name: 'FW' })).toEqual([]);
    expect(await list('deploymentKinds', { name: 'F%' })).toEqual([w.kinds.pct.id]);
  });

  test('helmRegistries by exact repo and domain names, kind and provider', async () => {
    const r = w.registries;
    expect(await list('helmRegistries', { repoName: 'web' })).toEqual([r.web.id]);
    expect(await list('helmRegistries', { repoName: 'WEB' })).toEqual([]);
    expect(await list('helmRegistries', { domainName: 'reg.example.com' })).toEqual([r.web.id, r.webNext.id]);
    expect(await list('helmRegistries', { domainName: 'reg.example' })).toEqual([]);
    expect(await list('helmRegistries', { kindId: w.kinds.web.id })).toEqual([r.web.id, r.webNext.id]);
    expect(await list('helmRegistries', { provider: 'Ecr' })).toEqual([r.jobs.id]);
    expect(await list('helmRegistries', { provider: 'Oci', repoName: 'web-next' })).toEqual([r.webNext.id]);
  });

  test('helmTagFormats: pattern is exact; the list is newest first', async () => {
    expect(await list('helmTagFormats', {})).toEqual([w.tagFormats.branch.id, w.tagFormats.semver.id]);
    expect(await list('helmTagFormats', { pattern: '^v(?<version>.+)$' })).toEqual([w.tagFormats.semver.id]);
    expect(await list('helmTagFormats', { pattern: '^v' })).toEqual([]);
  });

  test('helmCharts by registry, exact branch and kind; newest first', async () => {
    const c = w.charts;
    expect(await list('helmCharts', { helmRegistryId: w.registries.web.id })).toEqual([c.main3.id, c.feat2.id, c.main2.id, c.feat1.id, c.main1.id]);
    expect(await list('helmCharts', { parsedBranch: 'main' })).toEqual([c.main3.id, c.main2.id, c.next1.id, c.main1.id]);
    expect(await list('helmCharts', { parsedBranch: 'MAIN' })).toEqual([]);
    expect(await list('helmCharts', { parsedBranch: 'ma' })).toEqual([]);
    expect(await list('helmCharts', { kindId: w.kinds.job.id })).toEqual([c.job2.id, c.job1.id]);
    expect(await list('helmCharts', { kindId: w.kinds.web.id, parsedBranch: 'feature' })).toEqual([c.feat2.id, c.feat1.id]);
    expect(await list('helmCharts', { kindId: w.kinds.pct.id })).toEqual([]);
  });

  test('helmCharts inUse: charts deployed plus the newest chart of each (registry, branch) with one in use', async () => {
    const c = w.charts;
    // in use: main1, feat2 (newest feature), job1; newest of their branches: main3, job2 (branch null). next1 is the newest
    // main of another registry with nothing in use.
    expect(await list('helmCharts', { inUse: true })).toEqual([c.main3.id, c.job2.id, c.feat2.id, c.job1.id, c.main1.id]);
    expect(await list('helmCharts', { inUse: false })).toEqual([c.main2.id, c.next1.id, c.feat1.id]);
    expect(await list('helmCharts', { inUse: true, helmRegistryId: w.registries.web.id })).toEqual([c.main3.id, c.feat2.id, c.main1.id]);
    expect(await list('helmCharts', { inUse: false, parsedBranch: 'main' })).toEqual([c.main2.id, c.next1.id]);
  });
});

describe('deployment and task filters', () => {
  test('deployments: name is a case-insensitive substring with literal wildcards', async () => {
    const d = w.deployments;
    expect(await list('deployments', { name: 'END' })).toEqual([d.frontend.id, d.backend.id]);
    expect(await list('deployments', { name: 'a%' })).toEqual([d.pct.id]);
    expect(await list('deployments', { name: '%' })).toEqual([d.pct.id]);
    expect(await list('deployments', { name: 'nightly' })).toEqual([d.nightly.id]);
  });

  test('deployments by kind, cluster, enabled and status', async () => {
    const d = w.deployments;
    expect(await list('deployments', { kindId: w.kinds.job.id })).toEqual([d.nightly.id, d.pct.id]);
    expect(await list('deployments', { clusterId: w.clusters.prodUs.id })).toEqual([d.backend.id]);
    expect(await list('deployments', { enabled: false })).toEqual([d.backend.id]);
    expect(await list('deployments', { enabled: true })).toEqual([d.frontend.id, d.nightly.id, d.pct.id]);
    expect(await list('deployments', { status: 'Running' })).toEqual([d.frontend.id, d.nightly.id]);
    expect(await list('deployments', { status: 'Running', kindId: w.kinds.web.id })).toEqual([d.frontend.id]);
    expect(await list('deployments', { status: 'Uninstalled' })).toEqual([]);
  });

  test("deployments by envId go through the cluster's env", async () => {
    const d = w.deployments;
    expect(await list('deployments', { envId: w.envs.prod.id })).toEqual([d.frontend.id, d.backend.id]);
    expect(await list('deployments', { envId: w.envs.dev.id })).toEqual([d.nightly.id]);
    expect(await list('deployments', { envId: w.envs.abc.id })).toEqual([]);
    expect(await list('deployments', { envId: w.envs.prod.id, clusterId: w.clusters.prodEu.id })).toEqual([d.frontend.id]);
    expect(await list('deployments', { envId: w.envs.dev.id, clusterId: w.clusters.prodEu.id })).toEqual([]);
    expect(await list('deployments', { envId: w.envs.prod.id, enabled: true })).toEqual([d.frontend.id]);
  });

  test('deploymentTasks by cluster, deployment, env (through the cluster) and status; latest due first', async () => {
    const t = w.tasks;
    expect(await list('deploymentTasks', {})).toEqual([
      t.frontendFuture.id, t.pctPending.id, t.nightlyCanceled.id, t.nightlyFailed.id, t.backendStarted.id, t.frontendDone.id,
    ]);
    expect(await list('deploymentTasks', { clusterId: w.clusters.devEu.id })).toEqual([t.nightlyCanceled.id, t.nightlyFailed.id]);
    expect(await list('deploymentTasks', { deploymentId: w.deployments.frontend.id })).toEqual([t.frontendFuture.id, t.frontendDone.id]);
    expect(await list('deploymentTasks', { envId: w.envs.prod.id })).toEqual([t.frontendFuture.id, t.backendStarted.id, t.frontendDone.id]);
    expect(await list('deploymentTasks', { envId: w.envs.prod.id, clusterId: w.clusters.prodUs.id })).toEqual([t.backendStarted.id]);
    expect(await list('deploymentTasks', { envId: w.envs.dev.id, clusterId: w.clusters.prodUs.id })).toEqual([]);
    expect(await list('deploymentTasks', { status: 'Failed' })).toEqual([t.nightlyFailed.id]);
  });

  test('deploymentTasks activeOnly, showFuture and createdFrom', async () => {
    const t = w.tasks;
    expect(await list('deploymentTasks', { activeOnly: true })).toEqual([t.frontendFuture.id, t.pctPending.id, t.backendStarted.id]);
    expect(await list('deploymentTasks', { activeOnly: false })).toHaveLength(6);
    expect(await list('deploymentTasks', { activeOnly: true, status: 'Done' })).toEqual([]);
    expect(await list('deploymentTasks', { activeOnly: true, status: 'Started' })).toEqual([t.backendStarted.id]);
    expect(await list('deploymentTasks', { showFuture: false })).toEqual([
      t.pctPending.id, t.nightlyCanceled.id, t.nightlyFailed.id, t.backendStarted.id, t.frontendDone.id,
    ]);
    expect(await list('deploymentTasks', { showFuture: true })).toHaveLength(6);
    expect(await list('deploymentTasks', { showFuture: false, activeOnly: true })).toEqual([t.pctPending.id, t.backendStarted.id]);
    expect(await list('deploymentTasks', { createdFrom: w.taskCutoff.toISOString() })).toEqual([t.pctPending.id, t.nightlyCanceled.id]);
    const justAfter = new Date(w.taskCutoff.getTime() + 1).toISOString();
    expect(await list('deploymentTasks', { createdFrom: justAfter })).toEqual([t.pctPending.id]);
    expect(await list('deploymentTasks', { createdFrom: new Date(Date.now() + HOUR).toISOString() })).toEqual([]);
  });
});

describe('resource filters', () => {
  test('deploymentResourceTypes by env, kind and exact key', async () => {
    const r = w.resourceTypes;
    expect(await list('deploymentResourceTypes', { envId: w.envs.prod.id })).toEqual([r.prodDb.id]);
    expect(await list('deploymentResourceTypes', { deploymentKindId: w.kinds.web.id })).toEqual([r.prodDb.id, r.globalDb.id]);
    expect(await list('deploymentResourceTypes', { key: 'postgres' })).toEqual([r.prodDb.id]);
    expect(await list('deploymentResourceTypes', { key: 'Postgres' })).toEqual([r.globalDb.id]);
    expect(await list('deploymentResourceTypes', { key: 'post' })).toEqual([]);
    expect(await list('deploymentResourceTypes', { key: 'queue', deploymentKindId: w.kinds.web.id })).toEqual([]);
  });

  test("deploymentResources by type, deployment, the type's env, exists and sync status", async () => {
    const r = w.resources;
    expect(await list('deploymentResources', { typeId: w.resourceTypes.prodDb.id })).toEqual([r.db1.id, r.db2.id]);
    expect(await list('deploymentResources', { deploymentId: w.deployments.frontend.id })).toEqual([r.db1.id, r.global.id]);
    expect(await list('deploymentResources', { envId: w.envs.prod.id })).toEqual([r.db1.id, r.db2.id]);
    expect(await list('deploymentResources', { envId: w.envs.dev.id })).toEqual([r.queue.id]);
    expect(await list('deploymentResources', { envId: w.envs.prod.id, typeId: w.resourceTypes.prodDb.id })).toEqual([r.db1.id, r.db2.id]);
    expect(await list('deploymentResources', { envId: w.envs.prod.id, typeId: w.resourceTypes.devQueue.id })).toEqual([]);
    expect(await list('deploymentResources', { exists: false })).toEqual([r.db2.id]);
    expect(await list('deploymentResources', { exists: true })).toEqual([r.db1.id, r.queue.id, r.global.id]);
    expect(await list('deploymentResources', { syncStatus: 'Ready' })).toEqual([r.db1.id, r.global.id]);
    expect(await list('deploymentResources', { syncStatus: 'Ready', envId: w.envs.prod.id })).toEqual([r.db1.id]);
  });

  test('k8sResources by cluster, deployment and case-insensitive exact kind and name', async () => {
    const k = w.k8sResources;
    expect(await list('k8sResources', { clusterId: w.clusters.devEu.id })).toEqual([k.cron.id]);
    expect(await list('k8sResources', { deploymentId: w.deployments.frontend.id })).toEqual([k.frontDeploy.id, k.frontService.id]);
    expect(await list('k8sResources', { kind: 'deployment' })).toEqual([k.frontDeploy.id, k.pct.id]);
    expect(await list('k8sResources', { kind: 'deploy' })).toEqual([]);
    expect(await list('k8sResources', { name: 'FRONTEND' })).toEqual([k.frontDeploy.id, k.frontService.id]);
    expect(await list('k8sResources', { name: 'front' })).toEqual([]);
    expect(await list('k8sResources', { name: 'a%' })).toEqual([]);
    expect(await list('k8sResources', { name: 'A%B' })).toEqual([k.pct.id]);
    expect(await list('k8sResources', { kind: 'service', name: 'frontend' })).toEqual([k.frontService.id]);
  });

  test('secrets by env and case-insensitive exact collection and name', async () => {
    const s = w.secrets;
    expect(await list('secrets', { envId: w.envs.dev.id })).toEqual([s.devDbPassword.id]);
    expect(await list('secrets', { collection: 'Db' })).toEqual([s.prodDbPassword.id, s.prodDbUser.id, s.devDbPassword.id]);
    expect(await list('secrets', { collection: 'd' })).toEqual([]);
    expect(await list('secrets', { collection: 'd%' })).toEqual([]);
    expect(await list('secrets', { name: 'PASSWORD' })).toEqual([s.prodDbPassword.id, s.devDbPassword.id]);
    expect(await list('secrets', { name: 'pass' })).toEqual([]);
    expect(await list('secrets', { name: 'password', envId: w.envs.prod.id })).toEqual([s.prodDbPassword.id]);
  });
});

describe('token filters', () => {
  test('userTokens by user', async () => {
    expect(await list('userTokens', { userId: w.users.alice.id })).toEqual([w.userTokens.alice1.id, w.userTokens.alice2.id]);
    expect(await list('userTokens', { userId: w.users.carol.id })).toEqual([]);
    expect(await list('userTokens', {})).toEqual([w.userTokens.alice1.id, w.userTokens.alice2.id, w.userTokens.bob1.id]);
  });

  test('botTokens by bot and creator', async () => {
    const b = w.botTokens;
    expect(await list('botTokens', { botId: w.bots.deployBot.id })).toEqual([b.deploy1.id, b.deploy2.id]);
    expect(await list('botTokens', { createdByUserId: w.users.bob.id })).toEqual([b.deploy2.id]);
    expect(await list('botTokens', { botId: w.bots.auditBot.id, createdByUserId: w.users.alice.id })).toEqual([]);
  });
});

describe('malformed ids', () => {
  /** every ID field of every filter */
  const ID_FIELDS: [ListName, string][] = [
    ['envUserPermissions', 'envId'], ['envUserPermissions', 'userId'], ['envUserPermissions', 'botId'],
    ['k8sClusters', 'envId'], ['k8sNamespaces', 'clusterId'], ['k8sServiceAccounts', 'namespaceId'],
    ['helmRegistries', 'kindId'], ['helmCharts', 'helmRegistryId'], ['helmCharts', 'kindId'],
    ['deployments', 'kindId'], ['deployments', 'clusterId'], ['deployments', 'envId'],
    ['deploymentPermissions', 'envId'], ['deploymentPermissions', 'userId'], ['deploymentPermissions', 'botId'], ['deploymentPermissions', 'kindId'],
    ['deploymentTasks', 'clusterId'], ['deploymentTasks', 'deploymentId'], ['deploymentTasks', 'envId'],
    ['deploymentResourceTypes', 'envId'], ['deploymentResourceTypes', 'deploymentKindId'],
    ['deploymentResources', 'typeId'], ['deploymentResources', 'deploymentId'], ['deploymentResources', 'envId'],
    ['k8sResources', 'clusterId'], ['k8sResources', 'deploymentId'], ['secrets', 'envId'], ['userTokens', 'userId'],
    ['botTokens', 'botId'], ['botTokens', 'createdByUserId'],
  ];

  test.each(ID_FIELDS)('%s filter.%s that is not a uuid is BAD_USER_INPUT naming it', async (name, field) => {
    const query = `query($filter: ${LISTS[name].filter}) { ${name}(filter: $filter) { totalCount edges { node { id } } } }`;
    await expectBadInput(query, { filter: { [field]: 'not-a-uuid' } }, `filter.${field}`);
    await expectBadInput(query, { filter: { [field]: `${UNKNOWN_ID}'; drop table users; --` } }, `filter.${field}`);
  });

  test('the env filter is named when it is the malformed one of several', async () => {
    const query = `query($filter: DeploymentFilter) { deployments(filter: $filter) { totalCount } }`;
    await expectBadInput(query, { filter: { envId: '12345', clusterId: w.clusters.prodEu.id } }, 'filter.envId');
    await expectBadInput(query, { filter: { envId: w.envs.prod.id, clusterId: 'x' } }, 'filter.clusterId');
  });
});

describe('by-id queries', () => {
  const byId = (): [ListName, { id: string }][] => [
    ['users', w.users.carol], ['groups', w.groups.devs], ['webApps', w.webApps.kibana], ['envs', w.envs.dev],
    ['envUserPermissions', w.envPermissions.botProd], ['k8sClusters', w.clusters.devEu], ['k8sNamespaces', w.namespaces.teamB],
    ['k8sServiceAccounts', w.serviceAccounts.reader], ['deploymentKinds', w.kinds.job], ['helmRegistries', w.registries.jobs],
    ['helmTagFormats', w.tagFormats.semver], ['helmCharts', w.charts.feat1], ['deployments', w.deployments.backend],
    ['deploymentPermissions', w.deploymentPermissions.bobProdJob], ['deploymentTasks', w.tasks.nightlyFailed],
    ['deploymentResourceTypes', w.resourceTypes.globalDb], ['deploymentResources', w.resources.queue], ['k8sResources', w.k8sResources.cron],
    ['secrets', w.secrets.prodDbUser], ['userTokens', w.userTokens.bob1], ['bots', w.bots.auditBot], ['botTokens', w.botTokens.audit1],
  ];

  test('every single-row query covers a list query', () => {
    expect(byId().map(([name]) => name).sort()).toEqual(Object.keys(LISTS).sort());
  });

  test('each returns its row, null for an unknown uuid, and BAD_USER_INPUT for a malformed id', async () => {
    for (const [name, row] of byId()) {
      const single = LISTS[name].single;
      const query = `query($id: ID!) { ${single}(id: $id) { id createdAt } }`;
      const found = await server.gql<any, any>(query, { id: row.id }, auth);
      expect({ single, errors: found.errors, data: found.data }).toEqual({ single, errors: undefined, data: { [single]: { id: row.id, createdAt: expect.any(String) } } });
      const upper = await server.gql<any, any>(query, { id: row.id.toUpperCase() }, auth);
      expect({ single, data: upper.data }).toEqual({ single, data: { [single]: { id: row.id, createdAt: expect.any(String) } } });
      const missing = await server.gql<any, any>(query, { id: UNKNOWN_ID }, auth);
      expect({ single, errors: missing.errors, data: missing.data }).toEqual({ single, errors: undefined, data: { [single]: null } });
      const bad = await server.gql<any, any>(query, { id: 'nope' }, auth);
      expect({ single, extensions: bad.errors?.[0]?.extensions }).toEqual({ single, extensions: { code: 'BAD_USER_INPUT', field: 'id' } });
    }
  });
});

// last: it deletes rows the tests above read
describe('helmCharts inUse with nothing deployed', () => {
  test('inUse: true is empty and inUse: false lists every chart', async () => {
    await server.sql('delete from deployments');
    const all = await list('helmCharts', {});
    expect(all).toHaveLength(Object.keys(w.charts).length);
    expect(await list('helmCharts', { inUse: true })).toEqual([]);
    expect(await list('helmCharts', { inUse: false })).toEqual(all);
  });
});
