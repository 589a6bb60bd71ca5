import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Bot, Deployment, DeploymentTask, K8sCluster, User } from '../src/entities/index.js';
import { DeploymentTaskOperationUnion, toOperationObject } from '../src/entities/deployment-task-operation.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadOne, loadRequired } from '../src/services/relations.js';
import { CreateDeploymentTaskInput, DeploymentTaskFilter } from '../src/services/deployment-task.service.js';

@Resolver(() => DeploymentTask)
export class DeploymentTaskResolver extends ReadResolver({
  node: DeploymentTask,
  filter: DeploymentTaskFilter,
  single: 'deploymentTask',
  plural: 'deploymentTasks',
  service: (s) => s.deploymentTasks,
}) {
  @Mutation(() => DeploymentTask, { description: 'Maintainer of the deployment: invokes a chart action or restarts one of its K8s resources' })
  createDeploymentTask(@Arg('input', () => CreateDeploymentTaskInput) input: CreateDeploymentTaskInput, @Ctx() ctx: GraphQLContext): Promise<DeploymentTask> {
    return ctx.services.deploymentTasks.create(ctx, input);
  }

  @Mutation(() => DeploymentTask, { description: "a Pending task: by its actor, an Admin of its env or a site admin" })
  cancelDeploymentTask(
    @Arg('id', () => ID) id: string,
    @Arg('reason', () => String, { nullable: true }) reason: string | null | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DeploymentTask> {
    return ctx.services.deploymentTasks.cancel(ctx, id, reason);
  }

  @FieldResolver(() => DeploymentTaskOperationUnion)
  operation(@Root() task: DeploymentTask): object {
    return toOperationObject(task.operation);
  }

  @FieldResolver(() => K8sCluster)
  cluster(@Root() task: DeploymentTask, @Ctx() ctx: GraphQLContext): Promise<K8sCluster> {
    return loadRequired(ctx, K8sCluster, task.cluster);
  }

  @FieldResolver(() => Deployment)
  deployment(@Root() task: DeploymentTask, @Ctx() ctx: GraphQLContext): Promise<Deployment> {
    return loadRequired(ctx, Deployment, task.deployment);
  }

  @FieldResolver(() => User, { nullable: true })
  actingUser(@Root() task: DeploymentTask, @Ctx() ctx: GraphQLContext): Promise<User | null> {
    return loadOne(ctx, User, task.actingUser);
  }

  @FieldResolver(() => Bot, { nullable: true })
  actingBot(@Root() task: DeploymentTask, @Ctx() ctx: GraphQLContext): Promise<Bot | null> {
    return loadOne(ctx, Bot, task.actingBot);
  }

  @FieldResolver(() => Deployment, { nullable: true })
  actingDeployment(@Root() task: DeploymentTask, @Ctx() ctx: GraphQLContext): Promise<Deployment | null> {
    return loadOne(ctx, Deployment, task.actingDeployment);
  }

  @FieldResolver(() => User, { nullable: true })
  canceledByUser(@Root() task: DeploymentTask, @Ctx() ctx: GraphQLContext): Promise<User | null> {
    return loadOne(ctx, User, task.canceledByUser);
  }

  @FieldResolver(() => Bot, { nullable: true })
  canceledByBot(@Root() task: DeploymentTask, @Ctx() ctx: GraphQLContext): Promise<Bot | null> {
    return loadOne(ctx, Bot, task.canceledByBot);
  }

  @FieldResolver(() => Deployment, { nullable: true })
  canceledByDeployment(@Root() task: DeploymentTask, @Ctx() ctx: GraphQLContext): Promise<Deployment | null> {
    return loadOne(ctx, Deployment, task.canceledByDeployment);
  }
}
