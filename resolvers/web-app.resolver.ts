import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Group, GroupWebApp, WebApp } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadThrough } from '../src/graphql/relations.js';
import { WebAppFilter } from '../src/services/web-app.service.js';

@Resolver(() => WebApp)
export class WebAppResolver extends ReadResolver({ node: WebApp, filter: WebAppFilter, single: 'webApp', plural: 'webApps', service: (s) => s.webApps }) {
  @FieldResolver(() => [Group])
  groups(@Root() webApp: WebApp, @Ctx() ctx: GraphQLContext): Promise<Group[]> {
    return loadThrough(ctx, GroupWebApp, 'webApp', 'group', Group, webApp.id);
  }
}
