import { expect } from '@jest/globals';
import {
  Deployment, DeploymentKind, DeploymentResource, DeploymentResourceType, Env, HelmChart, HelmRegistry, K8sCluster, Secret,
} from '../../src/entities/index.js';
import { EnvUserRole, HelmRegistryProvider, UserDeploymentRole } from '../../src/entities/enums.js';
import { changedTables, databaseDigest, failure } from './assertions.js';
import { build, persist } from './fixtures.js';
import { createBot, createUser, grantEnvRole, grantKindRole, type Caller } from './identities.js';
import { startTestServer, type TestServer } from './server.js';

/** A values_ui exercising every rule the API checks: required, showIf, showIfAll and the three collections. */
export const appValuesUi = {
  inputs: [
    { id: 'replicas', type: 'number', label: 'Replicas', required: true },
    { id: 'mode', type: 'RadioSelect', label: 'Mode' },
    { id: 'advancedKey', type: 'text', label: 'Key', required: true, showIf: { '==': [{ var: 'mode' }, 'advanced'] } },
    { id: 'region', type: 'text', label: 'Region', required: true, showIfAll: [{ field: 'mode', value: 'regional' }] },
    { id: 'db', type: 'CollectionSelect', collection: 'deployments', label: 'Database' },
    { id: 'password', type: 'CollectionSelect', collection: 'secrets', label: 'Password' },
    { id: 'shops', type: 'array', itemType: 'CollectionSelect', collection: { deployment: 'Shop', type: 'shop' }, label: 'Shops' },
  ],
  outputs: { values: [] },
};

/**
 * One env with two clusters, another env, and a cluster outside any env; kinds App (Many, with the
 * values_ui above) and Shop (OnePerCluster, declaring the `shop` resource type), and callers holding
 * each role that matters.
 */
export async function seedWorld(server: TestServer) {
  const em = server.em.fork();
  const env = build(Env, { name: 'prod' });
  const otherEnv = build(Env, { name: 'staging' });
  const cluster = build(K8sCluster, { env, providerId: 'local:a', name: 'a', ignore: false });
  const cluster2 = build(K8sCluster, { env, providerId: 'local:b', name: 'b', ignore: false });
  const otherCluster = build(K8sCluster, { env: otherEnv, providerId: 'local:c', name: 'c', ignore: false });
  const envless = build(K8sCluster, { providerId: 'local:d', name: 'd' });
  const app = build(DeploymentKind, { name: 'App' });
  const shop = build(DeploymentKind, { name: 'Shop' });
  const appRegistry = build(HelmRegistry, { domainName: 'r.example.com', repoName: 'app', kind: app, provider: HelmRegistryProvider.Oci });
  const shopRegistry = build(HelmRegistry, { domainName: 'r.example.com', repoName: 'shop', kind: shop, provider: HelmRegistryProvider.Oci });
  const chart = (helmRegistry: HelmRegistry, tag: string, fields: Partial<HelmChart> = {}) => build(HelmChart, { helmRegistry, imageDigest: `sha256:${tag}`, imageTag: tag, ...fields });
  const appChart = chart(appRegistry, '1.0.0', { valuesUi: appValuesUi, actionsSchema: { actions: [{ id: 'flush-cache', title: 'Flush' }] } });
  const appChart2 = chart(appRegistry, '1.1.0', { valuesUi: appValuesUi, features: { reinstall_dependencies: false } });
  const plainAppChart = chart(appRegistry, '0.9.0');
  const shopChart = chart(shopRegistry, '2.0.0', {
    features: { apiVersion: 'platz.io/v1beta2', kind: 'Features', spec: { cardinality: 'OnePerCluster' } },
  });
  const shopType = build(DeploymentResourceType, {
    deploymentKind: shop,
    key: 'shop',
    spec: { values_ui: { inputs: [{ id: 'url', type: 'text', label: 'URL' }, { id: 'apiKey', type: 'text', label: 'Key', sensitive: true }] } },
  });
  const otherEnvType = build(DeploymentResourceType, { env: otherEnv, deploymentKind: shop, key: 'local-shop', spec: {} });
  em.persist([env, otherEnv, cluster, cluster2, otherCluster, envless, app, shop, appRegistry, shopRegistry, appChart, appChart2, plainAppChart, shopChart, shopType, otherEnvType]);
  await em.flush();

  const [envAdmin, owner, maintainer, envUser, outsider] = await Promise.all([createUser(server), createUser(server), createUser(server), createUser(server), createUser(server)]);
  const ownerBot = await createBot(server);
  await grantEnvRole(server, env.id, { userId: envAdmin.id }, EnvUserRole.Admin);
  await grantEnvRole(server, env.id, { userId: envUser.id }, EnvUserRole.User);
  await grantEnvRole(server, otherEnv.id, { userId: outsider.id }, EnvUserRole.Admin);
  for (const kind of [app, shop]) {
    await grantKindRole(server, env.id, kind.id, { userId: owner.id }, UserDeploymentRole.Owner);
    await grantKindRole(server, env.id, kind.id, { userId: maintainer.id }, UserDeploymentRole.Maintainer);
    await grantKindRole(server, env.id, kind.id, { botId: ownerBot.id }, UserDeploymentRole.Owner);
  }
  return {
    env, otherEnv, cluster, cluster2, otherCluster, envless, app, shop, appChart, appChart2, plainAppChart, shopChart, shopType, otherEnvType,
    callers: { envAdmin, owner, maintainer, envUser, outsider, ownerBot } satisfies Record<string, Caller>,
  };
}

