import {
  ApiException, CoreV1Api, createConfiguration, KubernetesObjectApi, Observable, ServerConfiguration, VersionApi, type ConfigurationOptions, type KubeConfig,
  type ObservableMiddleware, type V1Node, type V1Pod,
} from '@kubernetes/client-node';
import { clusterUnavailable, conflict, DomainError } from '../errors/domain-error.js';

/**
 * One-off calls to a cluster's API server on behalf of a request (statistics, Kubportal's provisioning), as opposed
 * to the long-lived watches of cluster-watch.ts. Every call is bounded: a cluster that does not answer fails the
 * request with CLUSTER_UNAVAILABLE after `timeoutMs`, it never holds it.
 */
export interface ClusterCall {
  kc: KubeConfig;
  /** how the cluster is named in error messages */
  name: string;
  timeoutMs: number;
}

/** Aborts each request after the timeout (client-node passes the signal to fetch). */
const timeoutAfter = (timeoutMs: number): ObservableMiddleware => ({
  pre: (ctx) => {
    ctx.setSignal(AbortSignal.timeout(timeoutMs));
    return new Observable(Promise.resolve(ctx));
  },
  post: (res) => new Observable(Promise.resolve(res)),
});

/** For a call through a typed API: appended, so the authentication client-node set up stays. */
function bounded(timeoutMs: number): ConfigurationOptions {
  return { middleware: [timeoutAfter(timeoutMs)], middlewareMergeStrategy: 'append' };
}

const objectApis = new WeakMap<ClusterCall, KubernetesObjectApi>();

/**
 * The generic object API (any kind, server-side apply), each request bounded as the typed calls are; one per call,
 * since it caches what discovery says of each kind (asked again by every new instance).
 */
export function objectApi(call: ClusterCall): KubernetesObjectApi {
  let api = objectApis.get(call);
  if (api) return api;
  const cluster = call.kc.getCurrentCluster();
  if (!cluster) throw clusterUnavailable(`Cluster "${call.name}" has no current context`);
  // every object Berth writes names its namespace: the default one is never used
  api = new KubernetesObjectApi(
    createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: call.kc }, middleware: [timeoutAfter(call.timeoutMs)] }),
  );
  objectApis.set(call, api);
  return api;
}

/**
 * What went wrong, as a domain error: AlreadyExists is a CONFLICT (someone else's object has that name); anything
 * else means the cluster cannot do it now. The message names the status or the network failure, never credentials
 * (client-node's errors carry the response, not the request).
 */
export function clusterError(err: unknown, call: Pick<ClusterCall, 'name' | 'timeoutMs'>, action: string): DomainError {
  if (err instanceof DomainError) return err;
  if (err instanceof ApiException) {
    const status = err.code as number;
    const message = typeof err.body === 'string' ? statusMessage(err.body) : undefined;
    if (status === 409) return conflict(`Cluster "${call.name}" could not ${action}: ${message ?? 'it already exists'}`);
    const why = status === 401 ? 'its credentials were refused (401)' : status === 403 ? "Berth's credentials may not do this (403)" : `HTTP ${status}${message ? `: ${message}` : ''}`;
    return clusterUnavailable(`Cluster "${call.name}" could not ${action}: ${why}`);
  }
  const e = err as { name?: string; code?: string; cause?: { code?: string }; message?: string };
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return clusterUnavailable(`Cluster "${call.name}" did not answer within ${call.timeoutMs} ms`);
  const code = e?.code ?? e?.cause?.code;
  return clusterUnavailable(`Cluster "${call.name}" is unreachable${code ? ` (${code})` : ''}; could not ${action}`);
}

/** The `message` of a Kubernetes Status body, cut short. */
function statusMessage(body: string): string | undefined {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    return typeof message === 'string' ? message.slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}

/** A call's failure as CLUSTER_UNAVAILABLE (or CONFLICT), saying what it was doing. */
export async function attempt<T>(call: ClusterCall, action: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw clusterError(err, call, action);
  }
}

/** What Kubportal's cluster statistics read from the cluster itself. */
export interface ClusterFigures {
  k8sVersion: string | null;
  nodeCount: number;
  cpuCount: number;
  memory: number;
  podCount: number;
  volumeCount: number;
}

/**
 * Kubportal's figures (k8s/kubernetes_api.py): nodes, their CPU and memory capacity, pods in all namespaces,
 * PersistentVolumes, and the version as the tag of the kube-proxy image in kube-system, or, where no kube-proxy
 * runs (managed clusters, kube-proxy-less CNIs), the API server's gitVersion. The three lists run together.
 */
export async function readClusterFigures(call: ClusterCall): Promise<ClusterFigures> {
  const core = call.kc.makeApiClient(CoreV1Api);
  const options = bounded(call.timeoutMs);
  return attempt(call, 'be read', async () => {
    const [nodes, pods, volumes] = await Promise.all([
      core.listNode({}, options),
      core.listPodForAllNamespaces({}, options),
      core.listPersistentVolume({}, options),
    ]);
    const k8sVersion = kubeProxyVersion(pods.items) ?? (await call.kc.makeApiClient(VersionApi).getCode(options)).gitVersion ?? null;
    const capacity = nodes.items.map((n) => n.status?.capacity ?? {});
    return {
      k8sVersion,
      nodeCount: nodes.items.length,
      // Kubportal sums int(capacity.cpu) per node
      cpuCount: capacity.reduce((sum, c) => sum + Math.floor(quantity(c.cpu)), 0),
      // Kubportal's unit: KiB / 10^6 (its comment says GiB)
      memory: capacity.reduce((sum, c) => sum + quantity(c.memory), 0) / 1024 / 1e6,
      podCount: pods.items.length,
      volumeCount: volumes.items.length,
    };
  });
}

