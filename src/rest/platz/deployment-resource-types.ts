import { z } from 'zod';
import type { DeploymentResourceType } from '../../entities/index.js';
import { found, restRoute } from '../routes.js';
import { IdParams, PageQuery, pageOf, platzSchemas, readPage, rowJson, Timestamp, Uuid } from './schemas.js';

const TAG = 'Deployment Resource Types';

const DeploymentResourceTypeJson = z.object({
  id: z.guid(),
  created_at: Timestamp,
  env_id: z.guid().nullable().describe('null for a global type'),
  deployment_kind_id: z.guid(),
  key: z.string(),
  spec: z.unknown().describe("the chart's resource type spec (chart-ext ResourceType v1beta1)"),
});
platzSchemas.add(DeploymentResourceTypeJson, { id: 'DeploymentResourceType' });

const typeJson = (type: DeploymentResourceType): z.input<typeof DeploymentResourceTypeJson> => ({
  ...rowJson(type),
  env_id: type.env?.id ?? null,
  deployment_kind_id: type.deploymentKind.id,
  key: type.key,
  spec: type.spec,
});

export const deploymentResourceTypeRoutes = [
  restRoute({
    method: 'GET',
    url: '/deployment-resource-types',
    tag: TAG,
    summary: 'The resource types the caller may see',
    description: "Global types, and those of the envs the caller holds a role in (site admins: all). Declared by charts; read-only. Oldest first.",
    query: PageQuery.extend({
      env_id: Uuid.optional().describe('exact: global types are not in an env'),
      deployment_kind_id: Uuid.optional(),
      key: z.string().optional().describe('exact'),
    }),
    response: pageOf(DeploymentResourceTypeJson),
    handle: (ctx, { query }) =>
      readPage(ctx, ctx.services.deploymentResourceTypes, { envId: query.env_id, deploymentKindId: query.deployment_kind_id, key: query.key }, query, typeJson),
  }),
  restRoute({
    method: 'GET',
    url: '/deployment-resource-types/:id',
    tag: TAG,
    summary: 'One resource type',
    description: 'A type of an env the caller may not see is not found, as a missing one.',
    params: IdParams,
    response: DeploymentResourceTypeJson,
    handle: async (ctx, { params }) => typeJson(await found(ctx.services.deploymentResourceTypes.findById(ctx, params.id), 'DeploymentResourceType')),
  }),
];
