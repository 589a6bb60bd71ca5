import { z } from 'zod';
import type { HelmChart } from '../../entities/index.js';
import { found, restRoute } from '../routes.js';
import { IdParams, PageQuery, pageOf, platzSchemas, QueryBoolean, readPage, rowJson, Timestamp, Uuid } from './schemas.js';

const TAG = 'Helm Charts';

/** A chart-ext document as the chart carried it, or null when it carried none. */
const Document = (what: string) => z.unknown().describe(`${what} (chart-ext), or null`);

const HelmChartJson = z.object({
  id: z.guid(),
  created_at: Timestamp.describe('when it was pushed'),
  helm_registry_id: z.guid(),
  image_digest: z.string(),
  image_tag: z.string(),
  available: z.boolean(),
  values_ui: Document('the UI schema of its config'),
  actions_schema: Document('its actions'),
  features: Document('its features'),
  resource_types: Document('the resource types it declares'),
  error: z.string().nullable().describe('why it could not be read'),
  tag_format_id: z.guid().nullable().describe('the tag format that parsed its tag'),
  parsed_version: z.string().nullable(),
  parsed_revision: z.string().nullable(),
  parsed_branch: z.string().nullable(),
  parsed_commit: z.string().nullable(),
});
platzSchemas.add(HelmChartJson, { id: 'HelmChart' });

const chartJson = (chart: HelmChart): z.input<typeof HelmChartJson> => ({
  ...rowJson(chart),
  helm_registry_id: chart.helmRegistry.id,
  image_digest: chart.imageDigest,
  image_tag: chart.imageTag,
  available: chart.available,
  values_ui: chart.valuesUi ?? null,
  actions_schema: chart.actionsSchema ?? null,
  features: chart.features ?? null,
  resource_types: chart.resourceTypes ?? null,
  error: chart.error ?? null,
  tag_format_id: chart.tagFormat?.id ?? null,
  parsed_version: chart.parsedVersion ?? null,
  parsed_revision: chart.parsedRevision ?? null,
  parsed_branch: chart.parsedBranch ?? null,
  parsed_commit: chart.parsedCommit ?? null,
});

export const helmChartRoutes = [
  restRoute({
    method: 'GET',
    url: '/helm-charts',
    tag: TAG,
    summary: 'The charts pushed to the registries',
    description:
      'Every caller sees every chart. Newest first. `in_use=true` keeps the charts some deployment uses, plus the newest chart of each (registry, parsed_branch) that has one in use (a chart without a branch counts as the branch none).',
    query: PageQuery.extend({
      helm_registry_id: Uuid.optional(),
      parsed_branch: z.string().optional().describe('exact'),
      kind_id: Uuid.optional().describe("the registry's deployment kind"),
      in_use: QueryBoolean.optional().describe('true: in use, or the newest of a branch in use; false does not filter'),
    }),
    response: pageOf(HelmChartJson),
    handle: (ctx, { query }) =>
      readPage(
        ctx,
        ctx.services.helmCharts,
        // Platz reads in_use=false as no filter at all (GraphQL's inUse: false means "not in use")
        { helmRegistryId: query.helm_registry_id, parsedBranch: query.parsed_branch, kindId: query.kind_id, inUse: query.in_use || undefined },
        query,
        chartJson,
      ),
  }),
  restRoute({
    method: 'GET',
    url: '/helm-charts/:id',
    tag: TAG,
    summary: 'One chart',
    params: IdParams,
    response: HelmChartJson,
    handle: async (ctx, { params }) => chartJson(await found(ctx.services.helmCharts.findById(ctx, params.id), 'HelmChart')),
  }),
];
