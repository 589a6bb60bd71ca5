import { LockMode } from '@mikro-orm/core';
import { Field, ID, InputType } from 'type-graphql';
import { GraphQLJSON } from '../util/json-scalars.js';
import { Deployment, DeploymentTask, HelmChart, K8sCluster, K8sResource } from '../entities/index.js';
import type { DeploymentTaskOperation } from '../entities/deployment-task-operation.js';
import { DeploymentTaskStatus } from '../entities/enums.js';
import { findMaintainedDeployment } from '../deployments/access.js';
import { actionIds } from '../deployments/chart-ext.js';
import { cancelingIdentity, isTaskActor, newTask } from '../deployments/tasks.js';
import { badInput, conflict, forbidden, notFound } from '../errors/domain-error.js';
import { findVisible, isEnvAdmin, requireSystem } from '../policy/permissions.js';
import { changesDeployment, whenFinished, whenStarted, type StatusChange } from '../deployments/task-lifecycle.js';
import type { ServiceContext } from '../request/context.js';
import { snapshot, type Audit, type UnitOfWork } from './unit-of-work.js';
import { assertUuid, compact, optionalUuid } from '../request/where.js';
import { ReadService } from './read-service.js';
import { grantsOf } from '../policy/grants.js';

@InputType()
export class DeploymentTaskFilter {
  @Field(() => ID, { nullable: true }) clusterId?: string;
  @Field(() => ID, { nullable: true }) deploymentId?: string;
  @Field(() => ID, { nullable: true, description: "the task cluster's env" }) envId?: string;
  @Field({ nullable: true, description: 'only Pending or Started tasks' }) activeOnly?: boolean;
  @Field({ nullable: true, description: 'false keeps only tasks due now or earlier (default true)' }) showFuture?: boolean;
  @Field({ nullable: true, description: 'created at or after' }) createdFrom?: Date;
  @Field(() => DeploymentTaskStatus, { nullable: true }) status?: DeploymentTaskStatus;
}

@InputType()
export class InvokeActionInput {
  @Field(() => ID, { description: "must be the deployment's current chart" }) helmChartId!: string;
  @Field({ description: "an action of the chart's actions schema" }) actionId!: string;
  @Field(() => GraphQLJSON, { nullable: true, description: 'default {}' }) body?: unknown;
}

@InputType()
export class RestartK8sResourceInput {
  @Field(() => ID) resourceId!: string;
  @Field() resourceName!: string;
}

@InputType({ description: 'exactly one of invokeAction and restartK8sResource' })
export class CreateDeploymentTaskInput {
  @Field(() => ID) deploymentId!: string;
  @Field(() => Date, { nullable: true, description: 'schedules the task (default now); at most a minute in the past' }) executeAt?: Date | null;
  @Field(() => InvokeActionInput, { nullable: true }) invokeAction?: InvokeActionInput | null;
  @Field(() => RestartK8sResourceInput, { nullable: true }) restartK8sResource?: RestartK8sResourceInput | null;
}

/** How far in the past executeAt may be: clocks and requests take a little time. */
const EXECUTE_AT_SLACK_MS = 60_000;

export class DeploymentTaskService extends ReadService<DeploymentTask, DeploymentTaskFilter> {
  constructor(private readonly uow: UnitOfWork) {
    super({
      entity: DeploymentTask,
      // latest due first, as Platz lists them
      order: [{ field: 'executeAt', direction: 'DESC' }],
      where: (f) => {
        const envId = optionalUuid(f.envId, 'envId');
        const clusterId = optionalUuid(f.clusterId, 'clusterId');
        const conditions: object[] = [
          compact({
            cluster: envId ? { env: envId, ...compact({ id: clusterId }) } : clusterId,
            deployment: optionalUuid(f.deploymentId, 'deploymentId'),
            status: f.status,
            createdAt: f.createdFrom ? { $gte: f.createdFrom } : undefined,
            executeAt: f.showFuture === false ? { $lte: new Date() } : undefined,
          }),
        ];
        if (f.activeOnly) conditions.push({ status: { $in: [DeploymentTaskStatus.Pending, DeploymentTaskStatus.Started] } });
        return { $and: conditions };
      },
    });
  }

