import { z } from 'zod';
import type { User } from '../../entities/index.js';
import { found, restRoute } from '../routes.js';
import { IdParams, PageQuery, pageOf, platzSchemas, QueryBoolean, readPage, rowJson, Timestamp } from './schemas.js';

const TAG = 'Users';

export const UserJson = z.object({
  id: z.guid(),
  created_at: Timestamp,
  display_name: z.string(),
  email: z.string(),
  is_admin: z.boolean(),
  is_active: z.boolean(),
});
platzSchemas.add(UserJson, { id: 'User' });

export const userJson = (user: User): z.input<typeof UserJson> => ({
  ...rowJson(user),
  display_name: user.displayName,
  email: user.email,
  is_admin: user.isAdmin,
  is_active: user.isActive,
});

export const userRoutes = [
  restRoute({
    method: 'GET',
    url: '/users',
    tag: TAG,
    summary: 'The users the caller may see',
    description: 'Site admins and env Admins see every user (whom they could grant a role to); other users themselves and users of a lower auth level; bots and deployments none. Oldest first.',
    query: PageQuery.extend({
      display_name: z.string().optional().describe('case-insensitive substring'),
      email: z.string().optional().describe('case-insensitive substring'),
      is_active: QueryBoolean.optional(),
    }),
    response: pageOf(UserJson),
    handle: (ctx, { query }) => readPage(ctx, ctx.services.users, { displayName: query.display_name, email: query.email, isActive: query.is_active }, query, userJson),
  }),
  restRoute({
    method: 'GET',
    url: '/users/:id',
    tag: TAG,
    summary: 'One user',
    description: 'A user the caller may not see is not found, as a missing one.',
    params: IdParams,
    response: UserJson,
    handle: async (ctx, { params }) => userJson(await found(ctx.services.users.findById(ctx, params.id), 'User')),
  }),
  restRoute({
    method: 'PUT',
    url: '/users/:id',
    tag: TAG,
    summary: "Change a user's admin and active flags",
    description: 'Site admins, on users other than themselves (409 on oneself); fields left out are unchanged. An inactive user is refused at its next request.',
    params: IdParams,
    body: z.object({ is_admin: z.boolean().optional(), is_active: z.boolean().optional() }),
    response: UserJson,
    handle: async (ctx, { params, body }) => userJson(await ctx.services.users.setFlags(ctx, params.id, { isAdmin: body.is_admin, isActive: body.is_active })),
  }),
];
