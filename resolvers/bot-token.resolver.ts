import { Arg, Ctx, Field, FieldResolver, ID, Mutation, ObjectType, Resolver, Root } from 'type-graphql';
import { Bot, BotToken, User } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadOne, loadRequired } from '../src/services/relations.js';
import { BotTokenFilter, CreateBotTokenInput } from '../src/services/bot-token.service.js';

@ObjectType({ description: 'A new bot token; the token itself is shown only here' })
export class CreatedBotToken {
  @Field({ description: 'for the x-platz-token header' }) token!: string;
  @Field(() => BotToken) botToken!: BotToken;
}

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

  @Mutation(() => CreatedBotToken, { description: 'Site admins' })
  createBotToken(@Arg('input', () => CreateBotTokenInput) input: CreateBotTokenInput, @Ctx() ctx: GraphQLContext): Promise<CreatedBotToken> {
    return ctx.services.botTokens.create(ctx, input);
  }

  @Mutation(() => ID, { description: 'Site admins; it stops working at once' })
  revokeBotToken(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    return ctx.services.botTokens.revoke(ctx, id);
  }
}
