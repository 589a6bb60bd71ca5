import {
  AppsV1Api, BatchV1Api, CoreV1Api, NetworkingV1Api, type KubeConfig, type KubernetesListObject, type KubernetesObject, type V1Namespace,
} from '@kubernetes/client-node';
import type { Logger } from '../logging/logger.js';
import { isUuid } from '../entities/uuid.js';
import { MIRRORED_KINDS, mirroredObject, type MirrorBatch, type MirroredObject } from './mirrored-object.js';
import { ResourceWatch } from './resource-watch.js';

/** Namespaces of Berth's deployments carry this label, and name their deployment in the annotation. */
export const NAMESPACE_LABEL = 'platz=yes';
export const DEPLOYMENT_ANNOTATION = 'platz_deployment_id';

export interface ClusterWatchOptions {
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** how long changes gather before they are written (0: only while the previous batch is being written) */
  flushMs: number;
  /** a batch this large is written at once */
  batchSize: number;
}

/** Where a cluster's watch sends what it saw. */
export interface ClusterWatchSink {
  write(batch: MirrorBatch): Promise<void>;
  /** the cluster answers every watch (true), or one failed (false, with why, never a credential) */
  health(ok: boolean, reason: string | null): void;
  /** the deployments whose namespaces exist now: after the namespaces are listed, and when one goes */
  namespacesNow(deploymentIds: string[]): void;
}

type Kind = (typeof MIRRORED_KINDS)[number];
type List = KubernetesListObject<KubernetesObject>;

/** How each mirrored kind is listed across namespaces (list items come without kind and apiVersion). */
const LISTS: Record<Kind['kind'], (kc: KubeConfig) => () => Promise<List>> = {
  Deployment: (kc) => () => kc.makeApiClient(AppsV1Api).listDeploymentForAllNamespaces() as Promise<List>,
  StatefulSet: (kc) => () => kc.makeApiClient(AppsV1Api).listStatefulSetForAllNamespaces() as Promise<List>,
  Job: (kc) => () => kc.makeApiClient(BatchV1Api).listJobForAllNamespaces() as Promise<List>,
  Pod: (kc) => () => kc.makeApiClient(CoreV1Api).listPodForAllNamespaces() as Promise<List>,
  Service: (kc) => () => kc.makeApiClient(CoreV1Api).listServiceForAllNamespaces() as Promise<List>,
  Ingress: (kc) => () => kc.makeApiClient(NetworkingV1Api).listIngressForAllNamespaces() as Promise<List>,
};

/**
 * What runs in one cluster, mirrored: the namespaces labelled `platz=yes` and, in them, the mirrored kinds. Changes
 * gather for `flushMs` (or `batchSize` of them) and are written as one batch, one batch at a time; a batch that
 * fails to be written is kept and tried again, so nothing the watch saw is lost.
 */
export class ClusterWatch {
  private readonly namespaces: ResourceWatch<V1Namespace>;
  private readonly kinds: { kind: Kind; watch: ResourceWatch<KubernetesObject> }[];
  /** namespace → the deployment it names (null: labelled, but naming none) */
  private readonly deploymentOf = new Map<string, string | null>();
  private readonly health = new Map<string, string | null>();
  private reported: string | null | undefined;

  private pending = new Map<string, MirrorBatch['upserts'][number] | 'deleted'>();
  private relisted = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private stopped = false;
  private kindsStarted = false;

  constructor(
    kc: KubeConfig,
    private readonly sink: ClusterWatchSink,
    private readonly options: ClusterWatchOptions,
    private readonly logger: Logger,
  ) {
    const backoff = { backoffBaseMs: options.backoffBaseMs, backoffMaxMs: options.backoffMaxMs };
    const core = kc.makeApiClient(CoreV1Api);
    this.namespaces = new ResourceWatch<V1Namespace>(
      kc,
      '/api/v1/namespaces',
      () => core.listNamespace({ labelSelector: NAMESPACE_LABEL }),
      {
        changed: (ns) => this.namespaceChanged(ns),
        removed: (ns) => this.namespaceRemoved(ns.metadata?.name),
        listed: (list) => {
          const names = new Set(list.map((ns) => ns.metadata?.name));
          for (const name of [...this.deploymentOf.keys()]) if (!names.has(name)) this.namespaceRemoved(name);
          for (const ns of list) this.namespaceChanged(ns);
          this.reportNamespaces();
          if (!this.kindsStarted && !this.stopped) {
            this.kindsStarted = true;
            for (const { watch } of this.kinds) watch.start();
          }
        },
        health: (ok, err) => this.setHealth('namespaces', ok, err),
      },
      { ...backoff, labelSelector: NAMESPACE_LABEL },
    );
    this.kinds = MIRRORED_KINDS.map((kind) => ({
      kind,
      watch: new ResourceWatch<KubernetesObject>(
        kc,
        kind.path,
        LISTS[kind.kind](kc),
        {
          changed: (o) => this.changed(kind, o),
          removed: (o) => this.removed(kind, o),
          listed: (list) => this.listed(kind, list),
          health: (ok, err) => this.setHealth(kind.kind, ok, err),
        },
        backoff,
      ),
    }));
  }

  /** The namespaces first: the kinds start once it is known which namespaces are Berth's. */
  start(): void {
    this.namespaces.start();
  }

