import { z } from 'zod';
import type { Deployment } from '../../entities/index.js';
import { DeploymentStatus } from '../../entities/enums.js';
import { found, restRoute } from '../routes.js';
import { IdParams, JsonObject, pageOf, PageQuery, platzSchemas, QueryBoolean, readPage, rowJson, Timestamp, Uuid } from './schemas.js';

const TAG = 'Deployments';

const DeploymentJson = z.object({
  id: z.guid(),
  created_at: Timestamp,
  name: z.string().describe('empty for charts deployed once per cluster'),
  kind_id: z.guid(),
  cluster_id: z.guid(),
  enabled: z.boolean(),
  status: z.enum(DeploymentStatus),
  description_md: z.string().nullable(),
  reason: z.string().nullable().describe('why the status is what it is (an error, say)'),
  revision_id: z.guid().nullable().describe('the last successful Install or Upgrade task'),
  reported_status: z.unknown().describe('what the deployment reports of itself: {timestamp, get_successful, content, error}, or null'),
  helm_chart_id: z.guid(),
  config: JsonObject.describe("inputs of the chart's values_ui"),
  values_override: JsonObject,
});
platzSchemas.add(DeploymentJson, { id: 'Deployment' });

const deploymentJson = (d: Deployment): z.input<typeof DeploymentJson> => ({
  ...rowJson(d),
  name: d.name,
  kind_id: d.kind.id,
  cluster_id: d.cluster.id,
  enabled: d.enabled,
  status: d.status,
  description_md: d.descriptionMd ?? null,
  reason: d.reason ?? null,
  revision_id: d.revision?.id ?? null,
  reported_status: d.reportedStatus ?? null,
  helm_chart_id: d.helmChart.id,
  config: d.config,
  values_override: d.valuesOverride,
});

export const deploymentRoutes = [
  restRoute({
    method: 'GET',
    url: '/deployments',
    tag: TAG,
    summary: 'The deployments the caller may see',
    description: 'Site admins see every deployment; other callers those in the envs they hold a role in. Oldest first.',
    query: PageQuery.extend({
      name: z.string().optional().describe('case-insensitive substring'),
      kind_id: Uuid.optional(),
      cluster_id: Uuid.optional(),
      enabled: QueryBoolean.optional(),
      env_id: Uuid.optional().describe("the cluster's env"),
    }),
    response: pageOf(DeploymentJson),
    handle: (ctx, { query }) =>
      readPage(
        ctx,
        ctx.services.deployments,
        { name: query.name, kindId: query.kind_id, clusterId: query.cluster_id, enabled: query.enabled, envId: query.env_id },
        query,
        deploymentJson,
      ),
  }),
  restRoute({
    method: 'GET',
    url: '/deployments/:id',
    tag: TAG,
    summary: 'One deployment',
    description: 'A deployment the caller may not see is not found, as a missing one.',
    params: IdParams,
    response: DeploymentJson,
    handle: async (ctx, { params }) => deploymentJson(await found(ctx.services.deployments.findById(ctx, params.id), 'Deployment')),
  }),
  restRoute({
    method: 'POST',
    url: '/deployments',
    tag: TAG,
    summary: 'Create a deployment',
    description: "Owners of the kind in the cluster's env (and its Admins, site admins). Creates its Install task.",
    body: z.object({
      name: z.string().default('').describe('a DNS-1123 label; empty for charts deployed once per cluster'),
      kind_id: Uuid,
      cluster_id: Uuid,
      helm_chart_id: Uuid.describe('a chart of the kind'),
      config: JsonObject.optional().describe("inputs of the chart's values_ui (default {})"),
      values_override: JsonObject.optional().describe('default {}'),
    }),
    status: 201,
    response: DeploymentJson,
    handle: async (ctx, { body }) =>
      deploymentJson(
        await ctx.services.deployments.create(ctx, {
          name: body.name,
          kindId: body.kind_id,
          clusterId: body.cluster_id,
          helmChartId: body.helm_chart_id,
          config: body.config,
          valuesOverride: body.values_override,
        }),
      ),
  }),
  restRoute({
    method: 'PUT',
    url: '/deployments/:id',
    tag: TAG,
    summary: 'Update a deployment',
    description:
      'Maintainers of the deployment (in the old and the new cluster\'s env); fields left out are unchanged. Tasks follow: Install when enabled, Recreate then Upgrade when moved or renamed, Upgrade when the chart, config or values change, Uninstall when disabled; dependents are reinstalled.',
    params: IdParams,
    body: z.object({
      name: z.string().optional(),
      cluster_id: Uuid.optional(),
      helm_chart_id: Uuid.optional(),
      config: JsonObject.optional(),
      values_override: JsonObject.optional(),
      enabled: z.boolean().optional(),
      description_md: z.string().nullable().optional().describe('null clears it'),
    }),
    response: DeploymentJson,
    handle: async (ctx, { params, body }) =>
      deploymentJson(
        await ctx.services.deployments.update(ctx, params.id, {
          name: body.name,
          clusterId: body.cluster_id,
          helmChartId: body.helm_chart_id,
          config: body.config,
          valuesOverride: body.values_override,
          enabled: body.enabled,
          descriptionMd: body.description_md,
        }),
      ),
  }),
  restRoute({
    method: 'DELETE',
    url: '/deployments/:id',
    tag: TAG,
    summary: 'Delete a deployment',
    description: 'Owners of the kind in its env, once no other deployment uses it (409 otherwise). It becomes Deleting with an Uninstall task; the row goes once uninstalled.',
    params: IdParams,
    status: 204,
    response: z.undefined(),
    handle: async (ctx, { params }) => void (await ctx.services.deployments.delete(ctx, params.id)),
  }),
];
