import { z } from 'zod';
import type { DeploymentKind } from '../../entities/index.js';
import { found, restRoute } from '../routes.js';
import { IdParams, PageQuery, pageOf, platzSchemas, readPage, rowJson, Timestamp } from './schemas.js';

const TAG = 'Deployment Kinds';

const DeploymentKindJson = z.object({ id: z.guid(), created_at: Timestamp, name: z.string() });
platzSchemas.add(DeploymentKindJson, { id: 'DeploymentKind' });

const kindJson = (kind: DeploymentKind): z.input<typeof DeploymentKindJson> => ({ ...rowJson(kind), name: kind.name });

export const deploymentKindRoutes = [
  restRoute({
    method: 'GET',
    url: '/deployment-kinds',
    tag: TAG,
    summary: 'The deployment kinds',
    description: 'Every caller sees every kind (chart discovery names them after their registries). Oldest first.',
    query: PageQuery.extend({ name: z.string().optional().describe('exact') }),
    response: pageOf(DeploymentKindJson),
    handle: (ctx, { query }) => readPage(ctx, ctx.services.deploymentKinds, { name: query.name }, query, kindJson),
  }),
  restRoute({
    method: 'GET',
    url: '/deployment-kinds/:id',
    tag: TAG,
    summary: 'One deployment kind',
    params: IdParams,
    response: DeploymentKindJson,
    handle: async (ctx, { params }) => kindJson(await found(ctx.services.deploymentKinds.findById(ctx, params.id), 'DeploymentKind')),
  }),
  restRoute({
    method: 'PUT',
    url: '/deployment-kinds/:id',
    tag: TAG,
    summary: 'Rename a deployment kind',
    description: 'Site admins; names are unique (409 otherwise).',
    params: IdParams,
    body: z.object({ name: z.string().describe('1 to 100 characters, trimmed') }),
    response: DeploymentKindJson,
    handle: async (ctx, { params, body }) => kindJson(await ctx.services.deploymentKinds.rename(ctx, params.id, body.name)),
  }),
];
