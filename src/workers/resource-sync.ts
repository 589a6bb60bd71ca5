import type { SqlEntityManager } from '@mikro-orm/sql';
import { openProcessLocks, type ProcessLocks } from '../db/advisory-locks.js';
import type { DatabaseTarget } from '../db/orm.js';
import { lifecycleTarget } from '../deployments/chart-ext.js';
import { describeAnswer, isSuccess, type DeploymentEndpoints } from '../deployments/endpoint.js';
import type { DeploymentResource } from '../entities/index.js';
import { DeploymentResourceSyncStatus } from '../entities/enums.js';
import type { EventHub } from '../events/event-hub.js';
import type { Logger } from '../logging/logger.js';
import { systemContext, type ServiceContext } from '../request/context.js';
import type { Services } from '../services/index.js';
import { Rounds } from './rounds.js';

const ACTOR = 'resource-sync';

/** calls under way at once: one deployment that does not answer holds up no other, and a backlog does not flood */
const CONCURRENCY = 8;

/** the lock whose holder syncs: one replica at a time */
const LEADER = 'leader';

const STEPS = {
  [DeploymentResourceSyncStatus.Creating]: 'create',
  [DeploymentResourceSyncStatus.Updating]: 'update',
  [DeploymentResourceSyncStatus.Deleting]: 'delete',
} as const;

export interface ResourceSyncOptions {
  /** how often resources waiting for a sync are looked for besides on changes to them */
  pollMs: number;
}

/**
 * Platz's resource-sync worker: a deployment resource Creating, Updating or Deleting has its type's lifecycle target
 * for that step called on its deployment's endpoint, with the resource as JSON; then it is Ready (a delete also sets
 * `exists = false`) or Error with the reason. A type with no target for the step, or a resource whose deployment is
 * gone, is Ready at once, as in Platz. It looks on every change to a resource, at start and every `pollMs`.
 *
 * One replica syncs: the holder of an advisory lock (the others stand by and take over on their next look), so no
 * call is made twice by two replicas; within it, one call per resource at a time. A resource that changed while its
 * call was under way is not marked (DeploymentResourceService.recordSync) but called again as it is now.
 */
export class ResourceSync {
  private readonly running = new Map<string, Promise<void>>();
  private locks: ProcessLocks;
  private leading = false;
  /** a look left resources for later, all calls being under way */
  private deferred = false;
  private stopped = false;
  private readonly rounds: Rounds;
  private readonly abort = new AbortController();

  constructor(
    private readonly em: SqlEntityManager,
    private readonly services: Services,
    private readonly database: DatabaseTarget,
    hub: EventHub,
    private readonly endpoints: DeploymentEndpoints,
    private readonly options: ResourceSyncOptions,
    private readonly logger: Logger,
  ) {
    this.locks = openProcessLocks(database, ACTOR);
    this.rounds = new Rounds({
      round: () => this.sweep(),
      next: () => this.options.pollMs,
      failed: (err) => this.logger.warn({ err }, 'looking for deployment resources to sync failed; trying again'),
      wakeOn: { hub, tables: ['deployment_resources'] },
    });
  }

  start(): void {
    this.rounds.start();
  }

  /** Starts no more calls, ends those under way without recording them (the next holder calls again), lets go of the lock. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.rounds.stop();
    this.abort.abort(new Error('the resource sync is stopping'));
    await Promise.all(this.running.values());
    await this.locks.close();
  }

  private async sweep(): Promise<void> {
    if (!this.locks.held) {
      this.logger.warn({}, 'the resource sync lock was lost (database connection); taking it again before any call');
      this.leading = false;
      await this.locks.close();
      this.locks = openProcessLocks(this.database, ACTOR);
    }
    // held until the connection ends: asked again only when not held (pg's advisory locks stack)
    this.leading ||= await this.locks.tryAcquire(LEADER);
    if (!this.leading) return;
    this.deferred = false;
    for (const id of await this.services.deploymentResources.unsynced(this.ctx())) {
      if (this.stopped) return;
      if (this.running.has(id)) continue;
      if (this.running.size >= CONCURRENCY) {
        this.deferred = true;
        return;
      }
      const done = this.sync(id)
        .catch((err: unknown) => {
          this.logger.warn({ err, resource: id }, 'syncing a deployment resource failed; tried again on the next look');
          return false;
        })
        .then((again) => {
          this.running.delete(id);
          if (again || this.deferred) this.rounds.wake();
        });
      this.running.set(id, done);
    }
  }

  private ctx(): ServiceContext {
    return systemContext(this.em.fork(), ACTOR);
  }

  /** Calls for one resource as it is now and records the outcome; true when it changed meanwhile and needs another look. */
  private async sync(id: string): Promise<boolean> {
    const resource = await this.services.deploymentResources.syncable(this.ctx(), id);
    if (!resource) return false;
    const failure = await this.call(resource);
    if (this.abort.signal.aborted) return false;
    const recorded = await this.services.deploymentResources.recordSync(this.ctx(), resource, failure);
    const log = { resource: id, name: resource.name, step: resource.syncStatus, failure };
    if (recorded) this.logger[failure === null ? 'info' : 'warn'](log, failure === null ? 'deployment resource synced' : 'deployment resource sync failed');
    else this.logger.info(log, 'deployment resource changed during its sync; syncing it again');
    return !recorded;
  }

  /** The lifecycle call for the resource's step: null when done (or nothing to call), else why it failed. */
  private async call(resource: DeploymentResource): Promise<string | null> {
    const target = lifecycleTarget(resource.type.spec, STEPS[resource.syncStatus as keyof typeof STEPS]);
    // nothing to call, or nobody to call (its deployment was deleted): done, as Platz does
    if (!target || !resource.deployment) return null;
    try {
      const [deployment] = await this.endpoints.find(this.ctx().em, { id: resource.deployment.id });
      const answer = await this.endpoints.call(deployment, { ...target, body: platzResource(resource), signal: this.abort.signal });
      return isSuccess(answer) ? null : `The deployment answered ${describeAnswer(answer)}`;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
}

/** The resource as Platz sends it to its deployment: its row, snake_case, sensitive props included (they are the deployment's). */
const platzResource = (r: DeploymentResource) => ({
  id: r.id,
  created_at: r.createdAt.toISOString(),
  type_id: r.type.id,
  deployment_id: r.deployment?.id ?? null,
  name: r.name,
  exists: r.exists,
  props: r.props,
  sync_status: r.syncStatus,
  sync_reason: r.syncReason ?? null,
});
