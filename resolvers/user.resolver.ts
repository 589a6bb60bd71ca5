import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import { DeploymentPermission, EnvUserPermission, Group, K8sServiceAccount, User, WebApp } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadMany, loadOne } from '../src/services/relations.js';
import type { AuthTokens } from '../src/services/auth.service.js';
import { ApproveAccessInput, CreateUserInput, SignUpInput, UpdateUserInput, UserFilter } from '../src/services/user.service.js';
import { AuthPayload } from './auth-payload.js';

@Resolver(() => User)
export class UserResolver extends ReadResolver({ node: User, filter: UserFilter, single: 'user', plural: 'users', service: (s) => s.users }) {
  @FieldResolver(() => [Group], { description: 'explicit memberships and the automatic groups (all accounts; k8s accounts once approved)' })
  groups(@Root() user: User, @Ctx() ctx: GraphQLContext): Promise<Group[]> {
    return ctx.services.groups.groupsOf(ctx, user);
  }

  @FieldResolver(() => [WebApp], { description: "the web apps of the user's groups; those not shown only for site admins" })
  webApps(@Root() user: User, @Ctx() ctx: GraphQLContext): Promise<WebApp[]> {
    return ctx.services.webApps.webAppsOf(ctx, user);
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

  @Mutation(() => AuthPayload, { description: 'Self-service registration when SIGNUP_ENABLED (no authentication needed); signs the new user in' })
  signUp(@Arg('input', () => SignUpInput) input: SignUpInput, @Ctx() ctx: GraphQLContext): Promise<AuthTokens> {
    return ctx.services.users.signUp(ctx, input);
  }

  @Mutation(() => User, { description: 'Site admins; or users of auth level 1 or more, for non-admins up to their own level' })
  createUser(@Arg('input', () => CreateUserInput) input: CreateUserInput, @Ctx() ctx: GraphQLContext): Promise<User> {
    return ctx.services.users.create(ctx, input);
  }

  @Mutation(() => User, { description: 'Yourself, or (site admins) anyone, or users of a lower auth level than yours' })
  updateUser(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateUserInput) input: UpdateUserInput, @Ctx() ctx: GraphQLContext): Promise<User> {
    return ctx.services.users.update(ctx, id, input);
  }

  @Mutation(() => Boolean, { description: "The caller's own password; the caller's other sessions end" })
  changePassword(@Arg('currentPassword') currentPassword: string, @Arg('newPassword') newPassword: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.users.changePassword(ctx, currentPassword, newPassword);
  }

  @Mutation(() => User, { description: 'Site admins, on users other than themselves' })
  setUserActive(@Arg('id', () => ID) id: string, @Arg('active') active: boolean, @Ctx() ctx: GraphQLContext): Promise<User> {
    return ctx.services.users.setActive(ctx, id, active);
  }

  @Mutation(() => User, { description: 'Site admins, on users other than themselves' })
  setUserAdmin(@Arg('id', () => ID) id: string, @Arg('admin') admin: boolean, @Ctx() ctx: GraphQLContext): Promise<User> {
    return ctx.services.users.setAdmin(ctx, id, admin);
  }

  @Mutation(() => User, { description: 'Site admins; or users on users of a lower level, up to their own level' })
  setUserAuthLevel(@Arg('id', () => ID) id: string, @Arg('authLevel', () => Int) authLevel: number, @Ctx() ctx: GraphQLContext): Promise<User> {
    return ctx.services.users.setAuthLevel(ctx, id, authLevel);
  }

  @Mutation(() => User, { description: 'Kubportal: the caller asks for a Kubernetes account (from NEW or ACCESS_REJECTED)' })
  requestAccess(@Ctx() ctx: GraphQLContext, @Arg('comments', () => String, { nullable: true }) comments?: string | null): Promise<User> {
    return ctx.services.users.requestAccess(ctx, comments);
  }

  @Mutation(() => User, { description: 'Site admins: grants a requested access with an existing service account or a new namespace' })
  approveAccessRequest(
    @Arg('userId', () => ID) userId: string,
    @Arg('input', () => ApproveAccessInput) input: ApproveAccessInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<User> {
    return ctx.services.users.approveAccess(ctx, userId, input);
  }

  @Mutation(() => User, { description: 'Site admins: refuses a requested access' })
  rejectAccessRequest(
    @Arg('userId', () => ID) userId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('comments', () => String, { nullable: true }) comments?: string | null,
  ): Promise<User> {
    return ctx.services.users.rejectAccess(ctx, userId, comments);
  }
}
