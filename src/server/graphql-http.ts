import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { GraphQLContext } from '../graphql/context.js';
import type { Credentials } from '../request/identity.js';
import { credentialsFromHeaders, type RequestOrigin } from './context.js';

type CreateContext = (credentials: Credentials, origin: RequestOrigin) => Promise<GraphQLContext>;

const MAX_BODY_BYTES = 1024 * 1024;

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
      context: () => createContext(credentialsFromHeaders(req.headers), { request: req, requestId: headers.get('x-request-id') }),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
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
