import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Bot, BotToken, User } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadOne, loadRequired } from '../src/graphql/relations.js';
import { BotTokenFilter } from '../src/services/bot-token.service.js';

@Resolver(() => BotToken)
export class BotTokenResolver extends ReadResolver({
  node: BotToken,
  filter: BotTokenFilter,
  single: 'botToken',
  plural: 'botTokens',
  service: (s) => s.botTokens,
}) {
  @FieldResolver(() => Bot)
  bot(@Root() token: BotToken, @Ctx() ctx: GraphQLContext): Promise<Bot> {
    return loadRequired(ctx, Bot, token.bot);
  }

  @FieldResolver(() => User, { nullable: true })
  createdByUser(@Root() token: BotToken, @Ctx() ctx: GraphQLContext): Promise<User | null> {
    return loadOne(ctx, User, token.createdByUser);
  }
}
