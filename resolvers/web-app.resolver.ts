import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Group, GroupWebApp, WebApp } from '../src/entities/index.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { ReadResolver } from '../src/graphql/read-resolver.js';
import { loadThrough } from '../src/services/relations.js';
import { CreateWebAppInput, UpdateWebAppInput, WebAppFilter } from '../src/services/web-app.service.js';

@Resolver(() => WebApp)
export class WebAppResolver extends ReadResolver({ node: WebApp, filter: WebAppFilter, single: 'webApp', plural: 'webApps', service: (s) => s.webApps }) {
  @FieldResolver(() => [Group])
  groups(@Root() webApp: WebApp, @Ctx() ctx: GraphQLContext): Promise<Group[]> {
    return loadThrough(ctx, GroupWebApp, 'webApp', 'group', Group, webApp.id);
  }

  @FieldResolver(() => String, { nullable: true, description: "with {{namespace}} and {{serviceaccount}} filled from the caller's service account" })
  linkName(@Root() webApp: WebApp, @Ctx() ctx: GraphQLContext): Promise<string | null> {
    return ctx.services.webApps.render(ctx, webApp.linkName);
  }

  @FieldResolver(() => String, { nullable: true, description: "with {{namespace}} and {{serviceaccount}} filled from the caller's service account" })
  linkUrl(@Root() webApp: WebApp, @Ctx() ctx: GraphQLContext): Promise<string | null> {
    return ctx.services.webApps.render(ctx, webApp.linkUrl);
  }

  @FieldResolver(() => String, { nullable: true, description: 'linkUrl as stored, placeholders included' })
  linkUrlTemplate(@Root() webApp: WebApp): string | null {
    return webApp.linkUrl ?? null;
  }

  @Mutation(() => WebApp, { description: 'Site admins' })
  createWebApp(@Arg('input', () => CreateWebAppInput) input: CreateWebAppInput, @Ctx() ctx: GraphQLContext): Promise<WebApp> {
    return ctx.services.webApps.create(ctx, input);
  }

  @Mutation(() => WebApp, { description: 'Site admins' })
  updateWebApp(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateWebAppInput) input: UpdateWebAppInput, @Ctx() ctx: GraphQLContext): Promise<WebApp> {
    return ctx.services.webApps.update(ctx, id, input);
  }

  @Mutation(() => ID, { description: 'Site admins' })
  deleteWebApp(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    return ctx.services.webApps.delete(ctx, id);
  }
}
