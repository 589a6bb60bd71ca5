import fastifyCors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/** What a browser frontend on another origin sends: credentials, and the request id it may set. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'x-platz-token', 'x-request-id'];

/** GraphQL's GET and POST, and the REST API's writes. */
const ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** How long a browser may reuse a preflight's answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS for every HTTP route: a request from one of `origins` gets Access-Control-Allow-Origin (credentials allowed),
 * and its preflight is answered (204). With no origins nothing is registered, nothing is added, and browsers keep
 * other origins out.
 */
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (!origins.length) return;
  await app.register(fastifyCors, {
    origin: [...origins],
    credentials: true,
    // one comma-separated list (the plugin joins an array with ", ")
    allowedHeaders: ALLOWED_HEADERS.join(','),
    methods: ALLOWED_METHODS,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  });
}
