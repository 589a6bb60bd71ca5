import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Bot, DeploymentKind, DeploymentPermission, Env, User } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadOne, loadRequired } from '../src/services/relations.js';
import { CreateDeploymentPermissionInput, DeploymentPermissionFilter } from '../src/services/deployment-permission.service.js';

@Resolver(() => DeploymentPermission)
export class DeploymentPermissionResolver extends ReadResolver({
  node: DeploymentPermission,
  filter: DeploymentPermissionFilter,
  single: 'deploymentPermission',
  plural: 'deploymentPermissions',
  service: (s) => s.deploymentPermissions,
}) {
  @Mutation(() => DeploymentPermission, { description: 'Env Admins: gives a user or a bot a deployment-kind role in the env' })
  createDeploymentPermission(
    @Arg('input', () => CreateDeploymentPermissionInput) input: CreateDeploymentPermissionInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DeploymentPermission> {
    return ctx.services.deploymentPermissions.create(ctx, input);
  }

  @Mutation(() => ID, { description: "Env Admins of the permission's env" })
  deleteDeploymentPermission(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    return ctx.services.deploymentPermissions.delete(ctx, id);
  }

  @FieldResolver(() => Env)
  env(@Root() p: DeploymentPermission, @Ctx() ctx: GraphQLContext): Promise<Env> {
    return loadRequired(ctx, Env, p.env);
  }

  @FieldResolver(() => User, { nullable: true })
  user(@Root() p: DeploymentPermission, @Ctx() ctx: GraphQLContext): Promise<User | null> {
    return loadOne(ctx, User, p.user);
  }

  @FieldResolver(() => Bot, { nullable: true })
  bot(@Root() p: DeploymentPermission, @Ctx() ctx: GraphQLContext): Promise<Bot | null> {
    return loadOne(ctx, Bot, p.bot);
  }

  @FieldResolver(() => DeploymentKind)
  kind(@Root() p: DeploymentPermission, @Ctx() ctx: GraphQLContext): Promise<DeploymentKind> {
    return loadRequired(ctx, DeploymentKind, p.kind);
  }
}
