import { z } from 'zod';
import type { BotToken } from '../../entities/index.js';
import { found, restRoute } from '../routes.js';
import { IdParams, PageQuery, pageOf, platzSchemas, readPage, rowJson, Timestamp, Uuid } from './schemas.js';
import { TokenCreationResponse } from './user-tokens.js';

const TAG = 'Bot tokens';

const BotTokenJson = z.object({ id: z.guid(), bot_id: z.guid(), created_at: Timestamp, created_by_user_id: z.guid().nullable() });
platzSchemas.add(BotTokenJson, { id: 'BotToken' });

const botTokenJson = (token: BotToken): z.input<typeof BotTokenJson> => ({ ...rowJson(token), bot_id: token.bot.id, created_by_user_id: token.createdByUser?.id ?? null });

export const botTokenRoutes = [
  restRoute({
    method: 'GET',
    url: '/bot-tokens',
    tag: TAG,
    summary: "Bots' API tokens, without their secrets",
    description: 'Site admins; other callers see none. Oldest first.',
    query: PageQuery.extend({ bot_id: Uuid.optional(), created_by_user_id: Uuid.optional() }),
    response: pageOf(BotTokenJson),
    handle: (ctx, { query }) => readPage(ctx, ctx.services.botTokens, { botId: query.bot_id, createdByUserId: query.created_by_user_id }, query, botTokenJson),
  }),
  restRoute({
    method: 'GET',
    url: '/bot-tokens/:id',
    tag: TAG,
    summary: 'One bot token, without its secret',
    description: 'Site admins; anyone else finds it missing.',
    params: IdParams,
    response: BotTokenJson,
    handle: async (ctx, { params }) => botTokenJson(await found(ctx.services.botTokens.findById(ctx, params.id), 'BotToken')),
  }),
  restRoute({
    method: 'POST',
    url: '/bot-tokens',
    tag: TAG,
    summary: 'Create an API token for a bot',
    description: 'Site admins. The token never expires.',
    body: z.object({ bot_id: Uuid }),
    status: 201,
    response: TokenCreationResponse,
    handle: async (ctx, { body }) => ({ created_token: (await ctx.services.botTokens.create(ctx, { botId: body.bot_id })).token }),
  }),
  restRoute({
    method: 'DELETE',
    url: '/bot-tokens/:id',
    tag: TAG,
    summary: 'Revoke a bot token',
    description: 'Site admins; it stops working at once.',
    params: IdParams,
    status: 204,
    response: z.undefined(),
    handle: async (ctx, { params }) => void (await ctx.services.botTokens.revoke(ctx, params.id)),
  }),
];
