import { Arg, Ctx, Field, FieldResolver, ID, Mutation, ObjectType, Resolver, Root } from 'type-graphql';
import { User, UserToken } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadRequired } from '../src/services/relations.js';
import { CreateUserTokenInput, UserTokenFilter } from '../src/services/user-token.service.js';

@ObjectType({ description: 'A new user token; the token itself is shown only here' })
export class CreatedUserToken {
  @Field({ description: 'for the x-platz-token header' }) token!: string;
  @Field(() => UserToken) userToken!: UserToken;
}

@Resolver(() => UserToken)
export class UserTokenResolver extends ReadResolver({
  node: UserToken,
  filter: UserTokenFilter,
  single: 'userToken',
  plural: 'userTokens',
  service: (s) => s.userTokens,
}) {
  @FieldResolver(() => User)
  user(@Root() token: UserToken, @Ctx() ctx: GraphQLContext): Promise<User> {
    return loadRequired(ctx, User, token.user);
  }

  @Mutation(() => CreatedUserToken, { description: 'Users, for themselves; site admins for anyone' })
  createUserToken(@Arg('input', () => CreateUserTokenInput) input: CreateUserTokenInput, @Ctx() ctx: GraphQLContext): Promise<CreatedUserToken> {
    return ctx.services.userTokens.create(ctx, input);
  }

  @Mutation(() => ID, { description: "The token's owner or a site admin; it stops working at once" })
  revokeUserToken(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    return ctx.services.userTokens.revoke(ctx, id);
  }
}
