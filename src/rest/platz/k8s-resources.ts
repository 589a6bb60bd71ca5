import { z } from 'zod';
import type { K8sResource } from '../../entities/index.js';
import { K8sResourceStatusColor } from '../../entities/enums.js';
import { found, restRoute } from '../routes.js';
import { IdParams, PageQuery, pageOf, platzSchemas, readPage, Timestamp, Uuid } from './schemas.js';

const TAG = 'Kubernetes Resources';

const K8sResourceJson = z.object({
  id: z.guid().describe("the object's Kubernetes uid"),
  last_updated_at: Timestamp,
  cluster_id: z.guid(),
  deployment_id: z.guid().nullable().describe('the deployment it belongs to; null when it belongs to none'),
  kind: z.string(),
  api_version: z.string(),
  name: z.string(),
  status_color: z.array(z.enum(K8sResourceStatusColor)).describe('one entry per replica or pod'),
  metadata: z.record(z.string(), z.unknown()).describe("the object's ObjectMeta"),
});
platzSchemas.add(K8sResourceJson, { id: 'K8sResource' });

// Platz's row has no created_at: its id and last_updated_at say which object and how fresh
const k8sResourceJson = (resource: K8sResource): z.input<typeof K8sResourceJson> => ({
  id: resource.id,
  last_updated_at: resource.lastUpdatedAt.toISOString(),
  cluster_id: resource.cluster.id,
  deployment_id: resource.deployment?.id ?? null,
  kind: resource.kind,
  api_version: resource.apiVersion,
  name: resource.name,
  status_color: resource.statusColor,
  metadata: resource.metadata,
});

export const k8sResourceRoutes = [
  restRoute({
    method: 'GET',
    url: '/k8s-resources',
    tag: TAG,
    summary: 'The Kubernetes objects of the clusters the caller may see',
    description: "Mirrored from the clusters Berth watches; read-only. Site admins see every one; other callers those of the clusters of the envs they hold a role in. Oldest first.",
    query: PageQuery.extend({
      cluster_id: Uuid.optional(),
      deployment_id: Uuid.optional(),
      kind: z.string().optional().describe('case-insensitive, exact'),
      name: z.string().optional().describe('case-insensitive, exact'),
    }),
    response: pageOf(K8sResourceJson),
    handle: (ctx, { query }) =>
      readPage(ctx, ctx.services.k8sResources, { clusterId: query.cluster_id, deploymentId: query.deployment_id, kind: query.kind, name: query.name }, query, k8sResourceJson),
  }),
  restRoute({
    method: 'GET',
    url: '/k8s-resources/:id',
    tag: TAG,
    summary: 'One Kubernetes object',
    description: 'One the caller may not see is not found, as a missing one (Platz answers 200 null for a missing one).',
    params: IdParams,
    response: K8sResourceJson,
    handle: async (ctx, { params }) => k8sResourceJson(await found(ctx.services.k8sResources.findById(ctx, params.id), 'K8sResource')),
  }),
];
