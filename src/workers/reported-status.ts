import type { SqlEntityManager } from '@mikro-orm/sql';
import { openProcessLocks, type ProcessLocks } from '../db/advisory-locks.js';
import type { DatabaseTarget } from '../db/orm.js';
import { statusFeature } from '../deployments/chart-ext.js';
import { describeAnswer, isSuccess, type DeploymentEndpoints, type EndpointAnswer, type EndpointTarget } from '../deployments/endpoint.js';
import type { EventHub } from '../events/event-hub.js';
import type { Logger } from '../logging/logger.js';
import { systemContext } from '../request/context.js';
import { Rounds } from './rounds.js';
import type { Services } from '../services/index.js';
import { isJsonObject } from '../util/json.js';

const ACTOR = 'reported-status';

/** the most of an answer kept as a status: it is written on every poll and streamed to every subscriber */
const MAX_STATUS_CHARS = 64 * 1024;

export interface ReportedStatusOptions {
  /** the shortest time between two polls of one deployment (Platz: 15 s); also how often the deployments to poll are read again */
  minIntervalMs: number;
}

interface Wanted {
  target: EndpointTarget;
  path: string;
  intervalMs: number;
}

interface Poll {
  /** what the poll calls and how often: a change starts it anew */
  key: string;
  abort: AbortController;
  timer?: NodeJS.Timeout;
}

/**
 * Platz's status-updates worker: every enabled deployment whose installed chart has the `status` feature is asked
 * `GET <endpoint><path>` every `max(refresh_interval_secs, minIntervalMs)`, and the answer becomes its
 * `reported_status` in Platz's shape, `{timestamp, get_successful, content, error}` (platz.md section 7), written as
 * the system `reported-status`. A failed poll writes `get_successful: false`, `content: null` and the reason, as
 * Platz does: the Platz frontend reads that shape, and a last good status kept would be shown as current when it is
 * not. Disabled deployments have theirs cleared.
 *
 * Each deployment is polled from one replica: the holder of its cluster's advisory lock (one lock per cluster, not per
 * deployment, since PostgreSQL's lock table is shared and bounded). Its set is read again on every change to a task
 * or a cluster (installs, upgrades, enabling and disabling all go through tasks) and every `minIntervalMs` (a holder
 * that died); not on changes to deployments, which every status written is.
 */
export class ReportedStatusPoller {
  private readonly polls = new Map<string, Poll>();
  /** polls under way, those of deployments no longer polled included: stop() waits for them */
  private readonly reporting = new Set<Promise<void>>();
  /** the clusters whose lock this replica holds */
  private readonly clusters = new Set<string>();
  private locks: ProcessLocks;
  private stopped = false;
  private readonly rounds: Rounds;

  constructor(
    private readonly em: SqlEntityManager,
    private readonly services: Services,
    private readonly database: DatabaseTarget,
    hub: EventHub,
    private readonly endpoints: DeploymentEndpoints,
    private readonly options: ReportedStatusOptions,
    private readonly logger: Logger,
  ) {
    this.locks = openProcessLocks(database, ACTOR);
    this.rounds = new Rounds({
      round: () => this.reconcile(),
      next: () => this.options.minIntervalMs,
      failed: (err) => this.logger.warn({ err }, 'reading the deployments to poll for their status failed; trying again'),
      wakeOn: { hub, tables: ['deployment_tasks', 'k8s_clusters'] },
    });
  }

  start(): void {
    this.rounds.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.rounds.stop();
    for (const id of [...this.polls.keys()]) this.unpoll(id);
    await Promise.all(this.reporting);
    await this.locks.close();
  }

  /** the deployments this replica polls (diagnostics, tests) */
  get deploymentIds(): string[] {
    return [...this.polls.keys()];
  }

