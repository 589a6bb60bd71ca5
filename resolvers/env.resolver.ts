import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Deployment, DeploymentPermission, Env, EnvUserPermission, K8sCluster, Secret, User } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadMany, loadOne } from '../src/services/relations.js';
import { CreateEnvInput, EnvFilter, UpdateEnvInput } from '../src/services/env.service.js';

@Resolver(() => Env)
export class EnvResolver extends ReadResolver({ node: Env, filter: EnvFilter, single: 'env', plural: 'envs', service: (s) => s.envs }) {
  @Mutation(() => Env, { description: 'Site admins; the creator becomes the env Admin' })
  createEnv(@Arg('input', () => CreateEnvInput) input: CreateEnvInput, @Ctx() ctx: GraphQLContext): Promise<Env> {
    return ctx.services.envs.create(ctx, input);
  }

  @Mutation(() => Env, { description: "Env Admins; a new nodeSelector or tolerations reinstalls the env's enabled deployments" })
  updateEnv(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateEnvInput) input: UpdateEnvInput, @Ctx() ctx: GraphQLContext): Promise<Env> {
    return ctx.services.envs.update(ctx, id, input);
  }

  @Mutation(() => ID, { description: "Site admins, once the env's clusters have no deployments; the clusters are kept outside any env" })
  deleteEnv(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    return ctx.services.envs.delete(ctx, id);
  }

  @FieldResolver(() => User, { nullable: true })
  owner(@Root() env: Env, @Ctx() ctx: GraphQLContext): Promise<User | null> {
    return loadOne(ctx, User, env.owner);
  }

  @FieldResolver(() => [K8sCluster])
  clusters(@Root() env: Env, @Ctx() ctx: GraphQLContext): Promise<K8sCluster[]> {
    return loadMany(ctx, K8sCluster, 'env', env.id);
  }

  @FieldResolver(() => [Deployment], { description: "deployments in the env's clusters, oldest first" })
  async deployments(@Root() env: Env, @Ctx() ctx: GraphQLContext): Promise<Deployment[]> {
    const clusters = await loadMany(ctx, K8sCluster, 'env', env.id);
    const perCluster = await Promise.all(clusters.map((c) => loadMany(ctx, Deployment, 'cluster', c.id)));
    // each cluster's list is ordered; merge them into the same order as every other list
    return perCluster.flat().sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
  }

  @FieldResolver(() => [EnvUserPermission])
  userPermissions(@Root() env: Env, @Ctx() ctx: GraphQLContext): Promise<EnvUserPermission[]> {
    return loadMany(ctx, EnvUserPermission, 'env', env.id);
  }

  @FieldResolver(() => [DeploymentPermission])
  deploymentPermissions(@Root() env: Env, @Ctx() ctx: GraphQLContext): Promise<DeploymentPermission[]> {
    return loadMany(ctx, DeploymentPermission, 'env', env.id);
  }

  @FieldResolver(() => [Secret], { description: 'metadata only; contents are never returned' })
  secrets(@Root() env: Env, @Ctx() ctx: GraphQLContext): Promise<Secret[]> {
    return loadMany(ctx, Secret, 'env', env.id);
  }
}
