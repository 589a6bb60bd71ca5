import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { OpenAPIV3_1 } from 'openapi-types';
import { createJsonSchemaTransform, createJsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Logger } from '../logging/logger.js';
import { ErrorBody, platzErrors, restErrorHandler, sendRestError, type ErrorDialect } from './errors.js';
import { declareRoute, type AnyRestRoute, type ContextOf } from './routes.js';

/** The schemas an API's document names (its components), each with its name there. */
export type SchemaRegistry = z.core.$ZodRegistry<{ id: string; description?: string }>;

/** A registry for one API's schemas (ids are unique within an API's document), holding the error body they all share. */
export function schemaRegistry(errorBody: z.ZodType = ErrorBody): SchemaRegistry {
  const registry: SchemaRegistry = z.registry<{ id: string; description?: string }>();
  registry.add(errorBody, { id: 'Error' });
  return registry;
}

/** The credentials an API takes, for its document: its security schemes, and the requirement its non-public routes have. */
export interface RestSecurity {
  schemes: Record<string, OpenAPIV3_1.SecuritySchemeObject>;
  /** alternatives: any one of them suffices */
  requirement: Record<string, string[]>[];
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
  /** the context of each request, from the credentials this API takes */
  contextOf: ContextOf;
  /** how the API writes its errors (Platz's `{message}` unless said) */
  errors?: ErrorDialect;
  /** the credentials the API takes, for its document (Platz's two unless said) */
  security?: RestSecurity;
  logger: Logger;
}

/** Platz's two credentials; an API token in x-platz-token wins when both are sent. */
export const platzSecurity: RestSecurity = {
  schemes: {
    bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "an access token from a login (GraphQL's login, or single sign-on)" },
    platzToken: { type: 'apiKey', in: 'header', name: 'x-platz-token', description: 'a user or bot API token; wins over Authorization when both are sent' },
  },
  requirement: [{ bearer: [] }, { platzToken: [] }],
};

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
 * page for it (Swagger UI, from the package's own files) at `<prefix>/docs`, both public. Errors are written in the
 * API's own dialect (src/rest/errors.ts), unknown routes under the prefix included.
 */
export function restApi(options: RestApiOptions): FastifyPluginAsync {
  const { registry, contextOf } = options;
  const dialect = options.errors ?? platzErrors;
  const security = options.security ?? platzSecurity;
  return async (scope: FastifyInstance) => {
    scope.setValidatorCompiler(validatorCompiler);
    scope.setSerializerCompiler(serializerCompiler);
    scope.setErrorHandler(restErrorHandler(options.logger, dialect));
    await scope.register(fastifySwagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: options.title, version: options.version, description: options.description },
        components: { securitySchemes: security.schemes },
        security: security.requirement,
      },
      transform: createJsonSchemaTransform({ schemaRegistry: registry }),
      transformObject: createJsonSchemaTransformObject({ schemaRegistry: registry }),
    });
    for (const route of options.rootRoutes ?? []) declareRoute(scope, contextOf, route, dialect);
    await scope.register(
      async (api) => {
        api.setNotFoundHandler((request, reply) => sendRestError(reply, dialect, { status: 404, kind: 'NO_ROUTE', message: `No route ${request.method} ${request.url.split('?')[0]}` }));
        for (const route of options.routes) declareRoute(api, contextOf, route, dialect);
        api.get('/openapi.json', { schema: { hide: true } }, () => scope.swagger());
        await api.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP });
      },
      { prefix: options.prefix },
    );
  };
}
