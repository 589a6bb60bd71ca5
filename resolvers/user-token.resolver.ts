import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { User, UserToken } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadRequired } from '../src/graphql/relations.js';
import { UserTokenFilter } from '../src/services/user-token.service.js';

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
}
