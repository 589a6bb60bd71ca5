import { Field, ID, InputType } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { DeploymentTask, HelmChart, K8sCluster, K8sResource } from '../entities/index.js';
import type { DeploymentTaskOperation } from '../entities/deployment-task-operation.js';
import { DeploymentTaskStatus } from '../entities/enums.js';
import { findMaintainedDeployment } from '../deployments/access.js';
import { actionIds } from '../deployments/chart-ext.js';
import { cancelingIdentity, isTaskActor, newTask } from '../deployments/tasks.js';
import { badInput, conflict, forbidden, notFound } from '../errors/domain-error.js';
import { findVisible, isEnvAdmin } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
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
        const envId = optionalUuid(f.envId, 'filter.envId');
        const clusterId = optionalUuid(f.clusterId, 'filter.clusterId');
        const conditions: object[] = [
          compact({
            cluster: envId ? { env: envId, ...compact({ id: clusterId }) } : clusterId,
            deployment: optionalUuid(f.deploymentId, 'filter.deploymentId'),
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

  /** The task's own actor, an Admin of its env, or a site admin; only while Pending. */
  cancel(ctx: ServiceContext, id: string, reason: string | null | undefined): Promise<DeploymentTask> {
    return this.uow.mutation(ctx, 'cancelDeploymentTask', async (tx, audit) => {
      const task = await findVisible(tx, DeploymentTask, id);
      const cluster = await tx.loaders.byId(K8sCluster).load(task.cluster.id);
      const envId = cluster?.env?.id ?? null;
      const g = await grantsOf(tx);
      if (!isTaskActor(task, g.identity) && !isEnvAdmin(g, envId)) throw forbidden('Only the identity that created the task, or an admin of its env, may cancel it');
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
}
