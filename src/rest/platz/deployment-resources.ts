import { z } from 'zod';
import type { DeploymentResource } from '../../entities/index.js';
import { DeploymentResourceSyncStatus } from '../../entities/enums.js';
import type { RequestContext } from '../../services/index.js';
import { found, restRoute } from '../routes.js';
import { IdParams, JsonObject, pageOf, PageQuery, platzSchemas, readPage, rowJson, Timestamp, Uuid } from './schemas.js';

const TAG = 'Deployment Resources';

const DeploymentResourceJson = z.object({
  id: z.guid(),
  created_at: Timestamp,
  type_id: z.guid(),
  deployment_id: z.guid().nullable().describe('the deployment that owns (and syncs) it; null once that deployment is gone'),
  name: z.string(),
  exists: z.boolean().describe('false once deleted'),
  props: JsonObject.describe('without the inputs its type marks sensitive'),
  sync_status: z.enum(DeploymentResourceSyncStatus),
  sync_reason: z.string().nullable(),
});
platzSchemas.add(DeploymentResourceJson, { id: 'DeploymentResource' });

/** The resource as every answer shows it: its type's sensitive props left out (GraphQL's `props` does the same). */
async function resourceJson(ctx: RequestContext, resource: DeploymentResource): Promise<z.input<typeof DeploymentResourceJson>> {
  return {
    ...rowJson(resource),
    type_id: resource.type.id,
    deployment_id: resource.deployment?.id ?? null,
    name: resource.name,
    exists: resource.exists,
    props: await ctx.services.deploymentResources.shownProps(ctx, resource),
    sync_status: resource.syncStatus,
    sync_reason: resource.syncReason ?? null,
  };
}

export const deploymentResourceRoutes = [
  restRoute({
    method: 'GET',
    url: '/deployment-resources',
    tag: TAG,
    summary: 'The deployment resources the caller may see',
    description: "Those whose deployment is in an env the caller holds a role in (site admins: all, also those whose deployment is gone). Oldest first.",
    query: PageQuery.extend({ type_id: Uuid.optional() }),
    response: pageOf(DeploymentResourceJson),
    handle: async (ctx, { query }) => {
      const page = await readPage(ctx, ctx.services.deploymentResources, { typeId: query.type_id }, query, (row) => row);
      return { ...page, items: await Promise.all(page.items.map((row) => resourceJson(ctx, row))) };
    },
  }),
  restRoute({
    method: 'GET',
    url: '/deployment-resources/:id',
    tag: TAG,
    summary: 'One deployment resource',
    description: 'A resource the caller may not see is not found, as a missing one.',
    params: IdParams,
    response: DeploymentResourceJson,
    handle: async (ctx, { params }) => resourceJson(ctx, await found(ctx.services.deploymentResources.findById(ctx, params.id), 'DeploymentResource')),
  }),
  restRoute({
    method: 'POST',
    url: '/deployment-resources',
    tag: TAG,
    summary: 'Create a deployment resource',
    description:
      "Maintainers of the owning deployment (its Owners and Maintainers, env Admins, the deployment's own token). Its deployment syncs it (Creating). Names are unique per type (409). A new row: an id, created_at or sync_status in the body is ignored.",
    body: z.object({
      type_id: Uuid.describe("a type of the deployment's env, or a global one"),
      deployment_id: Uuid,
      name: z.string().describe('not empty'),
      props: JsonObject.default({}),
    }),
    status: 201,
    response: DeploymentResourceJson,
    handle: async (ctx, { body }) =>
      resourceJson(ctx, await ctx.services.deploymentResources.create(ctx, { typeId: body.type_id, deploymentId: body.deployment_id, name: body.name, props: body.props })),
  }),
  restRoute({
    method: 'PUT',
    url: '/deployment-resources/:id',
    tag: TAG,
    summary: 'Update a deployment resource',
    description:
      'Maintainers of the owning deployment. Fields left out are unchanged; props are deep-merged into the current ones. Sets Updating; a changed name or props reinstalls the enabled deployments that use it.',
    params: IdParams,
    body: z.object({ name: z.string().nullish(), props: JsonObject.nullish().describe('deep-merged') }),
    response: DeploymentResourceJson,
    handle: async (ctx, { params, body }) => resourceJson(ctx, await ctx.services.deploymentResources.update(ctx, params.id, { name: body.name, props: body.props })),
  }),
  restRoute({
    method: 'DELETE',
    url: '/deployment-resources/:id',
    tag: TAG,
    summary: 'Delete a deployment resource',
    description: 'Maintainers of the owning deployment. Sets Deleting; its deployment deletes it, then it stays with exists false. 409 when already deleted.',
    params: IdParams,
    status: 204,
    response: z.undefined(),
    handle: async (ctx, { params }) => void (await ctx.services.deploymentResources.delete(ctx, params.id)),
  }),
];
