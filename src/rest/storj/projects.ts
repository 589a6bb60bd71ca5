import { z } from 'zod';
import { conflict } from '../../errors/domain-error.js';
import { envLimits } from '../../services/env.service.js';
import { found, restRoute } from '../routes.js';
import { NoBody, ProjectParams, storjSchemas } from './schemas.js';

const TAG = 'Projects';

const limit = (what: string) => z.number().int().nullable().describe(`${what}; null when not set`);

const Project = z.object({
  id: z.guid(),
  name: z.string(),
  description: z.string(),
  ownerId: z.guid().nullable().describe('null for an env without an owner'),
  createdAt: z.string().describe('RFC 3339, UTC'),
  storageLimit: limit('bytes stored'),
  bandwidthLimit: limit('bytes downloaded a month'),
  rateLimit: limit('requests a second'),
  burstLimit: limit('requests at once beyond the rate'),
  maxBuckets: limit('buckets'),
  segmentLimit: limit('segments'),
});
storjSchemas.add(Project, { id: 'Project' });

/** A project's limits before any is set. */
const UNSET = { storageLimit: null, bandwidthLimit: null, rateLimit: null, burstLimit: null, maxBuckets: null, segmentLimit: null };

export const projectRoutes = [
  restRoute({
    method: 'POST',
    url: '/projects',
    tag: TAG,
    summary: 'Add a project (an env) for a user',
    description:
      "An env named `projectName`, owned by the user `ownerId`, who becomes its Admin. Env names are unique (case-insensitive, 1 to 63 characters), so a name taken is 409, where Storj allows duplicates; an owner that does not exist is 404.",
    body: z.object({ ownerId: z.guid(), projectName: z.string().trim().min(1, 'must not be empty').max(63) }),
    response: z.object({ projectId: z.guid() }),
    handle: async (ctx, { body }) => ({ projectId: (await ctx.services.envs.create(ctx, { name: body.projectName }, body.ownerId)).id }),
  }),
  restRoute({
    method: 'GET',
    url: '/projects/:id',
    tag: TAG,
    summary: 'A project: its env, owner and limits',
    description: 'A project that does not exist is 404 (Storj answers 500).',
    params: ProjectParams,
    response: Project,
    handle: async (ctx, { params }) => {
      const env = await found(ctx.services.envs.findById(ctx, params.id), 'Env');
      return {
        id: env.id,
        name: env.name,
        description: env.description ?? '',
        ownerId: env.owner?.id ?? null,
        createdAt: env.createdAt.toISOString(),
        ...UNSET,
        ...envLimits(env),
      };
    },
  }),
  restRoute({
    method: 'PUT',
    url: '/projects/:id',
    tag: TAG,
    summary: "Change a project's name and description",
    description: 'An empty or absent description is left unchanged, as Storj does.',
    params: ProjectParams,
    body: z.object({ projectName: z.string().trim().min(1, 'must not be empty').max(63), description: z.string().optional() }),
    response: NoBody,
    handle: async (ctx, { params, body }) => void (await ctx.services.envs.update(ctx, params.id, { name: body.projectName, ...(body.description ? { description: body.description } : {}) })),
  }),
  restRoute({
    method: 'DELETE',
    url: '/projects/:id',
    tag: TAG,
    summary: 'Delete a project (its env)',
    description: "409 while it has API keys, or any deployment (Berth's rule for deleting an env, stricter than Storj's usage check).",
    params: ProjectParams,
    response: NoBody,
    handle: async (ctx, { params }) => void (await ctx.services.envs.delete(ctx, params.id)),
  }),
  restRoute({
    method: 'GET',
    url: '/projects/:id/usage',
    tag: TAG,
    summary: 'Whether a project is in use',
    description:
      "In use means the env has deployments that are enabled and Running, or being installed, upgraded or renamed: then 409 `usage for current month exists`. Otherwise 200.",
    params: ProjectParams,
    errors: { 409: 'usage for current month exists: the env has deployments in use' },
    response: z.object({ result: z.literal('no project usage exist') }),
    handle: async (ctx, { params }) => {
      if ((await ctx.services.envs.deploymentsInUse(ctx, params.id)).length) throw conflict('usage for current month exists');
      return { result: 'no project usage exist' as const };
    },
  }),
];
