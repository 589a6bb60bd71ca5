import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Bot, DeploymentPermission, EnvUserPermission } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadMany } from '../src/services/relations.js';
import { BotFilter, CreateBotInput, UpdateBotInput } from '../src/services/bot.service.js';

@Resolver(() => Bot)
export class BotResolver extends ReadResolver({ node: Bot, filter: BotFilter, single: 'bot', plural: 'bots', service: (s) => s.bots }) {
  @FieldResolver(() => [EnvUserPermission])
  envPermissions(@Root() bot: Bot, @Ctx() ctx: GraphQLContext): Promise<EnvUserPermission[]> {
    return loadMany(ctx, EnvUserPermission, 'bot', bot.id);
  }

  @FieldResolver(() => [DeploymentPermission])
  deploymentPermissions(@Root() bot: Bot, @Ctx() ctx: GraphQLContext): Promise<DeploymentPermission[]> {
    return loadMany(ctx, DeploymentPermission, 'bot', bot.id);
  }

  @Mutation(() => Bot, { description: 'Site admins' })
  createBot(@Arg('input', () => CreateBotInput) input: CreateBotInput, @Ctx() ctx: GraphQLContext): Promise<Bot> {
    return ctx.services.bots.create(ctx, input);
  }

  @Mutation(() => Bot, { description: 'Site admins' })
  updateBot(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateBotInput) input: UpdateBotInput, @Ctx() ctx: GraphQLContext): Promise<Bot> {
    return ctx.services.bots.update(ctx, id, input);
  }

  @Mutation(() => ID, { description: 'Site admins; its tokens and roles go with it' })
  deleteBot(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    return ctx.services.bots.delete(ctx, id);
  }
}
