import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { DeploymentTask } from '../entities/index.js';
import type { EventHub } from '../events/event-hub.js';
import type { Logger } from '../logging/logger.js';
import { systemContext } from '../request/context.js';
import type { Services } from '../services/index.js';
import { Rounds } from './rounds.js';
import type { TaskExecutor } from './task-executor.js';

const ACTOR = 'task-worker';

export interface TaskWorkerOptions {
  /** tasks run at once by this worker (of different deployments: one deployment's run one at a time) */
  concurrency: number;
  /** how long a claim holds without a heartbeat before another worker may take the task over */
  leaseMs: number;
  /** how often due tasks are looked for besides on events (a lease that ran out, a lost wake-up) */
  pollMs: number;
}

/**
 * How a task run here ended: written Done or Failed; abandoned (its lease was lost, or the worker stopped); taken over
 * (another worker held it by the time its end was written); unrecorded (writing its end failed: it runs again).
 */
export type TaskOutcome = 'done' | 'failed' | 'abandoned' | 'taken_over' | 'unrecorded';

/**
 * Carries out deployment tasks, in the server or alone (`berth worker`); any number may run on one database. It
 * claims due tasks (DeploymentTaskService.claim: FOR UPDATE SKIP LOCKED, a lease), keeps their leases alive while
 * they run, and writes how each ended, all as the system identity `task-worker`. It wakes on every change to a task
 * or a cluster (a new task, a cluster that became healthy), when the next scheduled task is due, and every `pollMs`.
 * A task whose lease this worker lost (it stalled, another took over) is abandoned without writing anything.
 */
export class TaskWorker {
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private readonly finished: { id: string; failure: string | null; output: string; resolve: (held: boolean | null) => void }[] = [];
  private finishing: Promise<void> | undefined;
  private readonly rounds: Rounds;
  private heartbeat: NodeJS.Timeout | undefined;
  /** how the tasks run here ended, since the worker started (metrics) */
  readonly outcomes: Record<TaskOutcome, number> = { done: 0, failed: 0, abandoned: 0, taken_over: 0, unrecorded: 0 };

  constructor(
    private readonly em: SqlEntityManager,
    private readonly services: Services,
    hub: EventHub,
    private readonly executor: TaskExecutor,
    private readonly options: TaskWorkerOptions,
    private readonly logger: Logger,
  ) {
    this.rounds = new Rounds({
      round: () => this.claim(),
      next: () => this.untilNext(),
      failed: (err) => this.logger.warn({ err }, 'claiming deployment tasks failed; trying again'),
      wakeOn: { hub, tables: ['deployment_tasks', 'k8s_clusters'] },
      // a full worker looks again when one of its tasks ends
      wanted: () => this.running.size < this.options.concurrency,
    });
  }

  start(): void {
    this.heartbeat = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.options.leaseMs / 3)));
    this.rounds.start();
  }

  /** Claims no more, abandons what runs (another worker takes it at once) and gives up its leases. */
  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.rounds.stop();
    for (const { abort } of this.running.values()) abort.abort(new Error('the worker is stopping'));
    await Promise.all([...this.running.values()].map((r) => r.done));
    await this.services.deploymentTasks.releaseLeases(this.ctx(), this.id).catch((err: unknown) => this.logger.warn({ err }, 'giving up task leases failed; they run out by themselves'));
  }

  /** the tasks running here (diagnostics, tests) */
  get runningIds(): string[] {
    return [...this.running.keys()];
  }

  private ctx() {
    return systemContext(this.em.fork(), ACTOR);
  }

  private async claim(): Promise<void> {
    // a round starts only with a free slot (`wanted`)
    const free = this.options.concurrency - this.running.size;
    const tasks = await this.services.deploymentTasks.claim(this.ctx(), this.id, free, this.options.leaseMs);
    for (const task of tasks) this.run(task);
  }

  /** The next look without a wake-up: when the next scheduled task is due, or after `pollMs`. */
  private async untilNext(): Promise<number> {
    const due = await this.services.deploymentTasks.nextDue(this.ctx());
    return due ? Math.min(this.options.pollMs, Math.max(0, due.getTime() - Date.now()) + 5) : this.options.pollMs;
  }

  private run(task: DeploymentTask): void {
    const abort = new AbortController();
    const done = this.execute(task, abort.signal).finally(() => {
      this.running.delete(task.id);
      this.rounds.wake();
    });
    this.running.set(task.id, { abort, done });
  }

  private async execute(task: DeploymentTask, signal: AbortSignal): Promise<void> {
    const log = { task: task.id, deployment: task.deployment.id, operation: Object.keys(task.operation)[0] };
    this.logger.info(log, 'deployment task started');
    let outcome: { failure: string | null; output: string };
    try {
      outcome = { failure: null, output: await this.executor.execute(this.ctx(), task, signal) };
    } catch (err) {
      outcome = { failure: err instanceof Error ? err.message : String(err), output: '' };
    }
    if (signal.aborted) {
      this.outcomes.abandoned++;
      this.logger.warn({ ...log, reason: String(signal.reason) }, 'deployment task abandoned; another worker takes it over');
      return;
    }
    // held (its lease renewed) until its end is written
    const finished = await new Promise<boolean | null>((resolve) => {
      this.finished.push({ id: task.id, ...outcome, resolve });
      this.flush();
    });
    this.outcomes[finished === null ? 'unrecorded' : !finished ? 'taken_over' : outcome.failure ? 'failed' : 'done']++;
    if (finished === null) return;
    if (finished) this.logger[outcome.failure ? 'warn' : 'info']({ ...log, failure: outcome.failure }, `deployment task ${outcome.failure ? 'failed' : 'done'}`);
    else this.logger.warn(log, 'deployment task was taken over before it finished here; its outcome is dropped');
  }

  /**
   * Writes the ends of the tasks that finished, those that came while a write was under way together (a group
   * commit: a burst of short tasks costs a few transactions). Resolves each with whether it was still held, or null
   * when the write failed (its lease runs out, and another worker runs it again).
   */
  private flush(): void {
    if (this.finishing) return;
    this.finishing = (async () => {
      while (this.finished.length) {
        const batch = this.finished.splice(0);
        try {
          const held = await this.services.deploymentTasks.finish(this.ctx(), this.id, batch.map(({ id, failure, output }) => ({ id, failure, output })));
          for (const item of batch) item.resolve(held.has(item.id));
        } catch (err) {
          this.logger.error({ err, tasks: batch.map((b) => b.id) }, 'recording the end of deployment tasks failed');
          for (const item of batch) item.resolve(null);
        }
      }
    })().finally(() => (this.finishing = undefined));
  }

  private async renew(): Promise<void> {
    const ids = [...this.running.keys()];
    if (!ids.length) return;
    try {
      const held = await this.services.deploymentTasks.renewLeases(this.ctx(), this.id, ids, this.options.leaseMs);
      for (const id of ids) if (!held.has(id)) this.running.get(id)?.abort.abort(new Error('its lease was lost'));
    } catch (err) {
      this.logger.warn({ err }, 'renewing task leases failed');
    }
  }
}
