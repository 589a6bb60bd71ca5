import type { ClassType } from 'type-graphql';
import type { EntityClass } from '@mikro-orm/core';
import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Ctx, ID, Info, Query, Resolver } from 'type-graphql';
import { fieldWithin } from '../errors/domain-error.js';
import { relayPaging } from '../services/pagination.js';
import type { ReadService } from '../services/read-service.js';
import type { Services } from '../services/index.js';
import { connectionType, PageArgs, toConnection, type ConnectionShape } from './connection.js';
import type { GraphQLContext } from './context.js';
import { selectedProjection, selectedRow } from './selection.js';

/**
 * The two read queries every aggregate has: `<single>(id)` (null when missing) and `<plural>(filter, first, after, last, before)`
 * as a Relay connection. Each aggregate's resolver extends this and adds its relation fields.
 */
export function ReadResolver<T extends { id: string }, F extends object>(options: {
  node: ClassType<T>;
  filter: ClassType<F>;
  single: string;
  plural: string;
  service: (services: Services) => ReadService<T, F>;
}) {
  const Connection = connectionType(options.node);

  // registered through each subclass listed in buildSchema, never on its own
  @Resolver()
  abstract class AggregateReadResolver {
    @Query(() => options.node, { name: options.single, nullable: true, description: `One ${options.node.name} by id; null when it does not exist` })
    async findOne(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext, @Info() info: GraphQLResolveInfo): Promise<T | null> {
      return options.service(ctx.services).findById(ctx, id, selectedRow(info, ctx.loaders.reader, options.node as EntityClass<unknown>));
    }

    @Query(() => Connection, { name: options.plural, description: `${options.node.name} rows, keyset-paginated` })
    async findMany(
      @Args(() => PageArgs) page: PageArgs,
      @Arg('filter', () => options.filter, { nullable: true }) filter: F | undefined,
      @Ctx() ctx: GraphQLContext,
      @Info() info: GraphQLResolveInfo,
    ): Promise<ConnectionShape<T>> {
      const service = options.service(ctx.services);
      const query = await service.query(ctx, filter).catch((err: unknown) => Promise.reject(fieldWithin(err, 'filter')));
      const projection = selectedProjection(info, ctx.loaders.reader, options.node as EntityClass<unknown>);
      return toConnection(await relayPaging<T>(page).read(ctx, { ...query, projection }));
    }
  }
  return AggregateReadResolver;
}