/** A node of a cluster, as Lighthouse shows a beacon's instances. */
export interface ClusterNode {
  name: string;
  /** its InternalIP, else its first address, else its name */
  address: string;
  /** the kubelet's port */
  port: number;
  /** the kubelet's version */
  version: string;
  /** its Ready condition is True: it runs containers */
  ready: boolean;
}

/** The cluster's nodes, in the API server's order. */
export async function readNodes(call: ClusterCall): Promise<ClusterNode[]> {
  const { items } = await attempt(call, 'list its nodes', () => call.kc.makeApiClient(CoreV1Api).listNode({}, bounded(call.timeoutMs)));
  return items.map(clusterNode);
}

function clusterNode(node: V1Node): ClusterNode {
  const name = node.metadata?.name ?? '';
  const addresses = node.status?.addresses ?? [];
  return {
    name,
    address: (addresses.find((a) => a.type === 'InternalIP') ?? addresses[0])?.address ?? name,
    port: node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? KUBELET_PORT,
    version: node.status?.nodeInfo?.kubeletVersion ?? '',
    ready: node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
  };
}

/** where a kubelet listens unless its node says otherwise */
const KUBELET_PORT = 10250;

/** The tag of the kube-proxy image of a kube-system pod: the version its nodes run. */
function kubeProxyVersion(pods: V1Pod[]): string | null {
  for (const pod of pods) {
    if (pod.metadata?.namespace !== 'kube-system') continue;
    for (const container of pod.spec?.containers ?? []) {
      const image = /\/?kube-proxy(?:-[a-z0-9]+)?:([^@/]+)(?:@.*)?$/.exec(container.image ?? '');
      if (image) return image[1];
    }
  }
  return null;
}

const FACTORS: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes quantity ("4", "3500m", "16Gi", "16393216Ki") as a number; 0 when absent or unreadable. */
export function quantity(value: string | undefined): number {
  const match = /^(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/.exec(value?.trim() ?? '');
  if (!match) return 0;
  return Number(match[1]) * 10 ** Number(match[2] ?? 0) * FACTORS[match[3] ?? ''];
}

/** A user's account as Kubportal's "create a namespace" approval provisions it. */
export interface ProvisionedAccount {
  namespaceUid: string | null;
  serviceAccountUid: string | null;
  token: string;
}

/** Long enough to be a usable kubectl credential; the API server may shorten it (--service-account-max-token-expiration). */
export const TOKEN_EXPIRATION_SECONDS = 365 * 24 * 3600;

/**
 * Creates the namespace, a service account in it and a token for that account (TokenRequest). The namespace must
 * be new: an existing one (AlreadyExists) is a CONFLICT, since it is not Berth's to hand out. When a later step
 * fails, the namespace just created is deleted again (its service account goes with it), so a refused approval
 * leaves the cluster as it was, unless the cluster also refuses that delete (then an empty namespace remains, and the
 * error says so).
 */
export async function provisionAccount(call: ClusterCall, names: { namespace: string; serviceAccount: string }): Promise<ProvisionedAccount> {
  const core = call.kc.makeApiClient(CoreV1Api);
  const options = bounded(call.timeoutMs);
  const namespace = await attempt(call, `create the namespace ${names.namespace}`, () =>
    core.createNamespace({ body: { metadata: { name: names.namespace } } }, options),
  );
  try {
    const account = await attempt(call, `create the service account ${names.serviceAccount}`, () =>
      core.createNamespacedServiceAccount({ namespace: names.namespace, body: { metadata: { name: names.serviceAccount } } }, options),
    );
    const request = await attempt(call, `issue a token for ${names.serviceAccount}`, () =>
      core.createNamespacedServiceAccountToken(
        { namespace: names.namespace, name: names.serviceAccount, body: { spec: { audiences: [], expirationSeconds: TOKEN_EXPIRATION_SECONDS } } },
        options,
      ),
    );
    if (!request.status?.token) throw clusterUnavailable(`Cluster "${call.name}" issued no token for ${names.serviceAccount}`);
    return { namespaceUid: namespace.metadata?.uid ?? null, serviceAccountUid: account.metadata?.uid ?? null, token: request.status.token };
  } catch (err) {
    const failed = clusterError(err, call, 'provision');
    const left = await deleteNamespace(call, names.namespace).then(
      () => '',
      () => `; the namespace ${names.namespace} it created could not be deleted again`,
    );
    throw new DomainError(failed.code, failed.message + left, failed.field);
  }
}

/** Undoes provisionAccount; the caller decides what a failure means. */
export async function deleteNamespace(call: ClusterCall, name: string): Promise<void> {
  await attempt(call, `delete the namespace ${name}`, () => call.kc.makeApiClient(CoreV1Api).deleteNamespace({ name }, bounded(call.timeoutMs)));
}
