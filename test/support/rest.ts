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
export function restClient(server: Pick<TestServer, 'berth'>): Rest {
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

/** A timestamp as Platz writes it: RFC 3339, UTC, milliseconds. */
export const RFC_3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** An id no row has. */
export const MISSING = '00000000-0000-4000-8000-000000000000';
/** The ids of a list's page, in its order. */
export const ids = (body: { items: { id: string }[] }) => body.items.map((item) => item.id);
