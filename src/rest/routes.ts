import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../errors/domain-error.js';
import { requireIdentity } from '../request/context.js';
import type { RequestContext } from '../services/index.js';
import type { ErrorDialect } from './errors.js';
import { checkRestInput, checkRestParams } from './input-limits.js';

/** The context of an HTTP request (src/server/context.ts): the same one GraphQL's resolvers receive. */
export type ContextOf = (request: IncomingMessage) => Promise<RequestContext>;

type Schema = z.ZodType;
type Out<S> = S extends Schema ? z.output<S> : undefined;

/**
 * One route of a REST API, declared once: its schemas validate the request (400 naming the field), write the
 * response, and make the route's entry in the API's OpenAPI document. `handle` is a thin adapter: it calls services
 * with the request's context and maps what they return to the response's shape.
 */
export interface RestRoute<P extends Schema | undefined, Q extends Schema | undefined, B extends Schema | undefined, R extends Schema> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** relative to the API's prefix, `:name` for a path parameter */
  url: string;
  /** the route's group in the document (its resource family) */
  tag: string;
  summary: string;
  description?: string;
  /** `public`: no credential needed; otherwise a caller is required (401 without one) */
  access?: 'public';
  params?: P;
  query?: Q;
  body?: B;
  /** the success status: 200, 201 on create, 204 (with `z.undefined()` as the response) on delete */
  status?: 200 | 201 | 204;
  response: R;
  /** errors the route answers beyond what its inputs and method imply (a public login's 401), each with when */
  errors?: Record<number, string>;
  /** the response's media type when it is not JSON (Platz's `GET /status` answers plain text) */
  contentType?: 'text/plain';
  /**
   * the answer is newline-delimited JSON written as it happens (Lighthouse's progress streams), each line a
   * `response`: `handle` returns the JsonLines it writes to
   */
  lines?: true;
  /** `reply` for what a route adds to its answer beside the body (a cookie); the status is the route's */
  handle(ctx: RequestContext, request: { params: Out<P>; query: Out<Q>; body: Out<B>; headers: IncomingHttpHeaders }, reply: FastifyReply): Promise<z.input<R> | JsonLines>;
}

/**
 * An answer of JSON values, one a line, each sent as it is written (Fastify pipes a stream, and serializes nothing of
 * it). Once the client has gone (the stream closed: its `close` event tells the writer) lines are dropped.
 */
export class JsonLines extends PassThrough {
  line(value: unknown): void {
    if (!this.closed && !this.writableEnded) this.write(`${JSON.stringify(value)}\n`);
  }
}

/** A route of any schemas, as an API lists them (each route's own types are checked where `restRoute` defines it). */
export type AnyRestRoute = RestRoute<any, any, any, any>;

/** Declares a route, its handler typed from its schemas. */
export const restRoute = <P extends Schema | undefined = undefined, Q extends Schema | undefined = undefined, B extends Schema | undefined = undefined, R extends Schema = Schema>(
  route: RestRoute<P, Q, B, R>,
): AnyRestRoute => route;

const json = (schema: Schema, description: string) => ({ description, content: { 'application/json': { schema } } });

/** The errors a route can answer, for its document: what its inputs and its method make possible, as its API words them. */
function errorResponses(route: AnyRestRoute, dialect: ErrorDialect): Record<number, ReturnType<typeof json>> {
  let errors: Record<number, string> = {};
  if (route.params || route.query || route.body) errors[400] = 'the request does not match its schema (the message names the field), or a value is refused';
  if (route.access !== 'public') errors[401] = 'no credential, or one that is not valid (the message says why)';
  // a public write (a login) has no caller to refuse, and no row of its own to clash with
  const write = route.method !== 'GET' && route.access !== 'public';
  if (write) errors[403] = 'the caller may not do this';
  if (route.params) errors[404] = 'no such row, or one the caller may not see';
  if (write) errors[409] = 'a duplicate, or a rule about other rows forbids it';
  if (dialect.documented) errors = dialect.documented(errors);
  Object.assign(errors, route.errors);
  return Object.fromEntries(Object.entries(errors).map(([status, when]) => [status, json(dialect.schema, when)]));
}

/** Each request's context, built when it arrives (`onRequest`) and used by its handler. */
const contexts = new WeakMap<FastifyRequest, RequestContext>();

/** Registers `route` on an API's scope (set up by `restApi`, src/rest/api.ts), building each request's context with `contextOf`. */
export function declareRoute(app: FastifyInstance, contextOf: ContextOf, route: AnyRestRoute, dialect: ErrorDialect): void {
  const status = route.status ?? 200;
  // no body to describe on a 204, nor on a route that answers none (Storj's writes answer 200 and no body)
  const description = route.lines ? `${route.summary}: newline-delimited JSON, each line one of these, written as it happens` : route.summary;
  const success = status === 204 || route.response instanceof z.ZodUndefined ? route.response : { description, content: { [route.contentType ?? 'application/json']: { schema: route.response } } };
  app.withTypeProvider<ZodTypeProvider>().route({
    method: route.method,
    url: route.url,
    schema: {
      tags: [route.tag],
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      ...(route.access === 'public' ? { security: [] } : {}),
      ...(route.params ? { params: route.params } : {}),
      ...(route.query ? { querystring: route.query } : {}),
      ...(route.body ? { body: route.body } : {}),
      response: { [status]: success, ...errorResponses(route, dialect) },
    },
    // the caller first, before the body is even read: without a valid credential the answer is 401, whatever was sent
    onRequest: async (request) => {
      const ctx = await contextOf(request.raw);
      if (route.access !== 'public') requireIdentity(ctx);
      contexts.set(request, ctx);
    },
    handler: async (request, reply) => {
      checkRestParams(request.params);
      checkRestInput(request.query, 'query');
      checkRestInput(request.body, 'body');
      const ctx = contexts.get(request)!;
      const result: unknown = await route.handle(ctx, { params: request.params, query: request.query, body: request.body, headers: request.headers }, reply);
      if (route.contentType) reply.type(`${route.contentType}; charset=utf-8`);
      if (result instanceof JsonLines !== !!route.lines) throw new Error(`${route.method} ${route.url} answered ${route.lines ? 'no stream' : 'a stream'}`);
      if (result instanceof JsonLines) reply.type('application/json');
      return reply.code(status).send(result as never);
    },
  });
}

/** A row read by id, or 404: a REST API never answers 200 with null. */
export async function found<T>(row: Promise<T | null>, what: string): Promise<T> {
  const value = await row;
  if (value === null) throw notFound(what);
  return value;
}
