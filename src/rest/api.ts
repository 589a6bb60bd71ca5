import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { createJsonSchemaTransform, createJsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Logger } from '../logging/logger.js';
import { ErrorBody, restErrorHandler } from './errors.js';
import { declareRoute, type AnyRestRoute, type ContextOf } from './routes.js';

/** The schemas an API's document names (its components), each with its name there. */
export type SchemaRegistry = z.core.$ZodRegistry<{ id: string; description?: string }>;

/** A registry for one API's schemas (ids are unique within an API's document), holding the error body they all share. */
export function schemaRegistry(): SchemaRegistry {
  const registry: SchemaRegistry = z.registry<{ id: string; description?: string }>();
  registry.add(ErrorBody, { id: 'Error' });
  return registry;
}

export interface RestApiOptions {
  /** where the API lives (`/api/v2`): its routes, its document at `<prefix>/openapi.json`, its reference page at `<prefix>/docs` */
  prefix: string;
  title: string;
  version: string;
  description: string;
  registry: SchemaRegistry;
  /** relative to the prefix */
  routes: AnyRestRoute[];
  /** routes the API serves outside its prefix (Platz's `GET /status`), documented with the others */
  rootRoutes?: AnyRestRoute[];
  contextOf: ContextOf;
  logger: Logger;
}

/** The two credentials every API takes; an API token in x-platz-token wins when both are sent. */
const SECURITY_SCHEMES = {
  bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "an access token from a login (GraphQL's login, or single sign-on)" },
  platzToken: { type: 'apiKey', in: 'header', name: 'x-platz-token', description: 'a user or bot API token; wins over Authorization when both are sent' },
} as const;

/**
 * The reference page loads everything from this server, and the browser is told so: the plugin's own policy allows
 * styles and fonts from any https origin and upgrades requests to https (which breaks "Try it out" on plain http),
 * and forbids the inline styles Swagger UI sets.
 */
const DOCS_CSP =
  "default-src 'self'; base-uri 'self'; connect-src 'self'; font-src 'self' data:; form-action 'self'; frame-ancestors 'self'; img-src 'self' data:; object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'";

/**
 * A REST API on Fastify, its routes declared once with zod schemas (src/rest/routes.ts) that validate requests,
 * write responses and generate its OpenAPI 3.1 document; the document at `<prefix>/openapi.json` and a reference
 * page for it (Swagger UI, from the package's own files) at `<prefix>/docs`. Errors are the API's JSON
 * `{message}` (src/rest/errors.ts), unknown routes under the prefix included.
 */
export function restApi(options: RestApiOptions): FastifyPluginAsync {
  const { registry, contextOf } = options;
  return async (scope: FastifyInstance) => {
    scope.setValidatorCompiler(validatorCompiler);
    scope.setSerializerCompiler(serializerCompiler);
    scope.setErrorHandler(restErrorHandler(options.logger));
    await scope.register(fastifySwagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: options.title, version: options.version, description: options.description },
        components: { securitySchemes: SECURITY_SCHEMES },
        security: [{ bearer: [] }, { platzToken: [] }],
      },
      transform: createJsonSchemaTransform({ schemaRegistry: registry }),
      transformObject: createJsonSchemaTransformObject({ schemaRegistry: registry }),
    });
    for (const route of options.rootRoutes ?? []) declareRoute(scope, contextOf, route);
    await scope.register(
      async (api) => {
        api.setNotFoundHandler((request, reply) => reply.code(404).send({ message: `No route ${request.method} ${request.url.split('?')[0]}` }));
        for (const route of options.routes) declareRoute(api, contextOf, route);
        api.get('/openapi.json', { schema: { hide: true } }, () => scope.swagger());
        await api.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP });
      },
      { prefix: options.prefix },
    );
  };
}
