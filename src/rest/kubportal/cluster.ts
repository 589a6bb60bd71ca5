import { z } from 'zod';
import { notFound } from '../../errors/domain-error.js';
import type { ClusterStatistics } from '../../services/k8s-cluster.service.js';
import { restRoute } from '../routes.js';
import { kubportalSchemas } from './schemas.js';

/** Kubportal's ten slugs, each one of Berth's statistics of a cluster. */
const SLUGS: Record<string, (s: ClusterStatistics) => string | number | null> = {
  portal_user_count: (s) => s.portalUserCount,
  portal_version: (s) => s.portalVersion,
  k8s_version: (s) => s.k8sVersion,
  k8s_node_count: (s) => s.nodeCount,
  k8s_cpu_count: (s) => s.cpuCount,
  k8s_mem_sum: (s) => s.memory,
  k8s_pod_count: (s) => s.podCount,
  k8s_volume_count: (s) => s.volumeCount,
  k8s_apiserver_url: (s) => s.apiServerUrl,
  k8s_cluster_name: (s) => s.clusterName,
};

const StatisticType = z.record(z.string(), z.union([z.string(), z.number(), z.null()])).describe('one entry: the slug, and its value');
kubportalSchemas.add(StatisticType, { id: 'StatisticType' });

export const clusterRoutes = [
  restRoute({
    method: 'GET',
    url: '/cluster/:slug/',
    tag: 'Cluster',
    summary: 'Get information about the cluster.',
    description:
      "A single information value as JSON dictionary with one entry. The key is the slug name. The cluster is the one of the caller's service account when the caller may see it, else the oldest cluster it may see (those Berth deploys to first); its figures are reused for K8S_STATISTICS_CACHE_SECONDS.",
    params: z.object({ slug: z.string().describe(Object.keys(SLUGS).join(', ')) }),
    errors: { 404: 'an unknown slug, or no cluster the caller may see', 502: 'the cluster did not answer, or refused Berth\'s credentials' },
    response: StatisticType,
    handle: async (ctx, { params }) => {
      const value = Object.hasOwn(SLUGS, params.slug) ? SLUGS[params.slug] : undefined;
      if (!value) throw notFound('Statistic');
      return { [params.slug]: value(await ctx.services.k8sClusters.ownClusterStatistics(ctx)) };
    },
  }),
];
