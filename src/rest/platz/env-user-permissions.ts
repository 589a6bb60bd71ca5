import { z } from 'zod';
import type { EnvGrantBase } from '../../entities/env-grant.base.js';
import type { EnvUserPermission } from '../../entities/index.js';
import { EnvUserRole } from '../../entities/enums.js';
import { notFound } from '../../errors/domain-error.js';
import type { RequestContext } from '../../services/index.js';
import { found, restRoute } from '../routes.js';
import { IdParams, PageQuery, pageOf, platzSchemas, readPage, rowJson, Timestamp, Uuid } from './schemas.js';

const TAG = 'Env user permissions';

const EnvUserPermissionJson = z.object({
  id: z.guid(),
  created_at: Timestamp,
  env_id: z.guid(),
  user_id: z.guid(),
  role: z.enum(EnvUserRole),
});
platzSchemas.add(EnvUserPermissionJson, { id: 'EnvUserPermission' });

/** A grant's columns Platz has, for a grant a user holds (bots' grants are Berth's, GraphQL's alone). */
export const grantJson = (grant: EnvGrantBase) => ({ ...rowJson(grant), env_id: grant.env.id, user_id: grant.user!.id });

/** A user's grant by id, or 404: a bot's grant does not exist for Platz's API, as its lists leave it out. */
export async function userGrant<T extends EnvGrantBase>(row: Promise<T | null>, what: string): Promise<T> {
  const grant = await found(row, what);
  if (!grant.user) throw notFound(what);
  return grant;
}

/** Deletes a user's grant; a bot's is not found, as reading it is. */
export async function deleteUserGrant(
  ctx: RequestContext,
  service: { findById(ctx: RequestContext, id: string): Promise<EnvGrantBase | null>; delete(ctx: RequestContext, id: string): Promise<unknown> },
  id: string,
  what: string,
): Promise<undefined> {
  await userGrant(service.findById(ctx, id), what);
  await service.delete(ctx, id);
  return undefined;
}

const envUserPermissionJson = (p: EnvUserPermission): z.input<typeof EnvUserPermissionJson> => ({ ...grantJson(p), role: p.role });

/** The env filter of both kinds of grant's lists. */
export const EnvIdQuery = PageQuery.extend({ env_id: Uuid.optional() });

export const envUserPermissionRoutes = [
  restRoute({
    method: 'GET',
    url: '/env-user-permissions',
    tag: TAG,
    summary: "Users' roles in the envs the caller may see",
    description: 'Site admins see every env; other callers the envs they hold a role in. Oldest first.',
    query: EnvIdQuery,
    response: pageOf(EnvUserPermissionJson),
    handle: (ctx, { query }) => readPage(ctx, ctx.services.envUserPermissions, { envId: query.env_id, usersOnly: true }, query, envUserPermissionJson),
  }),
  restRoute({
    method: 'GET',
    url: '/env-user-permissions/:id',
    tag: TAG,
    summary: "A user's role in an env",
    description: 'One in an env the caller may not see is not found, as a missing one.',
    params: IdParams,
    response: EnvUserPermissionJson,
    handle: async (ctx, { params }) => envUserPermissionJson(await userGrant(ctx.services.envUserPermissions.findById(ctx, params.id), 'EnvUserPermission')),
  }),
  restRoute({
    method: 'POST',
    url: '/env-user-permissions',
    tag: TAG,
    summary: 'Give a user a role in an env',
    description: "The env's Admins and site admins; a user holds one role per env (409 for a second).",
    body: z.object({ env_id: Uuid, user_id: Uuid, role: z.enum(EnvUserRole) }),
    status: 201,
    response: EnvUserPermissionJson,
    handle: async (ctx, { body }) => envUserPermissionJson(await ctx.services.envUserPermissions.create(ctx, { envId: body.env_id, userId: body.user_id, role: body.role })),
  }),
  restRoute({
    method: 'DELETE',
    url: '/env-user-permissions/:id',
    tag: TAG,
    summary: "Take a user's role in an env away",
    description: "The env's Admins and site admins, for anyone's role but their own (409).",
    params: IdParams,
    status: 204,
    response: z.undefined(),
    handle: (ctx, { params }) => deleteUserGrant(ctx, ctx.services.envUserPermissions, params.id, 'EnvUserPermission'),
  }),
];
