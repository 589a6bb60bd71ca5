import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { GraphQLContext } from '../graphql/context.js';
import type { Credentials } from '../request/identity.js';
import { credentialsFromHeaders, type RequestOrigin } from './context.js';
import { currentRequestScope } from '../logging/request-scope.js';
import { SUBSCRIPTION_OVER_HTTP } from '../graphql/http-subscriptions.js';
import { SERVICE_UNAVAILABLE } from '../graphql/errors.js';

type CreateContext = (credentials: Credentials, origin: RequestOrigin) => Promise<GraphQLContext>;

const MAX_BODY_BYTES = 1024 * 1024;
/** when a client should try again after the database was unavailable */
const RETRY_AFTER_SECONDS = 5;

class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * GraphQL over HTTP straight on node:http: reads the body, hands the request to Apollo, writes the
 * answer. The API's hot path skips Express's router and body parser (a third of the CPU per request here).
 */
export function graphqlHttpHandler(apollo: ApolloServer<GraphQLContext>, createContext: CreateContext) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: unknown;
    try {
      body = await readJsonBody(req);
    } catch (err) {
      if (!(err instanceof BadRequest)) throw err;
      res.writeHead(err.status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ errors: [{ message: err.message, extensions: { code: 'BAD_REQUEST' } }] }));
      return;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const url = req.url ?? '';
    const queryStart = url.indexOf('?');
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: (req.method ?? 'GET').toUpperCase(), headers, search: queryStart < 0 ? '' : url.slice(queryStart), body },
      context: () => createContext(credentialsFromHeaders(req.headers), { request: req, requestId: currentRequestScope()?.requestId }),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      const body = response.body.string;
      if (res.statusCode === 400 && answersWithLegacyStatus(response.headers.get('content-type'), body)) res.statusCode = 200;
      // errors come first in a response: a body with data is not searched
      if (body.startsWith('{"errors":') && body.includes(`"code":"${SERVICE_UNAVAILABLE}"`)) {
        res.statusCode = 503;
        res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
      }
      res.end(body);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
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

/** The JSON body, or undefined when there is none or it is not JSON (Apollo then answers with its own error). */
async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  if (req.method !== 'POST' || !/^application\/(.+\+)?json\b/i.test(req.headers['content-type'] ?? '')) {
    req.resume(); // drain, so the connection can be reused
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      req.resume();
      throw new BadRequest(413, 'Request body too large');
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    // only objects and arrays are GraphQL request bodies (as body-parser's strict mode)
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    return parsed;
  } catch {
    throw new BadRequest(400, 'Invalid JSON body');
  }
}
