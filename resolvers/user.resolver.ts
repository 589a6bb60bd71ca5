import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { DeploymentPermission, EnvUserPermission, Group, GroupMember, K8sServiceAccount, User } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadMany, loadOne, loadThrough } from '../src/graphql/relations.js';
import { UserFilter } from '../src/services/user.service.js';

@Resolver(() => User)
export class UserResolver extends ReadResolver({ node: User, filter: UserFilter, single: 'user', plural: 'users', service: (s) => s.users }) {
  @FieldResolver(() => [Group])
  groups(@Root() user: User, @Ctx() ctx: GraphQLContext): Promise<Group[]> {
    return loadThrough(ctx, GroupMember, 'user', 'group', Group, user.id);
  }

  @FieldResolver(() => K8sServiceAccount, { nullable: true })
  serviceAccount(@Root() user: User, @Ctx() ctx: GraphQLContext): Promise<K8sServiceAccount | null> {
    return loadOne(ctx, K8sServiceAccount, user.serviceAccount);
  }

  @FieldResolver(() => [EnvUserPermission])
  envPermissions(@Root() user: User, @Ctx() ctx: GraphQLContext): Promise<EnvUserPermission[]> {
    return loadMany(ctx, EnvUserPermission, 'user', user.id);
  }

  @FieldResolver(() => [DeploymentPermission])
  deploymentPermissions(@Root() user: User, @Ctx() ctx: GraphQLContext): Promise<DeploymentPermission[]> {
    return loadMany(ctx, DeploymentPermission, 'user', user.id);
  }
}
