import { K8sResourceStatusColor as Color } from '../entities/enums.js';
import { isUuid } from '../entities/uuid.js';

/** The kinds Berth mirrors in the namespaces of its deployments, with where the watch finds them. */
export const MIRRORED_KINDS = [
  { kind: 'Deployment', apiVersion: 'apps/v1', path: '/apis/apps/v1/deployments' },
  { kind: 'StatefulSet', apiVersion: 'apps/v1', path: '/apis/apps/v1/statefulsets' },
  { kind: 'Job', apiVersion: 'batch/v1', path: '/apis/batch/v1/jobs' },
  { kind: 'Pod', apiVersion: 'v1', path: '/api/v1/pods' },
  { kind: 'Service', apiVersion: 'v1', path: '/api/v1/services' },
  { kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', path: '/apis/networking.k8s.io/v1/ingresses' },
] as const;

export type MirroredKind = (typeof MIRRORED_KINDS)[number]['kind'];

/** A Kubernetes object as the watch sees it: only what the mirror reads. */
export interface KubeObject {
  metadata?: { uid?: string; name?: string; namespace?: string; managedFields?: unknown };
  spec?: unknown;
  status?: unknown;
}

/** One `k8s_resources` row as the cluster describes it. */
export interface MirroredObject {
  id: string;
  kind: MirroredKind;
  apiVersion: string;
  name: string;
  namespace: string;
  /** ObjectMeta without managedFields (bulky bookkeeping of server-side apply) */
  metadata: Record<string, unknown>;
  statusColor: Color[];
}

/** What one flush of a cluster's watch writes. */
export interface MirrorBatch {
  /** objects as they are now, with the deployment their namespace names (a missing one is left out) */
  upserts: (MirroredObject & { deploymentId: string | null })[];
  /** uids of objects gone */
  deletes: string[];
  /** after a (re)list of a kind: the uids it listed, and those seen since; the cluster's other rows of that kind are gone */
  relisted: { kind: string; ids: string[] }[];
}

/** The row for an object of `kind` (list items carry no kind or apiVersion: they come from the watched resource). */
export function mirroredObject(kind: (typeof MIRRORED_KINDS)[number], object: KubeObject): MirroredObject | null {
  const { uid, name, namespace } = object.metadata ?? {};
  // a uid is a UUID on every real API server; anything else could not be a row's id
  if (!uid || !isUuid(uid) || !name || !namespace) return null;
  const { managedFields: _managedFields, ...metadata } = object.metadata!;
  return { id: uid, kind: kind.kind, apiVersion: kind.apiVersion, name, namespace, metadata: metadata as Record<string, unknown>, statusColor: statusColor(kind.kind, object) };
}

const count = (value: unknown) => (typeof value === 'number' && value > 0 ? Math.floor(value) : 0);
const repeat = (color: Color, n: number): Color[] => Array.from({ length: n }, () => color);

/**
 * One colour per replica or pod, as Platz gives them (platz.md section 6) for Deployments, StatefulSets and Jobs;
 * Berth's own rule for the other kinds: a Pod by its phase and readiness, a Service and an Ingress by whether
 * they have somewhere to send traffic.
 */
export function statusColor(kind: MirroredKind, object: KubeObject): Color[] {
  const spec = (object.spec ?? {}) as Record<string, unknown>;
  const status = (object.status ?? {}) as Record<string, unknown>;
  switch (kind) {
    case 'Deployment': {
      const available = count(status.availableReplicas);
      // unavailableReplicas is absent while a rollout has nothing unavailable; the desired count fills the gap
      const unavailable = Math.max(count(status.unavailableReplicas), count(spec.replicas ?? 1) - available);
      return [...repeat(Color.Success, available), ...repeat(Color.Danger, unavailable)];
    }
    case 'StatefulSet': {
      const ready = count(status.readyReplicas);
      return [...repeat(Color.Success, ready), ...repeat(Color.Danger, Math.max(0, count(spec.replicas ?? 1) - ready))];
    }
    case 'Job':
      return [...repeat(Color.Primary, count(status.active)), ...repeat(Color.Success, count(status.succeeded)), ...repeat(Color.Danger, count(status.failed))];
    case 'Pod':
      return [podColor(status)];
    case 'Service':
      // an ExternalName or headless Service has nothing to balance, and is as it should be
      return [Color.Success];
    case 'Ingress': {
      const ingress = (status.loadBalancer as { ingress?: unknown[] } | undefined)?.ingress;
      return [Array.isArray(ingress) && ingress.length ? Color.Success : Color.Warning];
    }
  }
}

function podColor(status: Record<string, unknown>): Color {
  switch (status.phase) {
    case 'Succeeded':
      return Color.Secondary;
    case 'Failed':
      return Color.Danger;
    case 'Running': {
      const conditions = (status.conditions as { type?: string; status?: string }[] | undefined) ?? [];
      return conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? Color.Success : Color.Warning;
    }
    default:
      // Pending, Unknown
      return Color.Warning;
  }
}
