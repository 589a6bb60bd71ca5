import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Bot, DeploymentPermission, EnvUserPermission } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadMany } from '../src/graphql/relations.js';
import { BotFilter } from '../src/services/bot.service.js';

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
}
