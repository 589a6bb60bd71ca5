import type { SqlEntityManager } from '@mikro-orm/sql';
import type { DatabaseTarget } from '../db/orm.js';
import { openProcessLocks, type ProcessLocks } from '../db/advisory-locks.js';
import type { EventHub } from '../events/event-hub.js';
import type { ClusterWatch, ClusterWatchOptions, ClusterWatchSink } from '../k8s/cluster-watch.js';
import type { Logger } from '../logging/logger.js';
import { systemContext } from '../request/context.js';
import { Rounds } from './rounds.js';
import type { Services } from '../services/index.js';

const ACTOR = 'k8s-watch';

export interface ClusterWatcherOptions extends ClusterWatchOptions {
  /** how often the clusters to watch are read again besides on every change to a cluster (a holder that died, a lost change) */
  pollMs: number;
}

/**
 * Watches every cluster that is not ignored, each from exactly one replica: the one holding the cluster's lock
 * (src/db/advisory-locks.ts). On every change to a cluster, and every `pollMs`, it starts what became watchable (or
 * whose holder died), stops what was ignored, deleted or re-imported, and lets go of everything when its locks are lost. It writes through the services
 * as the system identity `k8s-watch`. Nothing here blocks start-up or a request: a cluster that does not answer
 * only shows as `isOk = false`.
 */
export class ClusterWatcher {
  private readonly watching = new Map<string, { watch: ClusterWatch; version: string }>();
  private locks: ProcessLocks;
  private readonly rounds: Rounds;
  private stopped = false;

  constructor(
    private readonly em: SqlEntityManager,
    private readonly services: Services,
    private readonly database: DatabaseTarget,
    hub: EventHub,
    private readonly options: ClusterWatcherOptions,
    private readonly logger: Logger,
  ) {
    this.locks = openProcessLocks(database, ACTOR);
    this.rounds = new Rounds({
      round: () => this.reconcile(),
      next: () => options.pollMs,
      failed: (err) => this.logger.warn({ err }, 'reading the clusters to watch failed; trying again'),
      wakeOn: { hub, tables: ['k8s_clusters'] },
    });
  }

  start(): void {
    this.rounds.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.rounds.stop();
    await Promise.all([...this.watching.keys()].map((id) => this.unwatch(id)));
    await this.locks.close();
  }

  /** the clusters this replica watches (diagnostics, tests) */
  get clusterIds(): string[] {
    return [...this.watching.keys()];
  }

  /** how many times the clusters to watch were read (tests wait on it rather than on the clock) */
  readings = 0;

  private async reconcile(): Promise<void> {
    if (!this.locks.held) {
      this.logger.warn({}, 'the cluster watch locks were lost (database connection); stopping every watch until they are taken again');
      await Promise.all([...this.watching.keys()].map((id) => this.unwatch(id)));
      await this.locks.close();
      this.locks = openProcessLocks(this.database, ACTOR);
    }
    const wanted = await this.services.k8sClusters.watchable(systemContext(this.em.fork(), ACTOR));
    this.readings++;
    const ids = new Set(wanted.map((c) => c.id));
    for (const id of this.watching.keys()) if (!ids.has(id)) await this.unwatch(id);
    for (const cluster of wanted) {
      if (this.stopped) return;
      const current = this.watching.get(cluster.id);
      if (current?.version === cluster.version) continue;
      if (current) await this.unwatch(cluster.id);
      if (!(await this.locks.tryAcquire(cluster.id))) continue;
      // loaded with the first cluster to watch: @kubernetes/client-node takes about 300 ms and 70 MB to load
      const { ClusterWatch } = await import('../k8s/cluster-watch.js');
      const { kubeConfigFor } = await import('../k8s/kube-config.js');
      const watch = new ClusterWatch(kubeConfigFor(cluster.credentials()), this.sink(cluster.id, cluster.name), this.options, this.logger);
      this.watching.set(cluster.id, { watch, version: cluster.version });
      this.logger.info({ cluster: cluster.name }, 'watching cluster');
      watch.start();
    }
  }

  private async unwatch(id: string): Promise<void> {
    const current = this.watching.get(id);
    if (!current) return;
    this.watching.delete(id);
    await current.watch.stop();
    await this.locks.release(id).catch(() => undefined);
  }

  /** Where one cluster's watch writes, each write a unit of work of its own as `k8s-watch`. */
  private sink(clusterId: string, name: string): ClusterWatchSink {
    const ctx = () => systemContext(this.em.fork(), ACTOR);
    const report = (what: string) => (err: unknown) => this.logger.warn({ err, cluster: name }, `${what} failed`);
    // one health write at a time, so the last one reported is the one that stays
    let health = Promise.resolve();
    return {
      write: (batch) => this.services.k8sResources.mirror(ctx(), clusterId, batch),
      health: (ok, reason) => {
        this.logger[ok ? 'info' : 'warn']({ cluster: name, reason }, ok ? 'cluster watch healthy' : 'cluster watch failing');
        health = health.then(() => this.services.k8sClusters.recordHealth(ctx(), clusterId, { isOk: ok, notOkReason: reason })).then(() => undefined, report('recording cluster health'));
      },
      namespacesNow: (deploymentIds) => {
        void this.services.deployments.settleNamespaces(ctx(), clusterId, deploymentIds).catch(report('settling deployments whose namespace is gone'));
      },
    };
  }
}
