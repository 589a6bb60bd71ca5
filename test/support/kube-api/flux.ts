import { createHash } from 'node:crypto';
import { CHART_SOURCES, DEPLOYMENTS, HELM_RELEASES } from './resources.js';
import { ApiError } from './status.js';
import type { Change, ObjectStore, StoredObject } from './store.js';

export interface HelmControllerOptions {
  /** how long an install or upgrade takes; 50 ms */
  delayMs?: number;
  /** a message fails the install or upgrade with it (Ready False, InstallFailed or UpgradeFailed); null or undefined: it succeeds */
  fail?: (release: StoredObject) => string | null | undefined;
  /** true: the install or upgrade never ends, the release stays Progressing (Ready Unknown) */
  hold?: (release: StoredObject) => boolean;
}

/** One install or upgrade of a release, as `helm history` lists them. */
export interface HelmRevision {
  /** Helm's revision: 1, 2… */
  version: number;
  /** the HelmRelease's generation it was made for */
  generation: number;
  action: 'install' | 'upgrade';
  chart: string;
  chartVersion: string;
  /** spec.values as installed */
  values: Record<string, unknown>;
  status: 'deployed' | 'failed';
}

interface SourceRef {
  kind: string;
  name: string;
  namespace?: string;
}

interface HelmReleaseSpec {
  chart?: { spec: { chart: string; version?: string; sourceRef: SourceRef } };
  chartRef?: SourceRef;
  releaseName?: string;
  targetNamespace?: string;
  suspend?: boolean;
  timeout?: string;
  values?: Record<string, unknown>;
}

interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

type Status = Record<string, unknown> & { conditions?: Condition[]; history?: object[] };

type Chart = { name: string; version: string } | { error: string };

/** Flux keeps this many snapshots in status.history */
const MAX_HISTORY = 5;

/**
 * Flux's helm-controller, simulated on the store: a HelmRelease created, or whose generation
 * changes, goes Progressing at once and, `delayMs` later, Ready True with its workload (a Deployment
 * named after the release, all replicas available) or Ready False with the message `fail` gives.
 * Its chart's version comes from the release (HelmRepository) or the OCIRepository's tag, which
 * must exist; a new tag upgrades the releases that use it. A deleted release's workload goes too.
 */
