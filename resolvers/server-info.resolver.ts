import { Ctx, Field, ObjectType, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../src/graphql/context.js';

@ObjectType()
class ServerInfo {
  @Field() version!: string;
}

@Resolver()
export class ServerInfoResolver {
  @Query(() => ServerInfo, { description: 'No authentication needed' })
  serverInfo(@Ctx() ctx: GraphQLContext): ServerInfo {
    return ctx.services.serverInfo.info();
  }
}
