import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Deployment, DeploymentKind, HelmRegistry, K8sCluster, K8sResource } from '../src/entities/index.js';
import { EnvUserRole, HelmRegistryProvider } from '../src/entities/enums.js';
import { insertDeployment, startWorld, type World } from './support/deployment-world.js';
import { build, persist, unique } from './support/fixtures.js';
import { createBot, createUser, grantEnvRole, type Caller } from './support/identities.js';
import type { TestServer } from './support/server.js';
import { Feed, settleEvents, type Message } from './support/subscriptions.js';

/*
 * What each subscription delivers, message by message, through real graphql-ws clients: every event
 * type as a caller who may see some objects of it and not others, and the filters of the
 * deployment, task and K8s resource feeds. Each scenario ends with a marker, a change the feed must
 * deliver; the messages up to it are compared whole, so a leak or a duplicate fails as surely as a
 * missing message (a stream delivers in commit order: anything leaked would have come before it).
 */

let server: TestServer;
let w: World;
let admin: Record<string, string>;
const feeds: Feed[] = [];

beforeAll(async () => {
  ({ server, w } = await startWorld());
  admin = await server.adminAuth();
});

afterAll(async () => {
  await Promise.all(feeds.map((f) => f.dispose()));
  await server?.stop();
});

/** A feed past its opening (snapshot and LIVE). */
async function open(headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}): Promise<Feed> {
  const f = new Feed(server.berth.wsUrl, headers, query, variables);
  feeds.push(f);
  await f.live();
  return f;
}

/** The changes after LIVE, up to and including the first message about `markerId`, once it has arrived. */
async function upToMarker(f: Feed, markerId: string, what: string): Promise<string[]> {
  await f.until((x) => x.changes.some((m) => m.id === markerId), `${what}: the marker ${markerId}`);
  expect(f.errors).toEqual([]);
  const changes = f.changes;
  return changes.slice(0, changes.findIndex((m) => m.id === markerId) + 1).map(shape);
}

const shape = (m: Message) => [m.operation, m.type, m.id].filter((part) => part != null).join(' ');

async function gql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}, headers = admin): Promise<T> {
  const res = await server.gql<T, object>(query, variables, headers);
  expect(res.errors).toBeUndefined();
  return res.data!;
}

/** The id a mutation returned: the first field of its result, itself an object with an id or an id. */
async function mutate(query: string, variables: Record<string, unknown> = {}): Promise<string> {
  const data = await gql<Record<string, { id: string } | string>>(query, variables);
  const result = Object.values(data)[0];
  return typeof result === 'string' ? result : result.id;
}

async function createDeployment(name: string, clusterId: string, fields: Record<string, unknown> = {}): Promise<string> {
  return mutate('mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { id } }', {
    input: { name, kindId: w.app.id, clusterId, helmChartId: w.appChart.id, config: { replicas: 1 }, ...fields },
  });
}

async function tasksOfDeployment(deploymentId: string): Promise<string[]> {
  const rows = await server.sql<{ id: string }>('select id from deployment_tasks where deployment_id = ? order by created_at, id', [deploymentId]);
  return rows.map((r) => r.id);
}

