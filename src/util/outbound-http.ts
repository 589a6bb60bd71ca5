/**
 * Every HTTP call Berth makes to something it does not run (a deployment's endpoints, Helm registries) goes through
 * here: bounded in time (the whole exchange, body included), http(s) only, redirects followed only within the same
 * origin, and nothing added: the caller names every header, so Berth's own credentials never leave by accident.
 */
export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** ends the call early (a worker stopping), besides the timeout */
  signal?: AbortSignal;
  /** same-origin redirects followed; 5 */
  maxRedirects?: number;
}

export interface OutboundResponse {
  status: number;
  headers: Headers;
  /** the URL that answered (after same-origin redirects) */
  url: string;
  body: Uint8Array;
  text(): string;
}

/** Why an outbound call did not get an answer: said so a person can act on it, without the request's headers. */
export class OutboundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundError';
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function outboundFetch(url: string, request: OutboundRequest): Promise<OutboundResponse> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  let target = parseTarget(url);
  const origin = target.origin;
  let method = request.method ?? 'GET';
  let body = request.body;
  for (let redirects = 0; ; redirects++) {
    let res: Response;
    try {
      res = await fetch(target, { method, headers: request.headers, body, redirect: 'manual', signal });
    } catch (err) {
      throw failure(err, target, request.timeoutMs);
    }
    const location = res.headers.get('location');
    if (REDIRECTS.has(res.status) && location) {
      await res.body?.cancel();
      const next = parseTarget(new URL(location, target).toString());
      if (next.origin !== origin) throw new OutboundError(`${describe(target)} redirected to another host (${next.host}); not followed`);
      if (redirects >= (request.maxRedirects ?? 5)) throw new OutboundError(`${describe(target)}: too many redirects`);
      if (res.status === 303) [method, body] = ['GET', undefined];
      target = next;
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      throw failure(err, target, request.timeoutMs);
    }
    return { status: res.status, headers: res.headers, url: target.toString(), body: bytes, text: () => new TextDecoder().decode(bytes) };
  }
}

function parseTarget(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OutboundError(`not a URL: ${url.slice(0, 200)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new OutboundError(`only http and https are called, not ${parsed.protocol}`);
  return parsed;
}

/** The URL without its query or credentials, for messages */
const describe = (url: URL) => `${url.origin}${url.pathname}`;

function failure(err: unknown, url: URL, timeoutMs: number): OutboundError {
  const e = err as { name?: string; message?: string; cause?: { message?: string; code?: string } };
  if (e?.name === 'TimeoutError') return new OutboundError(`${describe(url)} did not answer within ${timeoutMs} ms`);
  const cause = e?.cause?.message ? `: ${e.cause.message}` : '';
  return new OutboundError(`${describe(url)}: ${e?.message ?? String(err)}${cause}`);
}