  /** Maintainer of the deployment (Platz checked only RestartK8sResource). The task acts for the caller. */
  create(ctx: ServiceContext, input: CreateDeploymentTaskInput): Promise<DeploymentTask> {
    return this.uow.mutation(ctx, 'createDeploymentTask', async (tx, audit) => {
      if (!input.invokeAction === !input.restartK8sResource) throw badInput('input', 'Give exactly one of input.invokeAction and input.restartK8sResource');
      if (input.executeAt && input.executeAt.getTime() < Date.now() - EXECUTE_AT_SLACK_MS) throw badInput('input.executeAt', 'input.executeAt is in the past');
      if (input.invokeAction && !input.invokeAction.actionId.trim()) throw badInput('input.invokeAction.actionId', 'input.invokeAction.actionId must not be empty');
      const { deployment, envId } = await findMaintainedDeployment(tx, input.deploymentId, 'input.deploymentId');

      let operation: DeploymentTaskOperation;
      if (input.invokeAction) {
        const { helmChartId, actionId, body } = input.invokeAction;
        if (assertUuid(helmChartId, 'input.invokeAction.helmChartId') !== deployment.helmChart.id) {
          throw conflict("The action's chart is not the deployment's current chart; reload and try again");
        }
        const chart = (await tx.loaders.byId(HelmChart).load(deployment.helmChart.id))!;
        if (!actionIds(chart.actionsSchema).has(actionId)) throw badInput('input.invokeAction.actionId', `The chart has no action ${actionId}`);
        operation = { InvokeAction: { helm_chart_id: helmChartId.toLowerCase(), action_id: actionId, body: body ?? {} } };
      } else {
        const { resourceId, resourceName } = input.restartK8sResource!;
        const resource = await findVisible(tx, K8sResource, resourceId, 'input.restartK8sResource.resourceId');
        if (resource.deployment?.id !== deployment.id) throw notFound('K8sResource');
        if (resource.name !== resourceName) throw badInput('input.restartK8sResource.resourceName', `The resource is named ${resource.name}, not ${resourceName}`);
        operation = { RestartK8sResource: { resource_id: resource.id, resource_name: resource.name } };
      }
      const task = newTask(tx, deployment, operation, { executeAt: input.executeAt ?? undefined });
      audit({ targetType: 'DeploymentTask', targetId: task.id, envId, after: snapshot(task) });
      return task;
    });
  }

