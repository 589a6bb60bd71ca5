import { loadConfig } from '../src/config/config.js';
import { startTestServer, type TestServer } from './support/server.js';

const FRONTEND = 'https://app.example.com';

let open: TestServer;
let closed: TestServer;
beforeAll(async () => {
  [open, closed] = await Promise.all([startTestServer({ CORS_ORIGINS: `${FRONTEND}, http://localhost:3000` }), startTestServer()]);
});
afterAll(() => Promise.all([open?.stop(), closed?.stop()]));

const base = (server: TestServer) => new URL(server.berth.url).origin;

/** A browser's preflight for a JSON POST with a bearer token. */
const preflight = (server: TestServer, origin: string, path = '/graphql') =>
  fetch(`${base(server)}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-request-id' },
  });

const post = (server: TestServer, origin: string) =>
  fetch(server.berth.url, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ serverInfo { version } }' }) });

test('a preflight from a configured origin is answered with that origin, credentials and the headers the API reads', async () => {
  const res = await preflight(open, FRONTEND);
  expect(res.status).toBe(204);
  expect(res.headers.get('access-control-allow-origin')).toBe(FRONTEND);
  expect(res.headers.get('access-control-allow-credentials')).toBe('true');
  expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
  expect(res.headers.get('access-control-allow-headers')?.toLowerCase().split(',')).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-platz-token', 'x-request-id']));
  expect(res.headers.get('vary')).toMatch(/Origin/);
  // the other configured origin too
  expect((await preflight(open, 'http://localhost:3000')).headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
});

test('the requests themselves carry the header on every route: GraphQL, health, the REST API', async () => {
  const res = await post(open, FRONTEND);
  expect(res.status).toBe(200);
  expect(res.headers.get('access-control-allow-origin')).toBe(FRONTEND);
  expect(await res.json()).toEqual({ data: { serverInfo: { version: expect.any(String) } } });
  for (const path of ['/healthz', '/readyz']) {
    const health = await fetch(`${base(open)}${path}`, { headers: { origin: FRONTEND } });
    expect([path, health.headers.get('access-control-allow-origin')]).toEqual([path, FRONTEND]);
  }
  expect((await preflight(open, FRONTEND, '/healthz')).headers.get('access-control-allow-origin')).toBe(FRONTEND);
  // the REST API's, its writes' preflights included
  const rest = await fetch(`${base(open)}/api/v2/envs`, { headers: { origin: FRONTEND } });
  expect([rest.status, rest.headers.get('access-control-allow-origin')]).toEqual([401, FRONTEND]);
  for (const method of ['PUT', 'DELETE']) {
    const res = await fetch(`${base(open)}/api/v2/envs/00000000-0000-4000-8000-000000000000`, {
      method: 'OPTIONS',
      headers: { origin: FRONTEND, 'access-control-request-method': method, 'access-control-request-headers': 'x-platz-token,content-type' },
    });
    expect([method, res.status, res.headers.get('access-control-allow-origin')]).toEqual([method, 204, FRONTEND]);
    expect(res.headers.get('access-control-allow-methods')).toMatch(new RegExp(method));
  }
});

test('another origin gets no Access-Control-Allow-Origin (the browser keeps it out); the request itself is served as before', async () => {
  for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.example.com', 'http://app.example.com']) {
    expect([origin, (await preflight(open, origin)).headers.get('access-control-allow-origin')]).toEqual([origin, null]);
    expect([origin, (await post(open, origin)).headers.get('access-control-allow-origin')]).toEqual([origin, null]);
  }
});

test('by default no origin is allowed: no CORS header at all, and a preflight is not answered as one', async () => {
  const res = await preflight(closed, FRONTEND);
  expect(res.headers.get('access-control-allow-origin')).toBeNull();
  expect(res.headers.get('access-control-allow-headers')).toBeNull();
  const served = await post(closed, FRONTEND);
  expect(served.status).toBe(200);
  expect(served.headers.get('access-control-allow-origin')).toBeNull();
});

test('CORS_ORIGINS takes exact origins, normalized; a wildcard, a path or another scheme stops the start', () => {
  expect(loadConfig({}).CORS_ORIGINS).toEqual([]);
  expect(loadConfig({ CORS_ORIGINS: 'https://App.Example.com:443  http://localhost:3000/' }).CORS_ORIGINS).toEqual(['https://app.example.com', 'http://localhost:3000']);
  for (const bad of ['*', 'https://app.example.com/ui', 'app.example.com', 'ftp://app.example.com', 'https://user:pw@app.example.com', 'https://*.example.com']) {
    expect(() => loadConfig({ CORS_ORIGINS: bad })).toThrow(/CORS_ORIGINS: .* is not an origin/);
  }
});
