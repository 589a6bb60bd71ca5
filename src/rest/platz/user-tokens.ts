import { z } from 'zod';
import type { UserToken } from '../../entities/index.js';
import { found, restRoute } from '../routes.js';
import { IdParams, PageQuery, pageOf, platzSchemas, readPage, rowJson, Timestamp, Uuid } from './schemas.js';

const TAG = 'User tokens';

const UserTokenJson = z.object({ id: z.guid(), user_id: z.guid(), created_at: Timestamp });
platzSchemas.add(UserTokenJson, { id: 'UserToken' });

/** A new API token, shown this once: only the hash of its secret is kept. */
export const TokenCreationResponse = z.object({ created_token: z.string().describe('for the x-platz-token header; shown only here') });
platzSchemas.add(TokenCreationResponse, { id: 'TokenCreationResponse' });

const userTokenJson = (token: UserToken): z.input<typeof UserTokenJson> => ({ ...rowJson(token), user_id: token.user.id });

export const userTokenRoutes = [
  restRoute({
    method: 'GET',
    url: '/user-tokens',
    tag: TAG,
    summary: "The caller's API tokens; a site admin's, every user's",
    description: 'Without their secrets. Other users, bots and deployments see none. Oldest first.',
    query: PageQuery.extend({ user_id: Uuid.optional() }),
    response: pageOf(UserTokenJson),
    handle: (ctx, { query }) => readPage(ctx, ctx.services.userTokens, { userId: query.user_id }, query, userTokenJson),
  }),
  restRoute({
    method: 'GET',
    url: '/user-tokens/:id',
    tag: TAG,
    summary: 'One user token, without its secret',
    description: "Its user's and site admins'; anyone else finds it missing.",
    params: IdParams,
    response: UserTokenJson,
    handle: async (ctx, { params }) => userTokenJson(await found(ctx.services.userTokens.findById(ctx, params.id), 'UserToken')),
  }),
  restRoute({
    method: 'POST',
    url: '/user-tokens',
    tag: TAG,
    summary: 'Create an API token for a user',
    description: 'Users, for themselves (`user_id` null or left out); site admins for anyone. The token never expires.',
    body: z.object({ user_id: Uuid.nullable().optional().describe('null: the caller') }),
    status: 201,
    response: TokenCreationResponse,
    handle: async (ctx, { body }) => ({ created_token: (await ctx.services.userTokens.create(ctx, { userId: body.user_id })).token }),
  }),
  restRoute({
    method: 'DELETE',
    url: '/user-tokens/:id',
    tag: TAG,
    summary: 'Revoke a user token',
    description: 'Its user or a site admin; it stops working at once.',
    params: IdParams,
    status: 204,
    response: z.undefined(),
    handle: async (ctx, { params }) => void (await ctx.services.userTokens.revoke(ctx, params.id)),
  }),
];
