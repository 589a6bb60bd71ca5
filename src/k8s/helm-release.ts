import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { attempt, objectApi, type ClusterCall } from './cluster-api.js';
import { DEPLOYMENT_ANNOTATION } from './cluster-watch.js';

/** Berth's name as the owner of the fields it applies (server-side apply). */
export const FIELD_MANAGER = 'berth';

/** A chart as Flux fetches it: an OCI artifact (Platz registries are OCI, ECR among them). */
export interface ReleaseChart {
  /** `<domain>/<repo>` */
  repository: string;
  tag: string;
  /** ECR wants Flux's `aws` provider for its credentials; any other registry is `generic` */
  provider: 'aws' | 'generic';
}

/** A deployment's release: its namespace (also the release's name), its chart and its values. */
export interface ReleaseSpec {
  namespace: string;
  deploymentId: string;
  chart: ReleaseChart;
  values: Record<string, unknown>;
}

/** The executor ran, and the cluster said no: the task fails with this, as the task's reason. */
export class ReleaseFailed extends Error {}

const apply = (call: ClusterCall, object: KubernetesObject, what: string) =>
  attempt(call, `apply ${what}`, () => objectApi(call).patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply));

/** The namespace as Platz makes it: labelled `platz=yes` (what the watch follows), annotated with the deployment. */
export function applyNamespace(call: ClusterCall, namespace: string, deploymentId: string): Promise<KubernetesObject> {
  return apply(call, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { platz: 'yes' }, annotations: { [DEPLOYMENT_ANNOTATION]: deploymentId } } }, `the namespace ${namespace}`);
}

/** An Opaque Secret, its values given as strings (the API server encodes them). */
export async function applySecret(call: ClusterCall, namespace: string, name: string, data: Record<string, string>): Promise<void> {
  await apply(call, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', stringData: data } as KubernetesObject, `the secret ${name}`);
}

/** The Secrets a release's config picks, by name; applied before the release, which may mount them. */
export async function applySecrets(call: ClusterCall, namespace: string, secrets: Record<string, Record<string, string>>): Promise<void> {
  for (const [name, data] of Object.entries(secrets)) await applySecret(call, namespace, name, data);
}

/**
 * The Flux source and the HelmRelease, applied in that order; returns the release's generation, which its Ready
 * condition must have observed before it says anything about this apply.
 */
export async function applyRelease(call: ClusterCall, spec: ReleaseSpec): Promise<number> {
  const { namespace } = spec;
  await apply(
    call,
    {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: namespace, namespace },
      spec: {
        url: `oci://${spec.chart.repository}`,
        ref: { tag: spec.chart.tag },
        provider: spec.chart.provider,
        interval: '10m',
        layerSelector: { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', operation: 'copy' },
      },
    } as KubernetesObject,
    `the chart source ${namespace}`,
  );
  const release = await apply(
    call,
    {
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: namespace, namespace, annotations: { [DEPLOYMENT_ANNOTATION]: spec.deploymentId } },
      spec: {
        releaseName: namespace,
        chartRef: { kind: 'OCIRepository', name: namespace, namespace },
        interval: '10m',
        // a failed release is the task's failure, reported once; Berth does not retry it behind the user's back
        install: { remediation: { retries: 0 } },
        upgrade: { remediation: { retries: 0 } },
        values: spec.values,
      },
    } as KubernetesObject,
    `the release ${namespace}`,
  );
  return release.metadata?.generation ?? 1;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

/**
 * Follows the release until its Ready condition, for this generation, is True (returns its message) or False
 * (throws ReleaseFailed with it). A condition that is not about this generation yet is waited out.
 */
export async function awaitRelease(call: ClusterCall, namespace: string, generation: number, options: { timeoutMs: number; pollMs: number; signal: AbortSignal }): Promise<string> {
  const deadline = Date.now() + options.timeoutMs;
  const ref = { apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', metadata: { name: namespace, namespace } };
  const api = objectApi(call);
  for (;;) {
    options.signal.throwIfAborted();
    const release = (await attempt(call, `read the release ${namespace}`, () => api.read(ref))) as KubernetesObject & {
      status?: { observedGeneration?: number; conditions?: Condition[] };
    };
    const ready = release.status?.conditions?.find((c) => c.type === 'Ready');
    // the controller sets status.observedGeneration once it acted on that generation: a False before (its source
    // not ready yet) is Flux still trying, not the release's failure
    const acted = (release.status?.observedGeneration ?? 0) >= generation;
    if (ready?.status === 'True' && (ready.observedGeneration ?? 0) >= generation) return ready.message || ready.reason || '';
    if (ready?.status === 'False' && acted) throw new ReleaseFailed(ready.message || ready.reason || 'the release failed');
    if (Date.now() >= deadline) throw new ReleaseFailed(`the release ${namespace} was not ready within ${Math.round(options.timeoutMs / 1000)} s${ready?.message ? `: ${ready.message}` : ''}`);
    await sleep(options.pollMs, undefined, { signal: options.signal });
  }
}

/** Deletes the namespace (and so the release and everything in it); one already gone is fine. */
export async function removeNamespace(call: ClusterCall, namespace: string): Promise<void> {
  await attempt(call, `delete the namespace ${namespace}`, async () => {
    try {
      await objectApi(call).delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
  });
}

/** `kubectl rollout restart`: a new pod template annotation, so the controller replaces every pod. */
export async function restartWorkload(call: ClusterCall, ref: { kind: string; name: string; namespace: string }, at: Date): Promise<void> {
  const apiVersion = { Deployment: 'apps/v1', StatefulSet: 'apps/v1' }[ref.kind];
  if (!apiVersion) throw new ReleaseFailed(`A ${ref.kind} cannot be restarted; only Deployments and StatefulSets can`);
  await attempt(call, `restart the ${ref.kind} ${ref.name}`, () =>
    objectApi(call).patch(
      { apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace }, spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at.toISOString() } } } } },
      undefined,
      undefined,
      FIELD_MANAGER,
      undefined,
      PatchStrategy.MergePatch,
    ),
  );
}
