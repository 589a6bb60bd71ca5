import type { IncomingMessage } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from '../../logging/logger.js';
import type { RequestAuth } from '../../request/context.js';
import type { RequestContext } from '../../services/index.js';
import { restApi } from '../api.js';
import { apiKeyRoutes } from './apikeys.js';
import { storjCaller } from './auth.js';
import { storjErrors } from './errors.js';
import { limitRoutes } from './limits.js';
import { projectRoutes } from './projects.js';
import { storjSchemas } from './schemas.js';
import { userRoutes } from './users.js';

/** Where Storj's admin clients find the API: pointed at `http://berth/storj`, they call `/storj/api/...`. */
export const STORJ_PREFIX = '/storj/api';

export interface StorjApiOptions {
  /** BERTH_STORJ_ADMIN_TOKEN; unset, every route answers 403 */
  adminToken: string | undefined;
  /** the context of a request whose caller this API has found (src/server/context.ts `contextWithCaller`) */
  contextWith: (request: IncomingMessage, auth: RequestAuth) => Promise<RequestContext>;
  logger: Logger;
  version: string;
}

/**
 * Storj's satellite admin API (src/rest/storj/CONTRACT.md): users by email, projects as envs, their API keys, usage
 * and limits, over the services GraphQL uses. One credential, the admin token, as Berth's system identity `storj-admin`.
 */
export function storjApi(options: StorjApiOptions): FastifyPluginAsync {
  const callerOf = storjCaller(options.adminToken);
  return restApi({
    prefix: STORJ_PREFIX,
    title: 'Storj satellite admin API (served by Berth)',
    version: options.version,
    description:
      "Storj's admin API as Berth serves it: projects are envs. Every route needs the admin token (BERTH_STORJ_ADMIN_TOKEN), as is, in `Authorization`; errors are JSON `{\"error\": ..., \"detail\": ...}`.",
    registry: storjSchemas,
    routes: [...userRoutes, ...projectRoutes, ...limitRoutes, ...apiKeyRoutes],
    contextOf: (request) => options.contextWith(request, callerOf(request.headers.authorization)),
    errors: storjErrors,
    security: {
      schemes: { adminToken: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'the admin token (BERTH_STORJ_ADMIN_TOKEN), as is: no `Bearer`' } },
      requirement: [{ adminToken: [] }],
    },
    logger: options.logger,
  });
}
