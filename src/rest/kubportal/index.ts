import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from '../../logging/logger.js';
import type { Credentials } from '../../request/identity.js';
import { restApi } from '../api.js';
import type { ContextOf } from '../routes.js';
import { authRoutes, bootstrapRoute, KUBPORTAL_API_VERSION } from './auth.js';
import { clusterRoutes } from './cluster.js';
import { groupRoutes } from './groups.js';
import { kubportalErrors, kubportalSchemas } from './schemas.js';
import { userRoutes } from './users.js';
import { webAppRoutes } from './webapps.js';

/** Where Kubportal's clients find the API: its one version, in the path. */
export const KUBPORTAL_PREFIX = `/api/${KUBPORTAL_API_VERSION}`;

/** Kubportal takes one credential: a JWT from its login, as `Authorization: Bearer`. */
export const kubportalCredentials = (headers: IncomingHttpHeaders): Credentials => ({ authorization: headers.authorization });

/**
 * Kubportal's backend API v1.4.0 (src/rest/kubportal/CONTRACT.md), over the services GraphQL uses: a user's own
 * portal (itself, its groups, its web apps, its cluster), with Kubportal's integer ids and DRF's errors.
 */
export function kubportalApi(options: { contextOf: ContextOf; logger: Logger }): FastifyPluginAsync {
  return restApi({
    prefix: KUBPORTAL_PREFIX,
    title: 'Kubportal Backend API (served by Berth)',
    version: KUBPORTAL_API_VERSION,
    description:
      'Kubportal\'s API as Berth serves it. Paths end with a slash; IDs are integers; errors are DRF\'s (`{"detail": "..."}`, or `{"<field>": ["..."]}`). The bootstrap is `GET /api/`.',
    registry: kubportalSchemas,
    routes: [...authRoutes, ...userRoutes, ...webAppRoutes, ...groupRoutes, ...clusterRoutes],
    rootRoutes: [bootstrapRoute],
    contextOf: options.contextOf,
    errors: kubportalErrors,
    security: {
      schemes: { JWT: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'the `access_token` of a login' } },
      requirement: [{ JWT: [] }],
    },
    logger: options.logger,
  });
}
