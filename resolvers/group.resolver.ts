import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Group, GroupMember, GroupWebApp, User, WebApp } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadThrough } from '../src/graphql/relations.js';
import { GroupFilter } from '../src/services/group.service.js';

@Resolver(() => Group)
export class GroupResolver extends ReadResolver({ node: Group, filter: GroupFilter, single: 'group', plural: 'groups', service: (s) => s.groups }) {
  @FieldResolver(() => [User])
  members(@Root() group: Group, @Ctx() ctx: GraphQLContext): Promise<User[]> {
    return loadThrough(ctx, GroupMember, 'group', 'user', User, group.id);
  }

  @FieldResolver(() => [WebApp])
  webApps(@Root() group: Group, @Ctx() ctx: GraphQLContext): Promise<WebApp[]> {
    return loadThrough(ctx, GroupWebApp, 'group', 'webApp', WebApp, group.id);
  }
}
