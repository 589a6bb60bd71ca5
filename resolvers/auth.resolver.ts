import { Arg, createUnionType, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { Bot, Deployment, User } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { AuthPayload } from './auth-payload.js';

const Caller = createUnionType({
  name: 'Caller',
  description: 'The identity behind the request',
  types: () => [User, Bot, Deployment] as const,
  resolveType: (value) => (value instanceof User ? User : value instanceof Bot ? Bot : Deployment),
});

@Resolver()
export class AuthResolver {
  @Mutation(() => AuthPayload, { description: 'Password login (no authentication needed); after repeated failures TOO_MANY_REQUESTS, with extensions.retryAfter in seconds' })
  login(
    @Arg('usernameOrEmail') usernameOrEmail: string,
    @Arg('password') password: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AuthPayload> {
    return ctx.services.auth.login(ctx, usernameOrEmail, password);
  }

  @Mutation(() => AuthPayload, { description: 'Rotates a refresh token (no authentication needed)' })
  refreshToken(@Arg('refreshToken') refreshToken: string, @Ctx() ctx: GraphQLContext): Promise<AuthPayload> {
    return ctx.services.auth.refresh(ctx, refreshToken);
  }

  @Mutation(() => Boolean, { description: "Ends the caller's session, or the one the refresh token names; false if it had already ended" })
  logout(
    @Ctx() ctx: GraphQLContext,
    @Arg('refreshToken', () => String, { nullable: true }) refreshToken?: string | null,
  ): Promise<boolean> {
    return ctx.services.auth.logout(ctx, refreshToken);
  }

  @Query(() => Caller, { description: 'The caller: a user, a bot or a deployment' })
  me(@Ctx() ctx: GraphQLContext): User | Bot | Deployment {
    const identity = ctx.services.auth.me(ctx);
    return identity.kind === 'user' ? identity.user : identity.kind === 'bot' ? identity.bot : identity.deployment;
  }
}