  /**
   * The task's own actor, an Admin of its env, or a site admin; only while Pending, and, with `leadMs`, only while its
   * execute_at is at least that far ahead (Platz's API cancels only tasks at least 5 minutes away).
   */
  cancel(ctx: ServiceContext, id: string, reason: string | null | undefined, options: { leadMs?: number } = {}): Promise<DeploymentTask> {
    return this.uow.mutation(ctx, 'cancelDeploymentTask', async (tx, audit) => {
      const task = await findVisible(tx, DeploymentTask, id);
      // the worker claims Pending tasks with FOR UPDATE SKIP LOCKED: locked here, a task is either claimed or canceled
      await tx.em.refresh(task, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const cluster = await tx.loaders.byId(K8sCluster).load(task.cluster.id);
      const envId = cluster?.env?.id ?? null;
      const g = await grantsOf(tx);
      if (!isTaskActor(task, g.identity) && !isEnvAdmin(g, envId)) throw forbidden('Only the identity that created the task, or an admin of its env, may cancel it');
      if (options.leadMs !== undefined && task.executeAt.getTime() < Date.now() + options.leadMs) throw forbidden('Cannot cancel task which is closed to being executed');
      if (task.status !== DeploymentTaskStatus.Pending) throw conflict(`Only Pending tasks can be canceled; this one is ${task.status}`);
      const old = snapshot(task);
      Object.assign(task, {
        status: DeploymentTaskStatus.Canceled,
        finishedAt: new Date(),
        reason: reason ?? task.reason ?? null,
        ...cancelingIdentity(tx, g.identity),
      });
      audit({ targetType: 'DeploymentTask', targetId: task.id, envId, before: old, after: snapshot(task) });
      return task;
    });
  }

  /**
   * The task worker takes up to `limit` tasks that are due: Pending with `execute_at` reached, or Started under a
   * lease that ran out (its worker died; `first_attempted_at` is kept), on a cluster that is watched and healthy,
   * and with no earlier due task of the same deployment unfinished and none of it running. Rows are claimed with
   * FOR UPDATE SKIP LOCKED, so workers never take the same task; each becomes Started under `worker`'s lease, and
   * its deployment's status follows (audited as the system).
   */
  claim(ctx: ServiceContext, worker: string, limit: number, leaseMs: number): Promise<DeploymentTask[]> {
    return this.uow.mutation(ctx, 'startDeploymentTasks', async (tx, audit) => {
      requireSystem(tx);
      const rows: Record<string, unknown>[] = await tx.em.getConnection().execute(
        `update deployment_tasks t set status = 'Started', started_at = now(), first_attempted_at = coalesce(t.first_attempted_at, now()),
           claimed_by = ?, lease_expires_at = now() + ? * interval '1 millisecond'
         where t.id in (
           select c.id from deployment_tasks c
           join k8s_clusters k on k.id = c.cluster_id and not k.ignore and k.is_ok
           where ((c.status = 'Pending' and c.execute_at <= now()) or (c.status = 'Started' and c.lease_expires_at < now()))
             and not exists (
               select 1 from deployment_tasks e
               where e.deployment_id = c.deployment_id and e.id <> c.id
                 and (e.status = 'Started' or (e.status = 'Pending' and e.execute_at <= now() and (e.created_at, e.id) < (c.created_at, c.id))))
           order by c.execute_at, c.created_at, c.id
           limit ?
           for update of c skip locked)
         returning t.*`,
        [worker, leaseMs, limit],
        'all',
        tx.em.getTransactionContext(),
      );
      // mapped from what the update returned: claiming a burst costs no further read
      const tasks = rows.map((row) => tx.em.map(DeploymentTask, row)).sort((a, b) => a.executeAt.getTime() - b.executeAt.getTime() || a.createdAt.getTime() - b.createdAt.getTime());
      await this.follow(tx, audit, tasks, (task, deployment) => whenStarted(task.operation, deployment.status));
      return tasks;
    });
  }

  /** When the next scheduled Pending task is due (null: none is scheduled). */
  async nextDue(ctx: ServiceContext): Promise<Date | null> {
    requireSystem(ctx);
    const [row] = await ctx.em.getConnection().execute<{ due: Date | null }[]>(`select min(execute_at) as due from deployment_tasks where status = 'Pending' and execute_at > now()`);
    return row?.due ? new Date(row.due) : null;
  }

  /** Extends the leases `worker` still holds; returns the ids it holds (a task missing was taken over, or canceled). */
  async renewLeases(ctx: ServiceContext, worker: string, ids: string[], leaseMs: number): Promise<Set<string>> {
    requireSystem(ctx);
    if (!ids.length) return new Set();
    // no change anyone sees (the trigger ignores the lease): no unit of work, no event
    const rows: { id: string }[] = await ctx.em.getConnection().execute(
      `update deployment_tasks set lease_expires_at = now() + ? * interval '1 millisecond'
       where claimed_by = ? and status = 'Started' and id in (select value::uuid from jsonb_array_elements_text(?::jsonb)) returning id`,
      [leaseMs, worker, JSON.stringify(ids)],
    );
    return new Set(rows.map((r) => r.id));
  }

  /** A worker that stops gives its tasks up at once, for another worker to take them without waiting out the lease. */
  async releaseLeases(ctx: ServiceContext, worker: string): Promise<void> {
    requireSystem(ctx);
    await ctx.em.getConnection().execute(`update deployment_tasks set claimed_by = null, lease_expires_at = now() where claimed_by = ? and status = 'Started'`, [worker]);
  }

  /**
   * The end of tasks `worker` holds, in one transaction (a worker finishing many tasks at once writes them
   * together): each Done with the executor's output, or Failed with why; their deployments' status and revision
   * follow. Returns the ids it still held: a task missing was taken over by another worker (its lease ran out).
   */
  finish(ctx: ServiceContext, worker: string, outcomes: { id: string; failure: string | null; output: string }[]): Promise<Set<string>> {
    return this.uow.mutation(ctx, 'finishDeploymentTasks', async (tx, audit) => {
      requireSystem(tx);
      const ends = outcomes.map(({ id, failure, output }) => ({
        id,
        status: failure === null ? DeploymentTaskStatus.Done : DeploymentTaskStatus.Failed,
        reason: (failure ?? output).slice(0, 10_000) || null,
      }));
      // one statement for the lot; the task's own row says who ran it and how it ended (and its events stream it):
      // the audit is for its deployment
      const rows: Record<string, unknown>[] = await tx.em.getConnection().execute(
        `update deployment_tasks t set status = o.status::deployment_task_status, finished_at = now(), reason = o.reason, claimed_by = null, lease_expires_at = null
         from jsonb_to_recordset(?::jsonb) as o(id uuid, status text, reason text)
         where t.id = o.id and t.claimed_by = ? and t.status = 'Started'
         returning t.*`,
        [JSON.stringify(ends), worker],
        'all',
        tx.em.getTransactionContext(),
      );
      const tasks = rows.map((row) => tx.em.map(DeploymentTask, row));
      const failures = new Map(outcomes.map((o) => [o.id, o.failure]));
      await this.follow(tx, audit, tasks, (task, deployment) => whenFinished(task.operation, deployment.status, failures.get(task.id) ?? null));
      return new Set(tasks.map((t) => t.id));
    });
  }

  /** The deployments as their tasks leave them, audited (a deployment deleted meanwhile is left alone). */
  private async follow(tx: ServiceContext, audit: Audit, tasks: DeploymentTask[], change: (task: DeploymentTask, deployment: Deployment) => StatusChange): Promise<void> {
    const changing = tasks.filter((t) => changesDeployment(t.operation));
    if (!changing.length) return;
    const deployments = new Map((await tx.em.find(Deployment, { id: { $in: changing.map((t) => t.deployment.id) } })).map((d) => [d.id, d]));
    for (const task of changing) {
      const deployment = deployments.get(task.deployment.id);
      if (!deployment) continue;
      const { status, reason, revision } = change(task, deployment);
      const old = snapshot(deployment);
      if (status !== undefined) deployment.status = status;
      if (reason !== undefined) deployment.reason = reason;
      if (revision) deployment.revision = revision === 'task' ? task : null;
      if (JSON.stringify(old) !== JSON.stringify(snapshot(deployment))) audit({ targetType: 'Deployment', targetId: deployment.id, before: old, after: snapshot(deployment) });
    }
  }

}
