import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import {
  Deployment, DeploymentKind, DeploymentResource, DeploymentTask, Env, HelmChart, K8sCluster, K8sResource,
} from '../src/entities/index.js';
import { childLimit } from '../src/graphql/child-limit.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadLatest, loadMany, loadOne, loadRequired } from '../src/services/relations.js';
import { CreateDeploymentInput, DeploymentFilter, latestTask, UpdateDeploymentInput } from '../src/services/deployment.service.js';

const newestTaskFirst = [{ field: 'createdAt', direction: 'DESC' }] as const;

@Resolver(() => Deployment)
export class DeploymentResolver extends ReadResolver({
  node: Deployment,
  filter: DeploymentFilter,
  single: 'deployment',
  plural: 'deployments',
  service: (s) => s.deployments,
}) {
  @Mutation(() => Deployment, { description: 'kind Owner in the cluster\'s env; creates an Install task unless disabled' })
  createDeployment(@Arg('input', () => CreateDeploymentInput) input: CreateDeploymentInput, @Ctx() ctx: GraphQLContext): Promise<Deployment> {
    return ctx.services.deployments.create(ctx, input);
  }

  @Mutation(() => Deployment, { description: 'Maintainer of the deployment; derives Install, Recreate, Upgrade, Uninstall and Reinstall tasks' })
  updateDeployment(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateDeploymentInput) input: UpdateDeploymentInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Deployment> {
    return ctx.services.deployments.update(ctx, id, input);
  }

  @Mutation(() => Deployment, { description: 'kind Owner; marks it Deleting with an Uninstall task, the worker removes it' })
  deleteDeployment(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Deployment> {
    return ctx.services.deployments.delete(ctx, id);
  }

  @FieldResolver(() => K8sCluster)
  cluster(@Root() d: Deployment, @Ctx() ctx: GraphQLContext): Promise<K8sCluster> {
    return loadRequired(ctx, K8sCluster, d.cluster);
  }

  @FieldResolver(() => Env, { nullable: true, description: "the cluster's env" })
  async env(@Root() d: Deployment, @Ctx() ctx: GraphQLContext): Promise<Env | null> {
    const cluster = await loadRequired(ctx, K8sCluster, d.cluster);
    return loadOne(ctx, Env, cluster.env);
  }

  @FieldResolver(() => DeploymentKind)
  kind(@Root() d: Deployment, @Ctx() ctx: GraphQLContext): Promise<DeploymentKind> {
    return loadRequired(ctx, DeploymentKind, d.kind);
  }

  @FieldResolver(() => HelmChart)
  helmChart(@Root() d: Deployment, @Ctx() ctx: GraphQLContext): Promise<HelmChart> {
    return loadRequired(ctx, HelmChart, d.helmChart);
  }

  @FieldResolver(() => DeploymentTask, { nullable: true, description: 'the last successful Install or Upgrade' })
  revision(@Root() d: Deployment, @Ctx() ctx: GraphQLContext): Promise<DeploymentTask | null> {
    return loadOne(ctx, DeploymentTask, d.revision);
  }

  @FieldResolver(() => [DeploymentTask], { description: 'newest first' })
  tasks(
    @Root() d: Deployment,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true, description: 'at most this many' }) first?: number,
  ): Promise<DeploymentTask[]> {
    return loadMany(ctx, DeploymentTask, 'deployment', d.id, { order: newestTaskFirst, limit: childLimit(first) });
  }

  @FieldResolver(() => DeploymentTask, { nullable: true, description: 'the newest task' })
  latestTask(@Root() d: Deployment, @Ctx() ctx: GraphQLContext): Promise<DeploymentTask | null> {
    return loadLatest(ctx, latestTask, d);
  }

  @FieldResolver(() => [K8sResource])
  k8sResources(@Root() d: Deployment, @Ctx() ctx: GraphQLContext): Promise<K8sResource[]> {
    return loadMany(ctx, K8sResource, 'deployment', d.id);
  }

  @FieldResolver(() => [DeploymentResource])
  resources(@Root() d: Deployment, @Ctx() ctx: GraphQLContext): Promise<DeploymentResource[]> {
    return loadMany(ctx, DeploymentResource, 'deployment', d.id);
  }
}
