import { Readable } from 'node:stream';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { GraphQLContext } from '../graphql/context.js';
import type { Credentials } from '../request/identity.js';
import type { Logger } from '../logging/logger.js';
import { contextOfRequest, type RequestOrigin } from './context.js';
import { SUBSCRIPTION_OVER_HTTP } from '../graphql/http-subscriptions.js';
import { SERVICE_UNAVAILABLE } from '../graphql/errors.js';

type CreateContext = (credentials: Credentials, origin: RequestOrigin) => Promise<GraphQLContext>;

/** when a client should try again after the database was unavailable */
const RETRY_AFTER_SECONDS = 5;

/** What an unexpected failure is answered with: nothing of the failure itself. */
export const INTERNAL_ERROR_BODY = JSON.stringify({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });

/** JSON media types (`application/json`, `application/graphql-response+json`, …) carry GraphQL requests. */
const JSON_TYPES = /^application\/(.+\+)?json\b/i;

class BadRequest extends Error {
  readonly statusCode = 400;
}

export interface GraphqlHttpOptions {
  apollo: ApolloServer<GraphQLContext>;
  createContext: CreateContext;
  logger: Logger;
  /** runs before GET /graphql reaches Apollo, and may answer it instead (the IDE's page for a browser) */
  page?: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
}

/**
 * GraphQL over HTTP at /graphql, GET and POST: the body as JSON (strictly an object or an array; any other type is no
 * GraphQL request, and Apollo says so, CSRF prevention included), handed to Apollo, its answer written as it is. A
 * body that is too large or not JSON gets a GraphQL-shaped error.
 */
export function graphqlHttp(options: GraphqlHttpOptions): FastifyPluginAsync {
  const { apollo, logger } = options;
  const contextOf = contextOfRequest(options.createContext);
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, (_request, text, done) => {
      if (!(text as string).trim()) return done(null, {});
      try {
        const parsed: unknown = JSON.parse(text as string);
        // only objects and arrays are GraphQL request bodies
        if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
        done(null, parsed);
      } catch {
        done(new BadRequest('Invalid JSON body'), undefined);
      }
    });
    app.addContentTypeParser('*', (_request, payload, done) => {
      payload.resume(); // drained, so the connection can be reused
      done(null, undefined);
    });
    app.setErrorHandler((err: FastifyError, _request, reply) => {
      const status = err.statusCode ?? 500;
      if (status >= 500) {
        logger.error({ err }, 'unexpected HTTP error');
        return reply.code(500).type('application/json; charset=utf-8').send(INTERNAL_ERROR_BODY);
      }
      const message = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'Request body too large' : err.message;
      return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }));
    });

    const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const req = request.raw;
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const url = req.url ?? '';
      const queryStart = url.indexOf('?');
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: request.method, headers, search: queryStart < 0 ? '' : url.slice(queryStart), body: request.body },
        context: () => contextOf(req),
      });
      for (const [key, value] of response.headers) reply.header(key, value);
      reply.code(response.status ?? 200);
      if (response.body.kind !== 'complete') return reply.send(Readable.from(response.body.asyncIterator));
      const body = response.body.string;
      if (reply.statusCode === 400 && answersWithLegacyStatus(response.headers.get('content-type'), body)) reply.code(200);
      // errors come first in a response: a body with data is not searched
      if (body.startsWith('{"errors":') && body.includes(`"code":"${SERVICE_UNAVAILABLE}"`)) reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
      return reply.send(body);
    };
    app.post('/graphql', handler);
    app.get('/graphql', options.page ? { preHandler: options.page } : {}, handler);
  };
}

/** Errors of a well-formed request that its document or variables caused (not the request's shape). */
const DOCUMENT_ERROR_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', SUBSCRIPTION_OVER_HTTP]);

/**
 * GraphQL over HTTP: a client that accepts only `application/json` SHOULD get 200 for a well-formed request whose
 * document fails to parse or validate or whose variables fail coercion (the errors say so); Apollo answers 400 either
 * way. `application/graphql-response+json` keeps the 4xx, and so does a malformed request (no query, bad JSON).
 */
function answersWithLegacyStatus(contentType: string | undefined, body: string): boolean {
  if (!contentType?.startsWith('application/json')) return false;
  try {
    const { errors, data } = JSON.parse(body) as { errors?: { extensions?: { code?: unknown } }[]; data?: unknown };
    return data === undefined && !!errors?.length && errors.every((e) => DOCUMENT_ERROR_CODES.has(String(e.extensions?.code)));
  } catch {
    return false;
  }
}
