import { z } from 'zod';
import type { Secret } from '../../entities/index.js';
import { found, restRoute } from '../routes.js';
import { IdParams, PageQuery, pageOf, platzSchemas, readPage, rowJson, Timestamp, Uuid } from './schemas.js';

const TAG = 'Secrets';

/** A secret's metadata: its contents are write-only and never leave Berth through an API. */
const SecretJson = z.object({
  id: z.guid(),
  created_at: Timestamp,
  updated_at: Timestamp,
  env_id: z.guid(),
  collection: z.string(),
  name: z.string(),
});
platzSchemas.add(SecretJson, { id: 'Secret' });

const secretJson = (secret: Secret): z.input<typeof SecretJson> => ({
  ...rowJson(secret),
  updated_at: secret.updatedAt.toISOString(),
  env_id: secret.env.id,
  collection: secret.collection,
  name: secret.name,
});

const Contents = z.string().describe('write-only: stored encrypted, never returned');

export const secretRoutes = [
  restRoute({
    method: 'GET',
    url: '/secrets',
    tag: TAG,
    summary: 'The secrets of the envs the caller may see, without their contents',
    description: 'Site admins see every env; other callers the envs they hold a role in. Oldest first.',
    query: PageQuery.extend({
      env_id: Uuid.optional(),
      collection: z.string().optional().describe('case-insensitive, exact'),
      name: z.string().optional().describe('case-insensitive, exact'),
    }),
    response: pageOf(SecretJson),
    handle: (ctx, { query }) => readPage(ctx, ctx.services.secrets, { envId: query.env_id, collection: query.collection, name: query.name }, query, secretJson),
  }),
  restRoute({
    method: 'GET',
    url: '/secrets/:id',
    tag: TAG,
    summary: 'One secret, without its contents',
    description: 'One in an env the caller may not see is not found, as a missing one.',
    params: IdParams,
    response: SecretJson,
    handle: async (ctx, { params }) => secretJson(await found(ctx.services.secrets.findById(ctx, params.id), 'Secret')),
  }),
  restRoute({
    method: 'POST',
    url: '/secrets',
    tag: TAG,
    summary: 'Create a secret',
    description: "The env's Admins and site admins; (env, collection, name) is unique (409 for a duplicate).",
    body: z.object({ env_id: Uuid, collection: z.string(), name: z.string(), contents: Contents }),
    status: 201,
    response: SecretJson,
    handle: async (ctx, { body }) => secretJson(await ctx.services.secrets.create(ctx, { envId: body.env_id, collection: body.collection, name: body.name, contents: body.contents })),
  }),
  restRoute({
    method: 'PUT',
    url: '/secrets/:id',
    tag: TAG,
    summary: 'Rename a secret or change its contents',
    description: "The env's Admins and site admins; fields left out are unchanged. Reinstalls the env's enabled deployments that use the secret.",
    params: IdParams,
    body: z.object({ name: z.string().optional(), contents: Contents.optional() }),
    response: SecretJson,
    handle: async (ctx, { params, body }) => secretJson(await ctx.services.secrets.update(ctx, params.id, { name: body.name, contents: body.contents })),
  }),
  restRoute({
    method: 'DELETE',
    url: '/secrets/:id',
    tag: TAG,
    summary: 'Delete a secret',
    description: "The env's Admins and site admins, once no deployment uses it (409 otherwise).",
    params: IdParams,
    status: 204,
    response: z.undefined(),
    handle: async (ctx, { params }) => void (await ctx.services.secrets.delete(ctx, params.id)),
  }),
];