  /** Stops watching and writes what was still gathering. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.namespaces.stop(), ...this.kinds.map(({ watch }) => watch.stop())]);
    clearTimeout(this.timer);
    await this.flush();
  }

  private namespaceChanged(ns: V1Namespace): void {
    const name = ns.metadata?.name;
    if (!name) return;
    const named = ns.metadata?.annotations?.[DEPLOYMENT_ANNOTATION];
    const deploymentId = named && isUuid(named) ? named.toLowerCase() : null;
    const known = this.deploymentOf.has(name);
    this.deploymentOf.set(name, deploymentId);
    // what the kinds already saw in it becomes the deployment's
    if (!known || this.deploymentOf.get(name) !== deploymentId) {
      for (const { kind, watch } of this.kinds) for (const o of watch.objects(name)) this.changed(kind, o);
    }
  }

  private namespaceRemoved(name: string | undefined): void {
    if (!name || !this.deploymentOf.has(name)) return;
    const deploymentId = this.deploymentOf.get(name);
    this.deploymentOf.delete(name);
    for (const { watch } of this.kinds) for (const o of watch.objects(name)) if (o.metadata?.uid) this.gather(o.metadata.uid, 'deleted');
    if (deploymentId) this.reportNamespaces();
  }

  private reportNamespaces(): void {
    this.sink.namespacesNow([...new Set([...this.deploymentOf.values()].filter((id): id is string => id !== null))]);
  }

  private changed(kind: Kind, object: KubernetesObject): void {
    const row: MirroredObject | null = mirroredObject(kind, object);
    if (!row) return;
    this.relisted.get(kind.kind)?.add(row.id);
    // outside Berth's namespaces: not mirrored (a namespace that stops being one takes its rows with it)
    if (!this.deploymentOf.has(row.namespace)) return;
    this.gather(row.id, { ...row, deploymentId: this.deploymentOf.get(row.namespace) ?? null });
  }

  private removed(kind: Kind, object: KubernetesObject): void {
    const uid = object.metadata?.uid;
    if (!uid) return;
    this.relisted.get(kind.kind)?.delete(uid);
    this.gather(uid, 'deleted');
  }

  private listed(kind: Kind, objects: KubernetesObject[]): void {
    this.relisted.set(kind.kind, new Set(objects.map((o) => o.metadata?.uid).filter((uid): uid is string => !!uid && isUuid(uid))));
    this.schedule();
  }

  private gather(uid: string, change: MirrorBatch['upserts'][number] | 'deleted'): void {
    this.pending.set(uid, change);
    this.schedule();
  }

  private schedule(): void {
    if (this.pending.size >= this.options.batchSize) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else if (!this.timer && !this.stopped) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.options.flushMs);
    }
  }

  /** Writes what gathered, one batch at a time; a failed batch goes back under what came after it. */
  private async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (!this.pending.size && !this.relisted.size) return;
    const taken = this.pending;
    const relisted = this.relisted;
    this.pending = new Map();
    this.relisted = new Map();
    const batch: MirrorBatch = { upserts: [], deletes: [], relisted: [...relisted].map(([kind, ids]) => ({ kind, ids: [...ids] })) };
    for (const [uid, change] of taken) {
      if (change === 'deleted') batch.deletes.push(uid);
      else batch.upserts.push(change);
    }
    this.writing = this.sink.write(batch).then(
      () => undefined,
      (err: unknown) => {
        this.logger.warn({ err }, 'writing the mirror failed; trying again');
        for (const [uid, change] of taken) if (!this.pending.has(uid)) this.pending.set(uid, change);
        for (const [kind, ids] of relisted) if (!this.relisted.has(kind)) this.relisted.set(kind, ids);
        if (!this.stopped) this.timer ??= setTimeout(() => ((this.timer = undefined), void this.flush()), 1000);
      },
    );
    await this.writing;
    this.writing = undefined;
    if (this.pending.size >= this.options.batchSize) await this.flush();
  }

  private setHealth(watch: string, ok: boolean, err?: unknown): void {
    this.health.set(watch, ok ? null : `${watch}: ${reasonOf(err)}`);
    if (this.health.size < this.kinds.length + 1 && ok) return; // healthy once every watch has listed
    const reason = [...this.health.values()].find((r) => r !== null) ?? null;
    if (reason === this.reported) return;
    this.reported = reason;
    this.sink.health(reason === null, reason);
  }
}

/** Why a watch failed, in words a person can act on; client-node's errors carry the API server's status, never the request's credentials. */
function reasonOf(err: unknown): string {
  const e = err as { code?: number | string; statusCode?: number; message?: string; cause?: { message?: string; code?: string } } | undefined;
  const status = e?.code ?? e?.statusCode;
  if (status === 401) return 'the credentials were refused (401 Unauthorized)';
  if (status === 403) return 'not allowed to list and watch (403 Forbidden): check the RBAC of Berth\'s service account';
  // fetch says only "fetch failed"; why (a certificate, a refused connection) is its cause
  const cause = e?.cause?.message ? `: ${e.cause.message}${e.cause.code ? ` (${e.cause.code})` : ''}` : '';
  const message = `${e?.message ?? String(err)}${cause}`.split('\n')[0].slice(0, 300);
  return typeof status === 'number' ? `HTTP ${status}: ${message}` : message;
}
