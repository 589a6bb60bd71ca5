import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Bot, Env, EnvUserPermission, User } from '../src/entities/index.js';
import { EnvUserRole } from '../src/entities/enums.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadOne, loadRequired } from '../src/services/relations.js';
import { CreateEnvUserPermissionInput, EnvUserPermissionFilter } from '../src/services/env-user-permission.service.js';

@Resolver(() => EnvUserPermission)
export class EnvUserPermissionResolver extends ReadResolver({
  node: EnvUserPermission,
  filter: EnvUserPermissionFilter,
  single: 'envUserPermission',
  plural: 'envUserPermissions',
  service: (s) => s.envUserPermissions,
}) {
  @Mutation(() => EnvUserPermission, { description: 'Env Admins: gives a user or a bot a role in the env' })
  createEnvUserPermission(
    @Arg('input', () => CreateEnvUserPermissionInput) input: CreateEnvUserPermissionInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<EnvUserPermission> {
    return ctx.services.envUserPermissions.create(ctx, input);
  }

  @Mutation(() => EnvUserPermission, { description: 'Env Admins; an Admin cannot demote itself' })
  updateEnvUserPermission(
    @Arg('id', () => ID) id: string,
    @Arg('role', () => EnvUserRole) role: EnvUserRole,
    @Ctx() ctx: GraphQLContext,
  ): Promise<EnvUserPermission> {
    return ctx.services.envUserPermissions.update(ctx, id, role);
  }

  @Mutation(() => ID, { description: 'Env Admins; not for your own permission' })
  deleteEnvUserPermission(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    return ctx.services.envUserPermissions.delete(ctx, id);
  }

  @FieldResolver(() => Env)
  env(@Root() p: EnvUserPermission, @Ctx() ctx: GraphQLContext): Promise<Env> {
    return loadRequired(ctx, Env, p.env);
  }

  @FieldResolver(() => User, { nullable: true })
  user(@Root() p: EnvUserPermission, @Ctx() ctx: GraphQLContext): Promise<User | null> {
    return loadOne(ctx, User, p.user);
  }

  @FieldResolver(() => Bot, { nullable: true })
  bot(@Root() p: EnvUserPermission, @Ctx() ctx: GraphQLContext): Promise<Bot | null> {
    return loadOne(ctx, Bot, p.bot);
  }
}