export class HelmController {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly revisions = new Map<string, HelmRevision[]>();
  private readonly unsubscribe: () => void;
  private stopped = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: HelmControllerOptions = {},
  ) {
    this.unsubscribe = store.subscribe((change) => this.observe(change));
  }

  /** The release's installs and upgrades, oldest first; none once it is uninstalled. */
  history(namespace: string, name: string): HelmRevision[] {
    return copy(this.revisions.get(`${namespace}/${name}`) ?? []);
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    this.timers.forEach((timer) => clearTimeout(timer));
    this.timers.clear();
  }

  private observe({ type, resource, object, previous }: Change): void {
    if (resource === HELM_RELEASES) {
      if (type === 'DELETED') this.uninstall(object);
      else if (previous?.metadata.generation !== object.metadata.generation) this.start(object);
    } else if (CHART_SOURCES.includes(resource) && type !== 'DELETED') {
      // the releases it failed for (it was missing), and those whose chart version it changes
      for (const release of this.store.list(HELM_RELEASES)) {
        const ref = specOf(release).chartRef ?? specOf(release).chart?.spec.sourceRef;
        const uses = ref?.kind === resource.kind && ref.name === object.metadata.name && (ref.namespace ?? release.metadata.namespace) === object.metadata.namespace;
        if (uses && !this.upToDate(release)) this.start(release);
      }
    }
  }

  private start(release: StoredObject): void {
    if (specOf(release).suspend) return;
    // after the write that started it has reached every watch
    queueMicrotask(() => this.progress(release));
    const key = keyOf(release);
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.reconcile(release);
    }, this.options.delayMs ?? 50);
    this.timers.set(key, timer);
  }

  private progress(started: StoredObject): void {
    const release = this.current(started);
    if (!release) return;
    const action = this.deployed(release) ? 'upgrade' : 'install';
    const message = `Running '${action}' action with timeout of ${specOf(release).timeout ?? '5m0s'}`;
    this.writeStatus(release, (status) => ({ ...status, conditions: withReady(status, 'Unknown', 'Progressing', message, release, this.store.now()) }));
  }

  private reconcile(started: StoredObject): void {
    const release = this.current(started);
    if (!release || specOf(release).suspend || this.options.hold?.(copy(release))) return;
    const chart = this.chartOf(release);
    if ('error' in chart) {
      // not observed: Flux tries again, here when the source comes
      this.writeStatus(release, (status) => ({ ...status, conditions: withReady(status, 'False', 'ArtifactFailed', chart.error, release, this.store.now()) }));
      return;
    }
    const { generation } = release.metadata;
    const [name, target] = installedAs(release);
    const action = this.deployed(release) ? 'upgrade' : 'install';
    const values = specOf(release).values ?? {};
    let failure = this.options.fail?.(copy(release)) ?? undefined;
    if (!failure) {
      try {
        this.deploy(release, chart, values);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        failure = `Helm ${action} failed for release ${target}/${name} with chart ${chart.name}@${chart.version}: ${err.message}`;
      }
    }
    const revisions = this.revisions.get(keyOf(release)) ?? [];
    const revision: HelmRevision = { version: revisions.length + 1, generation, action, chart: chart.name, chartVersion: chart.version, values, status: failure ? 'failed' : 'deployed' };
    this.revisions.set(keyOf(release), [...revisions, copy(revision)]);
    const now = this.store.now();
    const configDigest = `sha256:${createHash('sha256').update(JSON.stringify(values)).digest('hex')}`;
    const snapshot = { version: revision.version, name, namespace: target, chartName: chart.name, chartVersion: chart.version, configDigest, lastDeployed: now, status: revision.status };
    const verb = action === 'install' ? 'Install' : 'Upgrade';
    const [ready, reason, message] = failure
      ? (['False', `${verb}Failed`, failure] as const)
      : (['True', `${verb}Succeeded`, `Helm ${action} succeeded for release ${target}/${name}.v${revision.version} with chart ${chart.name}@${chart.version}`] as const);
    this.writeStatus(release, (status) => ({
      ...status,
      observedGeneration: generation,
      lastAttemptedGeneration: generation,
      lastAttemptedRevision: chart.version,
      lastAttemptedReleaseAction: action,
      lastAttemptedConfigDigest: configDigest,
      history: [snapshot, ...(status.history ?? [])].slice(0, MAX_HISTORY),
      conditions: withReady(status, ready, reason, message, release, now),
    }));
  }

  /** The release's workload, as its chart would make it; its pods are all available at once. */
  private deploy(release: StoredObject, chart: { name: string; version: string }, values: Record<string, unknown>): void {
    const [name, namespace] = installedAs(release);
    const replicas = typeof values.replicaCount === 'number' ? values.replicaCount : 1;
    const image = values.image as { repository?: string; tag?: string } | undefined;
    const labels = { 'app.kubernetes.io/instance': name, 'app.kubernetes.io/name': chart.name, 'app.kubernetes.io/managed-by': 'Helm', 'helm.sh/chart': `${chart.name}-${chart.version}` };
    const manifest = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels, annotations: { 'meta.helm.sh/release-name': name, 'meta.helm.sh/release-namespace': namespace } },
      spec: {
        replicas,
        selector: { matchLabels: { 'app.kubernetes.io/instance': name } },
        template: { metadata: { labels }, spec: { containers: [{ name: chart.name, image: `${image?.repository ?? chart.name}:${image?.tag ?? chart.version}` }] } },
      },
    };
    this.store.apply(DEPLOYMENTS, namespace, name, manifest, 'helm-controller', 'main');
    // what the deployment controller reports once the rollout is done
    this.store.patch(DEPLOYMENTS, namespace, name, (deployment) => ({
      ...deployment,
      status: {
        observedGeneration: deployment.metadata.generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }],
      },
    }), 'status');
  }

  /** At once: a release created again under the same name is installed anew. */
  private uninstall(release: StoredObject): void {
    clearTimeout(this.timers.get(keyOf(release)));
    this.timers.delete(keyOf(release));
    this.revisions.delete(keyOf(release));
    const [name, namespace] = installedAs(release);
    queueMicrotask(() => {
      // gone already when its namespace went
      if (!this.stopped && this.store.get(DEPLOYMENTS, namespace, name)) this.store.delete(DEPLOYMENTS, namespace, name);
    });
  }

  /** The chart's name and version, from the release and its source; an error when the source is missing. */
  private chartOf(release: StoredObject): Chart {
    const spec = specOf(release);
    const ref = spec.chartRef ?? spec.chart?.spec.sourceRef;
    if (!ref) return { error: 'the release has neither spec.chart nor spec.chartRef' };
    const type = CHART_SOURCES.find((t) => t.kind === ref.kind);
    const source = type && this.store.get(type, ref.namespace ?? release.metadata.namespace, ref.name);
    if (!source) return { error: `could not get Source object: ${ref.kind}.source.toolkit.fluxcd.io "${ref.name}" not found` };
    if (!spec.chartRef) return { name: spec.chart!.spec.chart, version: spec.chart!.spec.version ?? '*' };
    const { url, ref: tag } = (source.spec ?? {}) as { url?: string; ref?: { tag?: string; semver?: string; digest?: string } };
    return { name: url?.split('/').at(-1) ?? ref.name, version: tag?.tag ?? tag?.semver ?? tag?.digest ?? 'latest' };
  }

  /** Observed at its generation, with the chart version its source offers now. */
  private upToDate(release: StoredObject): boolean {
    const status = (release.status ?? {}) as Status;
    const chart = this.chartOf(release);
    return status.observedGeneration === release.metadata.generation && 'version' in chart && status.lastAttemptedRevision === chart.version;
  }

  private deployed(release: StoredObject): boolean {
    return (this.revisions.get(keyOf(release)) ?? []).some((r) => r.status === 'deployed');
  }

  /** The release as stored now, unless it went or (its generation changed) another reconcile is on the way. */
  private current(started: StoredObject): StoredObject | undefined {
    if (this.stopped) return undefined;
    const release = this.store.get(HELM_RELEASES, started.metadata.namespace, started.metadata.name);
    return release?.metadata.uid === started.metadata.uid && release.metadata.generation === started.metadata.generation ? release : undefined;
  }

  private writeStatus(release: StoredObject, status: (current: Status) => Status): void {
    this.store.patch(HELM_RELEASES, release.metadata.namespace, release.metadata.name, (current) => ({ ...current, status: status((current.status ?? {}) as Status) }), 'status');
  }
}

const specOf = (release: StoredObject) => (release.spec ?? {}) as HelmReleaseSpec;

const keyOf = (release: StoredObject) => `${release.metadata.namespace}/${release.metadata.name}`;

/** The Helm release's name and namespace, as Flux derives them. */
function installedAs(release: StoredObject): [name: string, namespace: string] {
  const { releaseName, targetNamespace } = specOf(release);
  const { name, namespace } = release.metadata;
  return [releaseName ?? (targetNamespace ? `${targetNamespace}-${name}` : name), targetNamespace ?? namespace!];
}

/** The conditions with Ready replaced; its lastTransitionTime changes only with its status. */
function withReady(status: Status, ready: Condition['status'], reason: string, message: string, release: StoredObject, now: string): Condition[] {
  const conditions = status.conditions ?? [];
  const before = conditions.find((c) => c.type === 'Ready');
  const lastTransitionTime = before?.status === ready ? before.lastTransitionTime : now;
  const condition = { type: 'Ready', status: ready, reason, message, observedGeneration: release.metadata.generation, lastTransitionTime };
  return [condition, ...conditions.filter((c) => c.type !== 'Ready')];
}

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
