import { z } from 'zod';
import type { Bot } from '../../entities/index.js';
import { found, restRoute } from '../routes.js';
import { IdParams, PageQuery, pageOf, platzSchemas, readPage, rowJson, Timestamp } from './schemas.js';

const TAG = 'Bots';

export const BotJson = z.object({ id: z.guid(), created_at: Timestamp, display_name: z.string() });
platzSchemas.add(BotJson, { id: 'Bot' });

export const botJson = (bot: Bot): z.input<typeof BotJson> => ({ ...rowJson(bot), display_name: bot.displayName });

export const botRoutes = [
  restRoute({
    method: 'GET',
    url: '/bots',
    tag: TAG,
    summary: 'The bots the caller may see',
    description: 'Site admins and env Admins see every bot (whom they could grant a role to); a bot itself; other callers none. Oldest first.',
    query: PageQuery.extend({ display_name: z.string().optional().describe('case-insensitive substring') }),
    response: pageOf(BotJson),
    handle: (ctx, { query }) => readPage(ctx, ctx.services.bots, { displayName: query.display_name }, query, botJson),
  }),
  restRoute({
    method: 'GET',
    url: '/bots/:id',
    tag: TAG,
    summary: 'One bot',
    description: 'A bot the caller may not see is not found, as a missing one.',
    params: IdParams,
    response: BotJson,
    handle: async (ctx, { params }) => botJson(await found(ctx.services.bots.findById(ctx, params.id), 'Bot')),
  }),
  restRoute({
    method: 'POST',
    url: '/bots',
    tag: TAG,
    summary: 'Create a bot',
    description: 'Site admins. A bot acts with the bot tokens a site admin creates for it, and holds roles as users do.',
    body: z.object({ display_name: z.string() }),
    status: 201,
    response: BotJson,
    handle: async (ctx, { body }) => botJson(await ctx.services.bots.create(ctx, { displayName: body.display_name })),
  }),
  restRoute({
    method: 'PUT',
    url: '/bots/:id',
    tag: TAG,
    summary: 'Rename a bot',
    description: 'Site admins; a field left out is unchanged.',
    params: IdParams,
    body: z.object({ display_name: z.string().optional() }),
    response: BotJson,
    handle: async (ctx, { params, body }) => botJson(await ctx.services.bots.update(ctx, params.id, { displayName: body.display_name })),
  }),
  restRoute({
    method: 'DELETE',
    url: '/bots/:id',
    tag: TAG,
    summary: 'Delete a bot',
    description: 'Site admins; its tokens and roles go with it, and its tokens stop working at once.',
    params: IdParams,
    status: 204,
    response: z.undefined(),
    handle: async (ctx, { params }) => void (await ctx.services.bots.delete(ctx, params.id)),
  }),
];
