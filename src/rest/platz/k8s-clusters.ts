import { z } from 'zod';
import type { K8sCluster } from '../../entities/index.js';
import { found, restRoute } from '../routes.js';
import { IdParams, PageQuery, pageOf, platzSchemas, readPage, rowJson, Timestamp, Uuid } from './schemas.js';

const TAG = 'Kubernetes Clusters';

const K8sClusterJson = z.object({
  id: z.guid(),
  env_id: z.guid().nullable().describe('null: in no env'),
  provider_id: z.string().describe('where the cluster was found, unique'),
  created_at: Timestamp,
  last_seen_at: Timestamp.nullable().describe('when Berth last reached it; null until it has'),
  name: z.string(),
  region_name: z.string(),
  is_ok: z.boolean(),
  not_ok_reason: z.string().nullable(),
  ignore: z.boolean().describe('not watched, and not deployed to'),
  ingress_domain: z.string().nullable(),
  ingress_class: z.string().nullable(),
  ingress_tls_secret_name: z.string().nullable(),
  grafana_url: z.string().nullable(),
  grafana_datasource_name: z.string().nullable(),
});
platzSchemas.add(K8sClusterJson, { id: 'K8sCluster' });

// Platz's columns only: never the API server's address or the credentials Berth keeps for it
const k8sClusterJson = (cluster: K8sCluster): z.input<typeof K8sClusterJson> => ({
  ...rowJson(cluster),
  env_id: cluster.env?.id ?? null,
  provider_id: cluster.providerId,
  last_seen_at: cluster.lastSeenAt?.toISOString() ?? null,
  name: cluster.name,
  region_name: cluster.regionName,
  is_ok: cluster.isOk,
  not_ok_reason: cluster.notOkReason ?? null,
  ignore: cluster.ignore,
  ingress_domain: cluster.ingressDomain ?? null,
  ingress_class: cluster.ingressClass ?? null,
  ingress_tls_secret_name: cluster.ingressTlsSecretName ?? null,
  grafana_url: cluster.grafanaUrl ?? null,
  grafana_datasource_name: cluster.grafanaDatasourceName ?? null,
});

/** A field a PUT may clear: absent leaves it, null clears it. */
const Clearable = <T extends z.ZodType>(value: T) => value.nullable().optional();

export const k8sClusterRoutes = [
  restRoute({
    method: 'GET',
    url: '/k8s-clusters',
    tag: TAG,
    summary: 'The clusters the caller may see',
    description: "Site admins see every cluster; other callers the clusters of the envs they hold a role in. Oldest first.",
    query: PageQuery.extend({
      env_id: Uuid.optional(),
      name: z.string().optional().describe('case-insensitive, exact'),
    }),
    response: pageOf(K8sClusterJson),
    handle: (ctx, { query }) => readPage(ctx, ctx.services.k8sClusters, { envId: query.env_id, name: query.name }, query, k8sClusterJson),
  }),
  restRoute({
    method: 'GET',
    url: '/k8s-clusters/:id',
    tag: TAG,
    summary: 'One cluster',
    description: 'A cluster the caller may not see is not found, as a missing one.',
    params: IdParams,
    response: K8sClusterJson,
    handle: async (ctx, { params }) => k8sClusterJson(await found(ctx.services.k8sClusters.findById(ctx, params.id), 'K8sCluster')),
  }),
  restRoute({
    method: 'PUT',
    url: '/k8s-clusters/:id',
    tag: TAG,
    summary: 'Update a cluster',
    description: 'Site admins. Fields left out are unchanged; null clears a field (ignore: null leaves it, as in Platz). A null env_id takes the cluster out of its env.',
    params: IdParams,
    body: z.object({
      env_id: Clearable(Uuid),
      ignore: z.boolean().nullable().optional(),
      ingress_domain: Clearable(z.string()).describe('a domain name, unique among clusters'),
      ingress_class: Clearable(z.string()),
      ingress_tls_secret_name: Clearable(z.string()),
      grafana_url: Clearable(z.string()).describe('an http(s) URL'),
      grafana_datasource_name: Clearable(z.string()),
    }),
    response: K8sClusterJson,
    handle: async (ctx, { params, body }) =>
      k8sClusterJson(
        await ctx.services.k8sClusters.update(ctx, params.id, {
          envId: body.env_id,
          ignore: body.ignore ?? undefined,
          ingressDomain: body.ingress_domain,
          ingressClass: body.ingress_class,
          ingressTlsSecretName: body.ingress_tls_secret_name,
          grafanaUrl: body.grafana_url,
          grafanaDatasourceName: body.grafana_datasource_name,
        }),
      ),
  }),
  restRoute({
    method: 'DELETE',
    url: '/k8s-clusters/:id',
    tag: TAG,
    summary: 'Delete a cluster',
    description: 'Site admins, once no deployment is left in it (409 otherwise); its namespaces and resources go with it.',
    params: IdParams,
    status: 204,
    response: z.undefined(),
    handle: async (ctx, { params }) => void (await ctx.services.k8sClusters.delete(ctx, params.id)),
  }),
];
