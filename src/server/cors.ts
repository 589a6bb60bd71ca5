import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';

/** What a browser frontend on another origin sends: credentials, and the request id it may set. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'x-platz-token', 'x-request-id'];

/** How long a browser may reuse a preflight's answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export type HttpMiddleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * CORS for every HTTP route, on the raw node request (POST /graphql bypasses Express): a request from one of `origins`
 * gets Access-Control-Allow-Origin (credentials allowed), and its preflight is answered here (204). With no origins,
 * nothing is added, and browsers keep other origins out.
 */
export function corsMiddleware(origins: readonly string[]): HttpMiddleware {
  if (!origins.length) return (_req, _res, next) => next();
  const handle = cors({ origin: [...origins], credentials: true, allowedHeaders: ALLOWED_HEADERS, maxAge: PREFLIGHT_MAX_AGE_SECONDS });
  return (req, res, next) => handle(req, res, () => next());
}
