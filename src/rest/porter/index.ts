import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from '../../logging/logger.js';
import { sessionCookie } from '../../request/identity.js';
import { restApi } from '../api.js';
import type { ContextOf } from '../routes.js';
import { authRoutes, SESSION_COOKIE } from './auth.js';
import { porterErrors } from './errors.js';
import { porterSchemas } from './schemas.js';
import { userRoutes } from './users.js';

/** Where Porter's clients find the API; the other APIs under /api (Platz's /api/v2 …) keep their own paths and errors. */
export const PORTER_PREFIX = '/api';

/** Porter's API takes one credential: the session in its `porter` cookie. */
export const porterCredentials = sessionCookie(SESSION_COOKIE);

/**
 * Porter's early API (seed 000; src/rest/porter/CONTRACT.md): users who sign up and log in to a session kept in
 * PostgreSQL, each with its own kubeconfig and the clusters of it it allows, over the services GraphQL uses.
 */
export function porterApi(options: { contextOf: ContextOf; logger: Logger; version: string }): FastifyPluginAsync {
  return restApi({
    prefix: PORTER_PREFIX,
    title: "Porter's API (served by Berth)",
    version: options.version,
    description:
      'Porter\'s early API as Berth serves it. Credential: the `porter` session cookie a login or a sign-up sets. Errors are JSON `{"code", "errors"}` (600 unreadable request, 601 refused value, 602 not found, 500); a request without a session, or for another user\'s id, is the plain text `Forbidden` with 403.',
    registry: porterSchemas,
    routes: [...authRoutes, ...userRoutes],
    contextOf: options.contextOf,
    errors: porterErrors,
    security: {
      schemes: { porterSession: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'the session a login or a sign-up set; ended by a logout' } },
      requirement: [{ porterSession: [] }],
    },
    logger: options.logger,
  });
}
