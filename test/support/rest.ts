import type { TestServer } from './server.js';

export interface RestResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** the body as JSON; undefined when it is empty or not JSON */
  body: T;
  text: string;
}

export type Rest = <T = any>(method: string, path: string, options?: { headers?: Record<string, string>; body?: unknown; query?: Record<string, string | number | boolean> }) => Promise<RestResponse<T>>;

/** Calls a test server's REST routes: `path` from the server's root (`/api/v2/envs`), a JSON body when one is given. */
export function restClient(server: TestServer): Rest {
  const origin = new URL(server.berth.url).origin;
  return async (method, path, options = {}) => {
    const url = new URL(path, origin);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, String(value));
    const res = await fetch(url, {
      method,
      headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
      body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, headers: res.headers, body: body as never, text };
  };
}
