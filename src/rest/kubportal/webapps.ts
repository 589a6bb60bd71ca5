import { z } from 'zod';
import type { WebApp } from '../../entities/index.js';
import type { RequestContext } from '../../services/index.js';
import { restRoute } from '../routes.js';
import { IdParams, knownIdOf, kubportalSchemas } from './schemas.js';

export const WebAppJson = z.object({
  link_name: z.string().nullable(),
  link_url: z.string().nullable().describe("`{{namespace}}` and `{{serviceaccount}}` filled from the caller's service account (empty without one)"),
});
kubportalSchemas.add(WebAppJson, { id: 'WebApp' });

export const webAppJson = async (ctx: RequestContext, webApp: WebApp): Promise<z.input<typeof WebAppJson>> => ({
  link_name: await ctx.services.webApps.render(ctx, webApp.linkName),
  link_url: await ctx.services.webApps.render(ctx, webApp.linkUrl),
});

export const webAppRoutes = [
  restRoute({
    method: 'GET',
    url: '/webapps/:id/',
    tag: 'Web applications',
    summary: 'Get details about a web application.',
    params: IdParams('web application'),
    errors: { 403: 'The user is not in a group assigned to this application, or the link is configured to not being shown.', 404: 'no web application has this ID' },
    response: WebAppJson,
    handle: async (ctx, { params }) => webAppJson(ctx, await ctx.services.webApps.ownWebApp(ctx, await knownIdOf(ctx, 'web_apps', params.id, 'WebApp'))),
  }),
];
