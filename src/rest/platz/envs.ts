import { z } from 'zod';
import type { Env } from '../../entities/index.js';
import { found, restRoute } from '../routes.js';
import { IdParams, JsonObject, pageOf, PageQuery, platzSchemas, QueryBoolean, readPage, rowJson, Timestamp } from './schemas.js';

const TAG = 'Envs';

const EnvJson = z.object({
  id: z.guid(),
  created_at: Timestamp,
  name: z.string(),
  node_selector: z.record(z.string(), z.unknown()).describe('label → value, for the pods of its deployments'),
  tolerations: z.unknown().describe('a list of Kubernetes tolerations'),
  auto_add_new_users: z.boolean().describe('new users get the role User in it'),
});
platzSchemas.add(EnvJson, { id: 'Env' });

const envJson = (env: Env): z.input<typeof EnvJson> => ({
  ...rowJson(env),
  name: env.name,
  node_selector: env.nodeSelector,
  tolerations: env.tolerations,
  auto_add_new_users: env.autoAddNewUsers,
});

export const envRoutes = [
  restRoute({
    method: 'GET',
    url: '/envs',
    tag: TAG,
    summary: 'The envs the caller may see',
    description: 'Site admins see every env; other callers (bots too) the envs they hold a role in, a deployment its own. Oldest first.',
    query: PageQuery.extend({
      name: z.string().optional().describe('case-insensitive, exact'),
      auto_add_new_users: QueryBoolean.optional(),
    }),
    response: pageOf(EnvJson),
    handle: (ctx, { query }) => readPage(ctx, ctx.services.envs, { name: query.name, autoAddNewUsers: query.auto_add_new_users }, query, envJson),
  }),
  restRoute({
    method: 'GET',
    url: '/envs/:id',
    tag: TAG,
    summary: 'One env',
    description: 'An env the caller may not see is not found, as a missing one.',
    params: IdParams,
    response: EnvJson,
    handle: async (ctx, { params }) => envJson(await found(ctx.services.envs.findById(ctx, params.id), 'Env')),
  }),
  restRoute({
    method: 'POST',
    url: '/envs',
    tag: TAG,
    summary: 'Create an env',
    description: 'Site admins; the creator becomes its Admin.',
    body: z.object({ name: z.string().describe('1 to 63 characters, unique case-insensitively'), auto_add_new_users: z.boolean().default(false) }),
    status: 201,
    response: EnvJson,
    handle: async (ctx, { body }) => envJson(await ctx.services.envs.create(ctx, { name: body.name, autoAddNewUsers: body.auto_add_new_users })),
  }),
  restRoute({
    method: 'PUT',
    url: '/envs/:id',
    tag: TAG,
    summary: 'Update an env',
    description: "Its Admins and site admins; fields left out are unchanged. A changed node_selector or tolerations reinstalls the env's enabled deployments.",
    params: IdParams,
    body: z.object({
      name: z.string().optional(),
      node_selector: z.record(z.string(), z.string()).optional().describe('label → value'),
      tolerations: z.array(JsonObject).optional(),
      auto_add_new_users: z.boolean().optional(),
    }),
    response: EnvJson,
    handle: async (ctx, { params, body }) =>
      envJson(
        await ctx.services.envs.update(ctx, params.id, {
          name: body.name,
          nodeSelector: body.node_selector,
          tolerations: body.tolerations,
          autoAddNewUsers: body.auto_add_new_users,
        }),
      ),
  }),
  restRoute({
    method: 'DELETE',
    url: '/envs/:id',
    tag: TAG,
    summary: 'Delete an env',
    description: "Site admins, once no deployment is left in its clusters (409 otherwise); its clusters stay, outside any env.",
    params: IdParams,
    status: 204,
    response: z.undefined(),
    handle: async (ctx, { params }) => void (await ctx.services.envs.delete(ctx, params.id)),
  }),
];
