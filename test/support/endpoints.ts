import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** One request as the endpoints received it. */
export interface EndpointRequest {
  method: string;
  /** the URL's path, without the query */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** as sent (JSON.parse it when it is JSON) */
  body: string;
}

export interface EndpointResponse {
  /** 200; with redirectTo, 302 */
  status?: number;
  /** a string is sent as it is (text/plain), anything else as JSON; none: an empty body */
  body?: unknown;
  headers?: Record<string, string>;
  /** answers after that long: for callers' timeouts */
  delayMs?: number;
  /** a redirect there (the Location header, absolute or relative) */
  redirectTo?: string;
}

/**
 * The requests a response is for: a path (`'/status'`, any method) or a method and a path (`'POST
 * /actions/restart'`), the path compared without its query; a RegExp tried on `METHOD /path`; or a
 * predicate.
 */
export type RequestMatcher = string | RegExp | ((request: EndpointRequest) => boolean);

/** A deployment's endpoints (its ingress) as Berth calls them: recorded, answered as the test says. */
export interface Endpoints {
  /** http://127.0.0.1:{port} (https with `tls`) */
  url: string;
  port: number;
  /** every request received, in order */
  readonly requests: EndpointRequest[];
  /** From now on the requests `matcher` matches get `response` (or what it makes of each); the latest matching response wins, a request none matches gets 404. */
  respond(matcher: RequestMatcher, response: EndpointResponse | ((request: EndpointRequest) => EndpointResponse)): void;
  /** Stops listening, resets every connection, drops the answers still delayed. */
  close(): Promise<void>;
}

export async function startEndpoints(options: { tls?: { key: string; cert: string } } = {}): Promise<Endpoints> {
  const requests: EndpointRequest[] = [];
  const responses: Array<{ matches: (request: EndpointRequest) => boolean; respond: (request: EndpointRequest) => EndpointResponse }> = [];
  const delayed = new Set<NodeJS.Timeout>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://endpoints');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: EndpointRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    requests.push(request);
    const found = responses.findLast((r) => r.matches(request));
    const response = found?.respond(request) ?? { status: 404, body: { message: `no response for ${request.method} ${request.path}` } };
    const send = () => {
      const { body, redirectTo } = response;
      const type = body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' };
      res.writeHead(response.status ?? (redirectTo ? 302 : 200), { ...type, ...(redirectTo ? { location: redirectTo } : {}), ...response.headers });
      res.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (!response.delayMs) return send();
    const timer = setTimeout(() => {
      delayed.delete(timer);
      send();
    }, response.delayMs);
    delayed.add(timer);
  };
  // a client that went away while sending
  const listener = (req: IncomingMessage, res: ServerResponse) => void handle(req, res).catch(() => res.destroy());
  const server = options.tls ? createHttpsServer(options.tls, listener) : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    respond: (matcher, response) => responses.push({ matches: matcherFor(matcher), respond: typeof response === 'function' ? response : () => response }),
    close: async () => {
      delayed.forEach(clearTimeout);
      delayed.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function matcherFor(matcher: RequestMatcher): (request: EndpointRequest) => boolean {
  if (typeof matcher === 'function') return matcher;
  if (matcher instanceof RegExp) return (r) => matcher.test(`${r.method} ${r.path}`);
  const [method, path] = matcher.includes(' ') ? matcher.split(' ', 2) : [undefined, matcher];
  return (r) => r.path === path && (method === undefined || r.method === method);
}