describe('events(types) as a caller who is no admin', () => {
  /** an env User of prod, of auth level 1; a bot with the same role */
  let viewer: Caller;
  let viewerBot: Caller;
  /** users of a lower, the same and a higher auth level than the viewer's */
  let lower: Caller;
  let peer: Caller;
  let higher: Caller;
  let myGroup: string;
  let otherGroup: string;
  /** shown by my group; in my group but not shown; shown by another group only */
  let shownApp: string;
  let unshownApp: string;
  let foreignApp: string;
  let shopInProd: Deployment;
  let shopInStaging: Deployment;
  let kind: DeploymentKind;
  let registry: HelmRegistry;

  beforeAll(async () => {
    viewer = await createUser(server, { authLevel: 1 });
    await grantEnvRole(server, w.env.id, { userId: viewer.id }, EnvUserRole.User);
    viewerBot = await createBot(server);
    await grantEnvRole(server, w.env.id, { botId: viewerBot.id }, EnvUserRole.User);
    [lower, peer, higher] = [await createUser(server, { authLevel: 0 }), await createUser(server, { authLevel: 1 }), await createUser(server, { authLevel: 2 })];

    myGroup = await mutate('mutation { createGroup(input: { name: "viewers" }) { id } }');
    otherGroup = await mutate('mutation { createGroup(input: { name: "others" }) { id } }');
    await mutate('mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }', { g: myGroup, u: viewer.id });
    const webApp = (name: string, linkShow: boolean) => mutate('mutation($name: String!, $show: Boolean) { createWebApp(input: { name: $name, linkShow: $show }) { id } }', { name, show: linkShow });
    [shownApp, unshownApp, foreignApp] = [await webApp('shown', true), await webApp('unshown', false), await webApp('foreign', true)];
    for (const [g, a] of [[myGroup, shownApp], [myGroup, unshownApp], [otherGroup, foreignApp]]) {
      await mutate('mutation($g: ID!, $a: ID!) { addGroupWebApp(groupId: $g, webAppId: $a) { id } }', { g, a });
    }

    shopInProd = await insertDeployment(server, { name: '', kind: w.shop, cluster: w.cluster, helmChart: w.shopChart, config: {} });
    shopInStaging = await insertDeployment(server, { name: '', kind: w.shop, cluster: w.otherCluster, helmChart: w.shopChart, config: {} });
    kind = build(DeploymentKind, { name: 'Catalogued' });
    registry = build(HelmRegistry, { domainName: 'r.example.com', repoName: 'catalogued', kind, provider: HelmRegistryProvider.Oci });
    await persist(server, kind, registry);
    await settleEvents(server);
  });

  const updateEnv = (id: string) => mutate('mutation($id: ID!, $d: String) { updateEnv(id: $id, input: { description: $d }) { id } }', { id, d: unique() });
  const updateUser = (id: string) => mutate('mutation($id: ID!, $n: String) { updateUser(id: $id, input: { displayName: $n }) { id } }', { id, n: unique() });
  const updateBot = (id: string) => mutate('mutation($id: ID!, $n: String) { updateBot(id: $id, input: { displayName: $n }) { id } }', { id, n: unique() });
  const renameGroup = (id: string) => mutate('mutation($id: ID!, $n: String!) { renameGroup(id: $id, name: $n) { id } }', { id, n: `g-${unique()}` });
  const renameWebApp = (id: string) => mutate('mutation($id: ID!, $n: String) { updateWebApp(id: $id, input: { name: $n }) { id } }', { id, n: `app-${unique()}` });
  const updateCluster = (id: string) => mutate('mutation($id: ID!, $alias: String) { updateCluster(id: $id, input: { alias: $alias }) { id } }', { id, alias: unique() });
  const grantEnv = async (envId: string) =>
    mutate('mutation($input: CreateEnvUserPermissionInput!) { createEnvUserPermission(input: $input) { id } }', { input: { envId, userId: (await createUser(server)).id, role: 'User' } });
  const grantKind = async (envId: string) =>
    mutate('mutation($input: CreateDeploymentPermissionInput!) { createDeploymentPermission(input: $input) { id } }', {
      input: { envId, kindId: w.app.id, userId: (await createUser(server)).id, role: 'Maintainer' },
    });
  const createSecret = (envId: string) =>
    mutate('mutation($input: CreateSecretInput!) { createSecret(input: $input) { id } }', { input: { envId, collection: 'filters', name: `s-${unique()}`, contents: 'x' } });
  const createResource = (deploymentId: string) =>
    mutate('mutation($input: CreateDeploymentResourceInput!) { createDeploymentResource(input: $input) { id } }', {
      input: { deploymentId, typeId: w.shopType.id, name: `r-${unique()}`, props: { url: 'https://shop.example.com' } },
    });
  async function mirror(cluster: K8sCluster): Promise<string> {
    const [resource] = await persist(server, build(K8sResource, { cluster, kind: 'Pod', apiVersion: 'v1', name: `pod-${unique()}` }));
    await settleEvents(server);
    return resource.id;
  }

  /** A change a scenario made, as the message it must (seen) or must not (hidden) bring the caller. */
  type Change = { message: string; seen: boolean };
  const seen = (message: string): Change => ({ message, seen: true });
  const hidden = (message: string): Change => ({ message, seen: false });

  /**
   * One scenario: who subscribes (the viewer unless said), and the changes it makes of the type, in
   * commit order. A site admin's feed of the same types receives all of them: the hidden ones are
   * real events of the type, which only the caller's scope keeps away.
   */
  interface Scenario {
    name: string;
    caller?: () => Caller;
    run(): Promise<Change[]>;
  }

  const SCENARIOS: Record<string, Scenario[]> = {
    BOT: [
      {
        name: 'a bot sees itself, not another bot',
        caller: () => viewerBot,
        run: async () => [seen(`UPDATE BOT ${await updateBot(viewerBot.id)}`), hidden(`UPDATE BOT ${await updateBot(w.callers.ownerBot.id)}`)],
      },
      {
        name: 'a plain user sees no bots',
        run: async () => [
          hidden(`UPDATE BOT ${await updateBot(viewerBot.id)}`),
          hidden(`INSERT BOT ${await mutate('mutation { createBot(input: { displayName: "unseen" }) { id } }')}`),
        ],
      },
    ],
    USER: [
      {
        name: 'itself and users of a lower auth level, not of the same or a higher one',
        run: async () => [
          seen(`UPDATE USER ${await updateUser(lower.id)}`),
          hidden(`UPDATE USER ${await updateUser(peer.id)}`),
          seen(`UPDATE USER ${await updateUser(viewer.id)}`),
          hidden(`UPDATE USER ${await updateUser(higher.id)}`),
        ],
      },
    ],
    GROUP: [
      {
        name: 'its own groups, not the others',
        run: async () => [
          seen(`UPDATE GROUP ${await renameGroup(myGroup)}`),
          hidden(`UPDATE GROUP ${await renameGroup(otherGroup)}`),
          hidden(`INSERT GROUP ${await mutate('mutation { createGroup(input: { name: "unseen" }) { id } }')}`),
        ],
      },
    ],
    WEB_APP: [
      {
        name: 'the web apps its groups show, not one they hold unshown nor one of another group',
        run: async () => [
          seen(`UPDATE WEB_APP ${await renameWebApp(shownApp)}`),
          hidden(`UPDATE WEB_APP ${await renameWebApp(unshownApp)}`),
          hidden(`UPDATE WEB_APP ${await renameWebApp(foreignApp)}`),
        ],
      },
    ],
    ENV: [
      {
        name: 'its env, not another',
        run: async () => [
          seen(`UPDATE ENV ${await updateEnv(w.env.id)}`),
          hidden(`UPDATE ENV ${await updateEnv(w.otherEnv.id)}`),
          hidden(`INSERT ENV ${await mutate('mutation { createEnv(input: { name: "unseen-env" }) { id } }')}`),
        ],
      },
    ],
    ENV_USER_PERMISSION: [
      {
        name: 'roles in its env, not in another',
        run: async () => [seen(`INSERT ENV_USER_PERMISSION ${await grantEnv(w.env.id)}`), hidden(`INSERT ENV_USER_PERMISSION ${await grantEnv(w.otherEnv.id)}`)],
      },
    ],
    DEPLOYMENT_PERMISSION: [
      {
        name: 'kind roles in its env, not in another',
        run: async () => [seen(`INSERT DEPLOYMENT_PERMISSION ${await grantKind(w.env.id)}`), hidden(`INSERT DEPLOYMENT_PERMISSION ${await grantKind(w.otherEnv.id)}`)],
      },
    ],
    SECRET: [
      {
        name: 'secrets of its env, not of another',
        run: async () => [seen(`INSERT SECRET ${await createSecret(w.env.id)}`), hidden(`INSERT SECRET ${await createSecret(w.otherEnv.id)}`)],
      },
    ],
    K8S_CLUSTER: [
      {
        name: 'clusters of its env, not of another nor one outside every env',
        run: async () => [
          seen(`UPDATE K8S_CLUSTER ${await updateCluster(w.cluster.id)}`),
          hidden(`UPDATE K8S_CLUSTER ${await updateCluster(w.otherCluster.id)}`),
          hidden(`UPDATE K8S_CLUSTER ${await updateCluster(w.envless.id)}`),
        ],
      },
    ],
    DEPLOYMENT: [
      {
        name: 'deployments in its env, not in another',
        run: async () => [
          seen(`INSERT DEPLOYMENT ${await createDeployment(`seen-${unique()}`, w.cluster.id)}`),
          hidden(`INSERT DEPLOYMENT ${await createDeployment(`unseen-${unique()}`, w.otherCluster.id)}`),
        ],
      },
    ],
    DEPLOYMENT_TASK: [
      {
        name: 'tasks in its env, not in another',
        async run() {
          const inProd = await tasksOfDeployment(await createDeployment(`task-${unique()}`, w.cluster.id));
          const inStaging = await tasksOfDeployment(await createDeployment(`task-${unique()}`, w.otherCluster.id));
          expect([inProd.length, inStaging.length]).toEqual([1, 1]);
          return [seen(`INSERT DEPLOYMENT_TASK ${inProd[0]}`), hidden(`INSERT DEPLOYMENT_TASK ${inStaging[0]}`)];
        },
      },
    ],
    DEPLOYMENT_RESOURCE: [
      {
        name: 'deployment resources in its env, not in another',
        run: async () => [seen(`INSERT DEPLOYMENT_RESOURCE ${await createResource(shopInProd.id)}`), hidden(`INSERT DEPLOYMENT_RESOURCE ${await createResource(shopInStaging.id)}`)],
      },
    ],
    K8S_RESOURCE: [
      {
        name: 'mirrored resources of its env, not of another nor of a cluster outside every env',
        run: async () => [
          seen(`INSERT K8S_RESOURCE ${await mirror(w.cluster)}`),
          hidden(`INSERT K8S_RESOURCE ${await mirror(w.otherCluster)}`),
          hidden(`INSERT K8S_RESOURCE ${await mirror(w.envless)}`),
        ],
      },
    ],
    // catalogs: visible to everyone; what is not delivered is a change of a type not asked for
    HELM_CHART: [
      {
        name: 'every chart; not a change of another type',
        async run() {
          const chart = await mutate('mutation($input: RegisterHelmChartInput!) { registerHelmChart(input: $input) { id } }', {
            input: { helmRegistryId: registry.id, imageDigest: `sha256:${unique()}`, imageTag: `3.0.0-${unique()}` },
          });
          await updateEnv(w.env.id);
          return [seen(`INSERT HELM_CHART ${chart}`)];
        },
      },
    ],
    HELM_REGISTRY: [
      {
        name: 'every registry; not a change of another type',
        async run() {
          const icon = await mutate('mutation($id: ID!) { setHelmRegistryIcon(id: $id, faIcon: "box-open") { id } }', { id: registry.id });
          await updateEnv(w.env.id);
          return [seen(`UPDATE HELM_REGISTRY ${icon}`)];
        },
      },
    ],
    DEPLOYMENT_KIND: [
      {
        name: 'every kind; not a change of another type',
        async run() {
          const renamed = await mutate('mutation($id: ID!, $n: String!) { renameDeploymentKind(id: $id, name: $n) { id } }', { id: kind.id, n: `Kind${unique()}` });
          await updateEnv(w.env.id);
          return [seen(`UPDATE DEPLOYMENT_KIND ${renamed}`)];
        },
      },
    ],
    HELM_TAG_FORMAT: [
      {
        name: 'every tag format; not a change of another type',
        async run() {
          const format = await createTagFormat();
          await updateEnv(w.env.id);
          return [seen(`INSERT HELM_TAG_FORMAT ${format}`)];
        },
      },
    ],
  };

  /** The marker of every scenario: a tag format, which everyone sees. */
  const createTagFormat = () => mutate('mutation($p: String!) { createHelmTagFormat(pattern: $p) { id } }', { p: `^marker-${unique()}-(?P<version>.*)$` });

  test('every event type has its scenarios', async () => {
    const data = await gql<{ __type: { enumValues: { name: string }[] } }>('{ __type(name: "EventType") { enumValues { name } } }');
    expect(Object.keys(SCENARIOS).sort()).toEqual(data.__type.enumValues.map((v) => v.name).sort());
  });

  const cases = Object.entries(SCENARIOS).flatMap(([type, scenarios]) => scenarios.map((scenario) => [type, scenario.name, scenario] as const));

  test.each(cases)('%s: %s, exactly', async (type, _, scenario) => {
    const types = type === 'HELM_TAG_FORMAT' ? [type] : [type, 'HELM_TAG_FORMAT'];
    const query = `subscription { events(types: [${types.join(', ')}]) { operation cursor type id } }`;
    const [f, all] = await Promise.all([open((scenario.caller?.() ?? viewer).headers, query), open(admin, query)]);
    const changes = await scenario.run();
    const marker = await createTagFormat();
    const end = `INSERT HELM_TAG_FORMAT ${marker}`;
    expect(await upToMarker(all, marker, `${type} (site admin)`)).toEqual([...changes.map((c) => c.message), end]);
    expect(await upToMarker(f, marker, type)).toEqual([...changes.filter((c) => c.seen).map((c) => c.message), end]);
  });
});

