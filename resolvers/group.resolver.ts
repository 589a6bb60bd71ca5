import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Group, GroupMember, GroupWebApp, User, WebApp } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadThrough } from '../src/services/relations.js';
import { CreateGroupInput, GroupFilter, UpdateGroupInput } from '../src/services/group.service.js';

@Resolver(() => Group)
export class GroupResolver extends ReadResolver({ node: Group, filter: GroupFilter, single: 'group', plural: 'groups', service: (s) => s.groups }) {
  @FieldResolver(() => [User], { description: 'explicit members (automatic groups hold more users than these)' })
  members(@Root() group: Group, @Ctx() ctx: GraphQLContext): Promise<User[]> {
    return loadThrough(ctx, GroupMember, 'group', 'user', User, group.id);
  }

  @FieldResolver(() => [WebApp])
  webApps(@Root() group: Group, @Ctx() ctx: GraphQLContext): Promise<WebApp[]> {
    return loadThrough(ctx, GroupWebApp, 'group', 'webApp', WebApp, group.id);
  }

  @Mutation(() => Group, { description: 'Site admins' })
  createGroup(@Arg('input', () => CreateGroupInput) input: CreateGroupInput, @Ctx() ctx: GraphQLContext): Promise<Group> {
    return ctx.services.groups.create(ctx, input);
  }

  @Mutation(() => Group, { description: 'Site admins' })
  renameGroup(@Arg('id', () => ID) id: string, @Arg('name') name: string, @Ctx() ctx: GraphQLContext): Promise<Group> {
    return ctx.services.groups.rename(ctx, id, name);
  }

  @Mutation(() => Group, { description: 'Site admins' })
  updateGroup(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateGroupInput) input: UpdateGroupInput, @Ctx() ctx: GraphQLContext): Promise<Group> {
    return ctx.services.groups.update(ctx, id, input);
  }

  @Mutation(() => ID, { description: 'Site admins' })
  deleteGroup(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    return ctx.services.groups.delete(ctx, id);
  }

  @Mutation(() => Group, { description: 'Site admins' })
  addGroupMember(@Arg('groupId', () => ID) groupId: string, @Arg('userId', () => ID) userId: string, @Ctx() ctx: GraphQLContext): Promise<Group> {
    return ctx.services.groups.addMember(ctx, groupId, userId);
  }

  @Mutation(() => Group, { description: 'Site admins' })
  removeGroupMember(@Arg('groupId', () => ID) groupId: string, @Arg('userId', () => ID) userId: string, @Ctx() ctx: GraphQLContext): Promise<Group> {
    return ctx.services.groups.removeMember(ctx, groupId, userId);
  }

  @Mutation(() => Group, { description: 'Site admins' })
  addGroupWebApp(@Arg('groupId', () => ID) groupId: string, @Arg('webAppId', () => ID) webAppId: string, @Ctx() ctx: GraphQLContext): Promise<Group> {
    return ctx.services.groups.addWebApp(ctx, groupId, webAppId);
  }

  @Mutation(() => Group, { description: 'Site admins' })
  removeGroupWebApp(@Arg('groupId', () => ID) groupId: string, @Arg('webAppId', () => ID) webAppId: string, @Ctx() ctx: GraphQLContext): Promise<Group> {
    return ctx.services.groups.removeWebApp(ctx, groupId, webAppId);
  }
}
