import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from '../../logging/logger.js';
import { sessionCookie } from '../../request/identity.js';
import { restApi } from '../api.js';
import type { AnyRestRoute, ContextOf } from '../routes.js';
import { aliasRoutes } from './aliases.js';
import { applicationRoutes } from './applications.js';
import { authRoutes, SESSION_COOKIE } from './auth.js';
import { beaconRoutes } from './beacons.js';
import { LIGHTHOUSE_PREFIX, lighthouseErrors, lighthouseSchemas } from './schemas.js';
import { userRoutes } from './users.js';

/** Lighthouse takes one credential: the session in its `auth` cookie. */
export const lighthouseCredentials = sessionCookie(SESSION_COOKIE);

/** Every route of the API, relative to its prefix. */
export const routes: AnyRestRoute[] = [...authRoutes, ...userRoutes, ...beaconRoutes, ...aliasRoutes, ...applicationRoutes];

/**
 * Lighthouse's API v0.2 (src/rest/lighthouse/CONTRACT.md): its users, its beacons (Berth's clusters) and their
 * instances (the clusters' nodes), its aliases, over the services GraphQL uses.
 */
export function lighthouseApi(options: { contextOf: ContextOf; logger: Logger; version: string }): FastifyPluginAsync {
  return restApi({
    prefix: LIGHTHOUSE_PREFIX,
    title: 'Lighthouse API v0.2 (served by Berth)',
    version: options.version,
    description: "Lighthouse's REST API as Berth serves it. Log in with POST /login: the session is the `auth` cookie. Errors are JSON `{\"Cause\": module, \"Message\": ...}`.",
    registry: lighthouseSchemas,
    routes,
    contextOf: options.contextOf,
    errors: lighthouseErrors,
    security: {
      schemes: { session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'the session POST /login opened' } },
      requirement: [{ session: [] }],
    },
    logger: options.logger,
  });
}