describe('the filters of deploymentEvents, deploymentTaskEvents and k8sResourceEvents', () => {
  /** clusters of this block's own: A and B in prod, C in staging */
  let clusterA: K8sCluster;
  let clusterB: K8sCluster;
  let clusterC: K8sCluster;
  /** an env User of staging */
  let stagingUser: Caller;

  beforeAll(async () => {
    clusterA = build(K8sCluster, { env: w.env, providerId: 'local:fa', name: 'fa', ignore: false });
    clusterB = build(K8sCluster, { env: w.env, providerId: 'local:fb', name: 'fb', ignore: false });
    clusterC = build(K8sCluster, { env: w.otherEnv, providerId: 'local:fc', name: 'fc', ignore: false });
    await persist(server, clusterA, clusterB, clusterC);
    stagingUser = await createUser(server);
    await grantEnvRole(server, w.otherEnv.id, { userId: stagingUser.id }, EnvUserRole.User);
    await settleEvents(server);
  });

  const updateDeployment = (id: string, input: Record<string, unknown>) =>
    mutate('mutation($id: ID!, $input: UpdateDeploymentInput!) { updateDeployment(id: $id, input: $input) { id } }', { id, input });
  const describeDeployment = (id: string) => updateDeployment(id, { descriptionMd: unique() });

  test('deploymentEvents(cluster, kind, deployment) deliver exactly the matching changes, moves as ENTER and LEAVE', async () => {
    const d = await createDeployment('filter-d', clusterA.id);
    const doc = `subscription($cluster: ID, $kind: ID, $deployment: ID) {
      deploymentEvents(cluster: $cluster, kind: $kind, deployment: $deployment) { operation cursor id }
    }`;
    const [byCluster, byKind, byDeployment, byClusterAndKind] = await Promise.all([
      open(admin, doc, { cluster: clusterA.id }),
      open(admin, doc, { kind: w.app.id }),
      open(admin, doc, { deployment: d }),
      open(admin, doc, { cluster: clusterA.id, kind: w.app.id }),
    ]);

    const x1 = await createDeployment('filter-x1', clusterA.id);
    const x2 = await createDeployment('filter-x2', clusterB.id);
    const shop = await createDeployment('', clusterA.id, { kindId: w.shop.id, helmChartId: w.shopChart.id, config: {} });
    await describeDeployment(shop);
    await updateDeployment(x2, { clusterId: clusterA.id }); // into cluster A
    await updateDeployment(x1, { clusterId: clusterC.id }); // out of it, into staging
    await server.sql('delete from deployments where id = ?', [x2]); // as the worker ends a deletion
    await settleEvents(server);
    const marker = await describeDeployment(d);

    expect(await upToMarker(byCluster, marker, 'cluster A')).toEqual([
      `INSERT ${x1}`, `INSERT ${shop}`, `UPDATE ${shop}`, `ENTER ${x2}`, `LEAVE ${x1}`, `DELETE ${x2}`, `UPDATE ${d}`,
    ]);
    expect(await upToMarker(byKind, marker, 'kind App')).toEqual([`INSERT ${x1}`, `INSERT ${x2}`, `UPDATE ${x2}`, `UPDATE ${x1}`, `DELETE ${x2}`, `UPDATE ${d}`]);
    expect(await upToMarker(byDeployment, marker, 'deployment d')).toEqual([`UPDATE ${d}`]);
    expect(await upToMarker(byClusterAndKind, marker, 'cluster A and kind App')).toEqual([`INSERT ${x1}`, `ENTER ${x2}`, `LEAVE ${x1}`, `DELETE ${x2}`, `UPDATE ${d}`]);
  });

  test('deploymentTaskEvents(deployment, cluster) deliver exactly the tasks of the deployment, of the cluster, or both', async () => {
    const d = await createDeployment('tasks-d', clusterA.id);
    const doc = `subscription($cluster: ID, $deployment: ID) {
      deploymentTaskEvents(cluster: $cluster, deployment: $deployment) { operation cursor id }
    }`;
    const [byDeployment, byCluster, byBoth] = await Promise.all([
      open(admin, doc, { deployment: d }),
      open(admin, doc, { cluster: clusterA.id }),
      open(admin, doc, { deployment: d, cluster: clusterA.id }),
    ]);
    const newTasks = async (deploymentId: string, change: () => Promise<unknown>) => {
      const before = new Set(await tasksOfDeployment(deploymentId));
      await change();
      const added = (await tasksOfDeployment(deploymentId)).filter((id) => !before.has(id));
      expect(added).toHaveLength(1);
      return added[0];
    };
    const invokeAction = (deploymentId: string) =>
      mutate('mutation($input: CreateDeploymentTaskInput!) { createDeploymentTask(input: $input) { id } }', {
        input: { deploymentId, invokeAction: { helmChartId: w.appChart.id, actionId: 'flush-cache', body: {} } },
      });

    const y = await createDeployment('tasks-y', clusterB.id); // its Install task: in cluster B
    const z = await createDeployment('tasks-z', clusterA.id);
    const [installZ] = await tasksOfDeployment(z);
    const upgradeD = await newTasks(d, () => updateDeployment(d, { config: { replicas: 2 } }));
    await invokeAction(y);
    await mutate('mutation($id: ID!) { cancelDeploymentTask(id: $id, reason: "filters") { id } }', { id: installZ });
    const marker = await invokeAction(d);

    expect(await upToMarker(byCluster, marker, 'cluster A')).toEqual([`INSERT ${installZ}`, `INSERT ${upgradeD}`, `UPDATE ${installZ}`, `INSERT ${marker}`]);
    expect(await upToMarker(byDeployment, marker, 'deployment d')).toEqual([`INSERT ${upgradeD}`, `INSERT ${marker}`]);
    expect(await upToMarker(byBoth, marker, 'deployment d in cluster A')).toEqual([`INSERT ${upgradeD}`, `INSERT ${marker}`]);
  });

  test('k8sResourceEvents(cluster, deployment, kind) deliver exactly the matching resources; an env User of another env gets none of them', async () => {
    const [d] = await persist(server, build(Deployment, { name: 'mirrored', kind: w.app, cluster: clusterA, helmChart: w.appChart, config: { replicas: 1 } }));
    await settleEvents(server);
    const doc = `subscription($cluster: ID, $deployment: ID, $kind: String) {
      k8sResourceEvents(cluster: $cluster, deployment: $deployment, kind: $kind) { operation cursor id }
    }`;
    const [byCluster, byDeployment, byKind, byAll, envUserByCluster, outsider] = await Promise.all([
      open(admin, doc, { cluster: clusterA.id }),
      open(admin, doc, { deployment: d.id }),
      open(admin, doc, { kind: 'Pod' }),
      open(admin, doc, { cluster: clusterA.id, deployment: d.id, kind: 'Pod' }),
      open(w.callers.envUser.headers, doc, { cluster: clusterA.id }),
      open(stagingUser.headers, doc),
    ]);
    const mirror = async (cluster: K8sCluster, kind: string, deployment?: Deployment) => {
      const [resource] = await persist(server, build(K8sResource, { cluster, deployment, kind, apiVersion: 'v1', name: `${kind.toLowerCase()}-${unique()}` }));
      return resource.id;
    };

    const podOfD = await mirror(clusterA, 'Pod', d);
    const serviceOfD = await mirror(clusterA, 'Service', d);
    const podOfA = await mirror(clusterA, 'Pod');
    const podOfB = await mirror(clusterB, 'Pod');
    const podOfC = await mirror(clusterC, 'Pod');
    await server.sql('update k8s_resources set name = ? where id = ?', [`renamed-${unique()}`, serviceOfD]);
    await server.sql('update k8s_resources set name = ? where id = ?', [`renamed-${unique()}`, podOfB]);
    await server.sql('delete from k8s_resources where id = ?', [podOfD]);
    const marker = await mirror(clusterA, 'Pod', d);
    // the staging user's own marker, after everything of prod
    const stagingMarker = await mirror(clusterC, 'ConfigMap');
    await settleEvents(server);

    const inClusterA = [`INSERT ${podOfD}`, `INSERT ${serviceOfD}`, `INSERT ${podOfA}`, `UPDATE ${serviceOfD}`, `DELETE ${podOfD}`, `INSERT ${marker}`];
    expect(await upToMarker(byCluster, marker, 'cluster A')).toEqual(inClusterA);
    expect(await upToMarker(envUserByCluster, marker, 'cluster A, as an env User of prod')).toEqual(inClusterA);
    expect(await upToMarker(byDeployment, marker, 'deployment d')).toEqual([`INSERT ${podOfD}`, `INSERT ${serviceOfD}`, `UPDATE ${serviceOfD}`, `DELETE ${podOfD}`, `INSERT ${marker}`]);
    expect(await upToMarker(byKind, marker, 'kind Pod')).toEqual([
      `INSERT ${podOfD}`, `INSERT ${podOfA}`, `INSERT ${podOfB}`, `INSERT ${podOfC}`, `UPDATE ${podOfB}`, `DELETE ${podOfD}`, `INSERT ${marker}`,
    ]);
    expect(await upToMarker(byAll, marker, 'cluster A, deployment d, kind Pod')).toEqual([`INSERT ${podOfD}`, `DELETE ${podOfD}`, `INSERT ${marker}`]);
    expect(await upToMarker(outsider, stagingMarker, 'an env User of staging')).toEqual([`INSERT ${podOfC}`, `INSERT ${stagingMarker}`]);

    // nor in a snapshot: asking for prod's cluster or deployment by filter widens nothing
    const prod = [serviceOfD, podOfA, podOfB, marker];
    const snapshot = await open(stagingUser.headers, doc);
    expect(snapshot.messages.filter((m) => prod.includes(m.id!))).toEqual([]);
    expect(snapshot.messages.map((m) => m.id)).toEqual(expect.arrayContaining([podOfC, stagingMarker]));
    for (const variables of [{ cluster: clusterA.id }, { deployment: d.id }]) {
      expect((await open(stagingUser.headers, doc, variables)).messages.map((m) => m.operation)).toEqual(['LIVE']);
    }
  });
});