export type World = Awaited<ReturnType<typeof seedWorld>>;

/** A fresh server with the world above seeded in it: what each deployment test file starts from; `env` as for startTestServer. */
export async function startWorld(env: Record<string, string> = {}): Promise<{ server: TestServer; w: World }> {
  const server = await startTestServer(env);
  try {
    return { server, w: await seedWorld(server) };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** Rows inserted directly, for states the API would take several calls to reach. */
export async function insertDeployment(server: TestServer, fields: Partial<Deployment>): Promise<Deployment> {
  return (await persist(server, build(Deployment, fields)))[0];
}

export async function insertSecret(server: TestServer, fields: Partial<Secret>): Promise<Secret> {
  return (await persist(server, build(Secret, { contentsEncrypted: 'v1.test', ...fields })))[0];
}

export async function insertResource(server: TestServer, fields: Partial<DeploymentResource>): Promise<DeploymentResource> {
  return (await persist(server, build(DeploymentResource, fields)))[0];
}

/** Row counts of the tables a mutation may write. */
export async function rowCounts(server: TestServer): Promise<Record<string, number>> {
  const tables = ['deployments', 'deployment_tasks', 'deployment_resources', 'secrets', 'audit_records'];
  const [row] = await server.sql<Record<string, string>>(`select ${tables.map((t) => `(select count(*) from ${t}) as ${t}`).join(', ')}`);
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
}

/** Calls a mutation expected to fail, checks that it wrote nothing anywhere (every table, row by row), and returns its error. */
export async function rejected(server: TestServer, query: string, variables: unknown, headers: Record<string, string>): Promise<ReturnType<typeof failure>> {
  const before = await databaseDigest(server);
  const res = await server.gql(query, variables, headers);
  expect(changedTables(before, await databaseDigest(server))).toEqual([]);
  return failure(res);
}

/** Tasks of a deployment as (operation tag, status), oldest first. */
export async function tasksOf(server: TestServer, deploymentId: string): Promise<{ tag: string; operation: Record<string, unknown>; status: string; reason: string | null }[]> {
  const rows = await server.sql<{ operation: Record<string, Record<string, unknown>>; status: string; reason: string | null }>(
    'select operation, status, reason from deployment_tasks where deployment_id = ? order by execute_at, created_at, id',
    [deploymentId],
  );
  return rows.map((r) => {
    const [tag, operation] = Object.entries(r.operation)[0];
    return { tag, operation, status: r.status, reason: r.reason };
  });
}