  private async reconcile(): Promise<void> {
    if (!this.locks.held) {
      this.logger.warn({}, 'the reported-status locks were lost (database connection); polling nothing until they are taken again');
      for (const id of [...this.polls.keys()]) this.unpoll(id);
      this.clusters.clear();
      await this.locks.close();
      this.locks = openProcessLocks(this.database, ACTOR);
    }
    const ctx = systemContext(this.em.fork(), ACTOR);
    await this.services.deployments.clearReportedStatus(ctx);
    const wanted = new Map<string, Wanted>();
    for (const target of await this.endpoints.find(ctx.em, { enabled: true, revision: { $ne: null } })) {
      const feature = target.chart && statusFeature(target.chart.features);
      if (feature) wanted.set(target.deployment.id, { target, path: feature.path, intervalMs: Math.max(feature.refreshIntervalSecs * 1000, this.options.minIntervalMs) });
    }
    const clusterIds = new Set([...wanted.values()].map((w) => w.target.deployment.cluster.id));
    for (const [id, poll] of this.polls) {
      const want = wanted.get(id);
      if (!want || keyOf(want) !== poll.key) this.unpoll(id);
    }
    for (const id of this.clusters) {
      if (clusterIds.has(id)) continue;
      this.clusters.delete(id);
      await this.locks.release(id).catch(() => undefined);
    }
    for (const id of clusterIds) {
      if (this.stopped) return;
      if (!this.clusters.has(id) && (await this.locks.tryAcquire(id))) this.clusters.add(id);
    }
    for (const [id, want] of wanted) if (!this.polls.has(id) && this.clusters.has(want.target.deployment.cluster.id)) this.poll(id, want);
  }

  /** Polls now, then `intervalMs` after each poll ends, until unpolled. */
  private poll(id: string, want: Wanted): void {
    const poll: Poll = { key: keyOf(want), abort: new AbortController() };
    const round = () => {
      const running = this.report(id, want, poll.abort.signal).finally(() => {
        this.reporting.delete(running);
        if (!poll.abort.signal.aborted) poll.timer = setTimeout(round, want.intervalMs);
      });
      this.reporting.add(running);
    };
    this.polls.set(id, poll);
    round();
  }

  private unpoll(id: string): void {
    const poll = this.polls.get(id);
    if (!poll) return;
    this.polls.delete(id);
    clearTimeout(poll.timer);
    poll.abort.abort(new Error('no longer polled here'));
  }

  /** One poll: the answer, or why there is none, written as the deployment's reported status. Never throws. */
  private async report(id: string, want: Wanted, signal: AbortSignal): Promise<void> {
    let status: Record<string, unknown>;
    try {
      status = reportedStatus(await this.endpoints.call(want.target, { method: 'GET', path: want.path, signal }));
    } catch (err) {
      status = failedStatus(err instanceof Error ? err.message : String(err));
    }
    if (signal.aborted) return;
    try {
      await this.services.deployments.reportStatus(systemContext(this.em.fork(), ACTOR), id, status);
    } catch (err) {
      this.logger.warn({ err, deployment: id }, 'writing a reported status failed');
    }
  }
}

const keyOf = (want: Wanted) => JSON.stringify([want.target.deployment.cluster.id, want.target.endpoint, want.target.namespace, want.path, want.intervalMs]);

const failedStatus = (error: string) => ({ timestamp: new Date().toISOString(), get_successful: false, content: null, error });

/** An answer as Platz keeps it: a 2xx whose body is a PlatzStatus (`{status: {name, color}, metrics, notices, …}`). */
function reportedStatus(answer: EndpointAnswer): Record<string, unknown> {
  if (!isSuccess(answer)) return failedStatus(`The status endpoint answered ${describeAnswer(answer, 500)}`);
  if (answer.text.length > MAX_STATUS_CHARS) return failedStatus(`The status endpoint answered more than ${MAX_STATUS_CHARS} characters`);
  let content: unknown;
  try {
    content = JSON.parse(answer.text);
  } catch {
    return failedStatus(`The status endpoint answered something that is not JSON: ${describeAnswer(answer, 200)}`);
  }
  if (!isJsonObject(content) || !isJsonObject(content.status) || typeof content.status.name !== 'string') {
    return failedStatus('The status endpoint answered JSON without status.name (a PlatzStatus is {status: {name, color}, …})');
  }
  return { timestamp: new Date().toISOString(), get_successful: true, content, error: null };
}
