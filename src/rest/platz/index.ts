import { z } from 'zod';
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from '../../logging/logger.js';
import { restApi } from '../api.js';
import { restRoute, type ContextOf } from '../routes.js';
import { authRoutes } from './auth.js';
import { botTokenRoutes } from './bot-tokens.js';
import { botRoutes } from './bots.js';
import { deploymentKindRoutes } from './deployment-kinds.js';
import { deploymentPermissionRoutes } from './deployment-permissions.js';
import { deploymentResourceTypeRoutes } from './deployment-resource-types.js';
import { deploymentResourceRoutes } from './deployment-resources.js';
import { deploymentTaskRoutes } from './deployment-tasks.js';
import { deploymentRoutes } from './deployments.js';
import { envUserPermissionRoutes } from './env-user-permissions.js';
import { envRoutes } from './envs.js';
import { helmChartRoutes } from './helm-charts.js';
import { helmRegistryRoutes } from './helm-registries.js';
import { helmTagFormatRoutes } from './helm-tag-formats.js';
import { k8sClusterRoutes } from './k8s-clusters.js';
import { k8sResourceRoutes } from './k8s-resources.js';
import { platzSchemas } from './schemas.js';
import { secretRoutes } from './secrets.js';
import { serverRoutes } from './server.js';
import { userTokenRoutes } from './user-tokens.js';
import { userRoutes } from './users.js';

/** Where Platz's clients find the API. */
export const PLATZ_PREFIX = '/api/v2';

const statusRoute = restRoute({
  method: 'GET',
  url: '/status',
  tag: 'Server',
  summary: 'Liveness, as Platz answers it',
  access: 'public',
  response: z.literal('ok'),
  contentType: 'text/plain',
  handle: async () => 'ok' as const,
});

/**
 * Platz's REST API v2 (src/rest/platz/CONTRACT.md), route for route, over the services GraphQL uses: its frontend,
 * CLI and scripts keep working against Berth.
 */
export function platzApi(options: { contextOf: ContextOf; logger: Logger; version: string }): FastifyPluginAsync {
  return restApi({
    prefix: PLATZ_PREFIX,
    title: 'Platz API v2 (served by Berth)',
    version: options.version,
    description: "Platz's REST API as Berth serves it. Errors are JSON `{\"message\": ...}`; lists take `page` and `per_page` and answer `{page, per_page, items, num_total}`.",
    registry: platzSchemas,
    routes: [...authRoutes, ...envRoutes, ...userRoutes, ...deploymentRoutes, ...deploymentTaskRoutes, ...k8sClusterRoutes, ...k8sResourceRoutes, ...serverRoutes, ...envUserPermissionRoutes, ...deploymentPermissionRoutes, ...secretRoutes, ...userTokenRoutes, ...botRoutes, ...botTokenRoutes, ...deploymentKindRoutes, ...deploymentResourceTypeRoutes, ...helmChartRoutes, ...helmRegistryRoutes, ...helmTagFormatRoutes, ...deploymentResourceRoutes],
    rootRoutes: [statusRoute],
    contextOf: options.contextOf,
    logger: options.logger,
  });
}
