import { DeploymentKind, HelmChart, HelmRegistry } from '../../src/entities/index.js';
import { HelmRegistryProvider } from '../../src/entities/enums.js';
import { build, persist, unique } from './fixtures.js';
import { kubeconfigFor, type KubeApiDouble } from './kube-api/index.js';
import type { TestServer } from './server.js';
import { waitFor } from './subscriptions.js';

type Auth = Record<string, string>;

/** A new env, and the double imported as a cluster in it, cleared of ignore and healthy (the server must watch: K8S_WATCH). */
export async function watchedCluster(server: TestServer, admin: Auth, double: KubeApiDouble, context: string): Promise<{ envId: string; clusterId: string }> {
  const env = await server.gql<any, object>(`mutation($n: String!) { createEnv(input: { name: $n }) { id } }`, { n: `${context}-${unique()}` }, admin);
  if (env.errors) throw new Error(JSON.stringify(env.errors));
  const envId = env.data.createEnv.id as string;
  const imported = await server.gql<any, object>(
    `mutation($input: CreateClustersFromKubeconfigInput!) { createClustersFromKubeconfig(input: $input) { id } }`,
    { input: { kubeconfig: kubeconfigFor(double, { contexts: [context] }), contexts: [context], envId } },
    admin,
  );
  if (imported.errors) throw new Error(JSON.stringify(imported.errors));
  const clusterId = imported.data.createClustersFromKubeconfig[0].id as string;
  await server.gql<any, object>(`mutation($id: ID!) { updateCluster(id: $id, input: { ignore: false }) { id } }`, { id: clusterId }, admin);
  await waitFor(async () => (await server.sql<{ is_ok: boolean }>('select is_ok from k8s_clusters where id = ?', [clusterId]))[0].is_ok, 'the cluster healthy');
  return { envId, clusterId };
}

export interface DeploymentOptions {
  config?: Record<string, unknown>;
  valuesUi?: unknown;
  features?: unknown;
  valuesOverride?: Record<string, unknown>;
}

/** A deployment `name` of a kind, registry and chart (tag 1.2.3) of its own, created over GraphQL (its Install task with it). */
export async function createDeployment(
  server: TestServer,
  admin: Auth,
  clusterId: string,
  name: string,
  options: DeploymentOptions = {},
): Promise<{ id: string; namespace: string; repository: string }> {
  const kind = build(DeploymentKind, { name: `App${unique()}` });
  const registry = build(HelmRegistry, { domainName: 'registry.example.com', repoName: `charts/${kind.name.toLowerCase()}`, kind, provider: HelmRegistryProvider.Oci });
  const chart = build(HelmChart, { helmRegistry: registry, imageDigest: `sha256:${unique()}`, imageTag: '1.2.3', valuesUi: options.valuesUi, features: options.features });
  await persist(server, kind, registry, chart);
  const input = { clusterId, kindId: kind.id, helmChartId: chart.id, name, config: options.config ?? {}, ...(options.valuesOverride ? { valuesOverride: options.valuesOverride } : {}) };
  const res = await server.gql<any, object>(`mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { id } }`, { input }, admin);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return { id: res.data.createDeployment.id, namespace: `${kind.name.toLowerCase()}-${name}`, repository: `registry.example.com/${registry.repoName}` };
}
