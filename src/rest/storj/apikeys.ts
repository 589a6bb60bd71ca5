import { z } from 'zod';
import type { EnvApiKey } from '../../entities/index.js';
import { found, restRoute } from '../routes.js';
import { NoBody, ProjectParams, storjSchemas } from './schemas.js';

const TAG = 'API keys';

const ApiKeyInfo = z.object({
  id: z.guid(),
  projectId: z.guid(),
  ownerId: z.string().describe("the project's owner; empty when it has none"),
  name: z.string(),
  partnerID: z.string().describe("as Storj's document spells it; empty when none was named"),
  partnerId: z.string().describe("as Storj's server spells it"),
  createdAt: z.string().describe('RFC 3339, UTC'),
});
storjSchemas.add(ApiKeyInfo, { id: 'ApiKeyInfo' });

const apiKeyInfo = (key: EnvApiKey, ownerId: string): z.input<typeof ApiKeyInfo> => ({
  id: key.id,
  projectId: key.env.id,
  ownerId,
  name: key.name,
  partnerID: key.partnerId ?? '',
  partnerId: key.partnerId ?? '',
  createdAt: key.createdAt.toISOString(),
});

export const apiKeyRoutes = [
  restRoute({
    method: 'GET',
    url: '/projects/:id/apikeys',
    tag: TAG,
    summary: "A project's API keys, by name",
    description: 'Never the keys themselves. A project that does not exist is 404 (Storj answers `[]`).',
    params: ProjectParams,
    response: z.array(ApiKeyInfo),
    handle: async (ctx, { params }) => {
      const env = await found(ctx.services.envs.findById(ctx, params.id), 'Env');
      const keys = await ctx.services.envApiKeys.list(ctx, env.id);
      return keys.map((key) => apiKeyInfo(key, env.owner?.id ?? ''));
    },
  }),
  restRoute({
    method: 'POST',
    url: '/projects/:id/apikeys',
    tag: TAG,
    summary: 'Add an API key to a project',
    description:
      "The key is in the answer, and never again: Berth keeps only its hash. Names are unique in a project (409). `partnerId`, when given, must be a UUID. The key is Berth's (an opaque token), not a Storj macaroon, and authenticates nothing in Berth.",
    params: ProjectParams,
    body: z.object({ name: z.string().trim().min(1, 'must not be empty'), partnerId: z.guid().optional() }),
    response: z.object({ apikey: z.string() }),
    handle: async (ctx, { params, body }) => ({ apikey: (await ctx.services.envApiKeys.create(ctx, params.id, body)).key }),
  }),
  restRoute({
    method: 'DELETE',
    url: '/projects/:id/apikeys/:name',
    tag: TAG,
    summary: "Delete a project's API key by its name",
    params: ProjectParams.extend({ name: z.string() }),
    response: NoBody,
    handle: async (ctx, { params }) => void (await ctx.services.envApiKeys.deleteByName(ctx, params.id, params.name)),
  }),
  restRoute({
    method: 'DELETE',
    url: '/apikeys/:apikey',
    tag: TAG,
    summary: 'Delete an API key by the key itself',
    description: '400 for what is not a key, 404 for a key that is no longer (or never was) one.',
    params: z.object({ apikey: z.string() }),
    response: NoBody,
    handle: async (ctx, { params }) => void (await ctx.services.envApiKeys.deleteByKey(ctx, params.apikey)),
  }),
];
