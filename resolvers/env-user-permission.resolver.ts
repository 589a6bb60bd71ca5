import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Bot, Env, EnvUserPermission, User } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadOne, loadRequired } from '../src/graphql/relations.js';
import { EnvUserPermissionFilter } from '../src/services/env-user-permission.service.js';

@Resolver(() => EnvUserPermission)
export class EnvUserPermissionResolver extends ReadResolver({
  node: EnvUserPermission,
  filter: EnvUserPermissionFilter,
  single: 'envUserPermission',
  plural: 'envUserPermissions',
  service: (s) => s.envUserPermissions,
}) {
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
