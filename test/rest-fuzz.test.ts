import { ADMIN_PASSWORD, startTestServer, type TestServer } from './support/server.js';

/**
 * Every operation of every REST API, read from its OpenAPI document, given wrong, empty, huge, NUL-containing, deeply
 * nested and unknown values in each body field, each path parameter and each query parameter, with a valid admin
 * credential of that API. No answer may be a 5xx or carry internal text, and the server keeps answering. APIs are found
 * through their documents, so a new one is fuzzed without a line here.
 */

const STORJ_TOKEN = 'storj-admin-token-for-the-fuzz-test';
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ BERTH_STORJ_ADMIN_TOKEN: STORJ_TOKEN });
});
afterAll(() => server?.stop());

const origin = () => new URL(server.berth.url).origin;

type Schema = { $ref?: string; type?: string | string[]; properties?: Record<string, Schema> };
interface Operation {
  security?: unknown[];
  parameters?: { name: string; in: 'path' | 'query' | 'header' }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const deep = (depth: number): unknown => (depth === 0 ? 'bottom' : { a: deep(depth - 1) });
/** Values no field takes as they are: each is sent in place of one field at a time. */
const WRONG: unknown[] = [null, 0, -1, 1e308, true, '', 'x'.repeat(70_000), 'a\u0000b', '\ud800', [], [1, 'two'], {}, deep(60), '../../etc/passwd', '<script>alert(1)</script>'];
const WRONG_PATH = ['0', '-1', '99999999999999999999999', 'x'.repeat(3000), '%00', '%ZZ', 'null', '00000000-0000-4000-8000-000000000000', '..%2F..', '%F0%9F%92%A9'];
const WRONG_QUERY = ['', '-1', 'x'.repeat(5000), 'true', '1e999', '%00', '[]'];
/** Text that only an internal failure would put in an answer. */
const INTERNAL = /TypeError|ReferenceError|SyntaxError: Unexpected|Cannot read prop|\bat \S+\.js:\d+|MikroORM|node_modules/;

/** Each API's prefix and a valid admin credential of its kind. */
async function credentials(prefix: string): Promise<Record<string, string>> {
  const post = (path: string, body: unknown) => fetch(`${origin()}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const cookieFrom = async (res: Promise<Response>) => ({ cookie: (await res).headers.get('set-cookie')!.split(';')[0] });
  switch (prefix) {
    case '/api':
      return cookieFrom(post('/api/login', { email: 'admin', password: ADMIN_PASSWORD }));
    case '/api/v0.2':
      return cookieFrom(post('/api/v0.2/login', { Email: 'admin', Password: ADMIN_PASSWORD }));
    case '/storj/api':
      return { authorization: STORJ_TOKEN };
    default:
      return server.adminAuth();
  }
}

const resolve = (document: Document, schema: Schema | undefined): Schema | undefined =>
  schema?.$ref ? document.components?.schemas?.[schema.$ref.split('/').pop()!] : schema;

/** The requests that fuzz one operation: its path with each parameter wrong, each query parameter wrong, each body field wrong, and wrong whole bodies. */
function fuzzedRequests(document: Document, path: string, operation: Operation): { url: string; body?: unknown }[] {
  const params = operation.parameters ?? [];
  const plausible = path.replace(/\{[^}]+\}/g, '1');
  const requests: { url: string; body?: unknown }[] = [];
  for (const param of params.filter((p) => p.in === 'path')) {
    for (const value of WRONG_PATH) requests.push({ url: path.replace(`{${param.name}}`, value).replace(/\{[^}]+\}/g, '1') });
  }
  for (const param of params.filter((p) => p.in === 'query')) {
    for (const value of WRONG_QUERY) requests.push({ url: `${plausible}?${encodeURIComponent(param.name)}=${encodeURIComponent(value)}` });
  }
  const content = operation.requestBody?.content['application/json'];
  if (content) {
    const schema = resolve(document, content.schema);
    for (const field of Object.keys(schema?.properties ?? {})) {
      for (const value of WRONG) requests.push({ url: plausible, body: { [field]: value } });
    }
    for (const body of [null, [], 'text', 12, deep(200), { unknown: 'field' }]) requests.push({ url: plausible, body });
  }
  return requests;
}

test('no operation of any REST API answers a 5xx or internal text to wrong input, and the server keeps answering', async () => {
  const prefixes = server.berth.httpRoutes.filter((r) => r.method === 'GET' && r.url.endsWith('/openapi.json')).map((r) => r.url.slice(0, -'/openapi.json'.length));
  expect(prefixes.length).toBeGreaterThanOrEqual(5);
  const failures: string[] = [];
  let sent = 0;
  for (const prefix of prefixes) {
    const headers = await credentials(prefix);
    const document = (await (await fetch(`${origin()}${prefix}/openapi.json`)).json()) as Document;
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        // a logout would end the credential the rest of the API is fuzzed with
        if (/logout/.test(path)) continue;
        for (const request of fuzzedRequests(document, path, operation)) {
          const init: RequestInit = { method: method.toUpperCase(), headers: { ...headers, ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}) } };
          if (request.body !== undefined) init.body = JSON.stringify(request.body);
          const res = await fetch(`${origin()}${request.url}`, init);
          const text = await res.text();
          sent++;
          if (res.status >= 500 || INTERNAL.test(text)) failures.push(`${method.toUpperCase()} ${request.url.slice(0, 120)} ${JSON.stringify(request.body)?.slice(0, 80)} → ${res.status} ${text.slice(0, 200)}`);
        }
      }
    }
  }
  expect(failures).toEqual([]);
  expect(sent).toBeGreaterThan(1000);
  expect((await fetch(`${origin()}/healthz`)).status).toBe(200);
}, 600_000);

test("a path parameter holding a NUL is refused in the API's own words, naming the parameter, before any SQL", async () => {
  const res = await fetch(`${origin()}/storj/api/users/a%00b`, { headers: { authorization: STORJ_TOKEN } });
  expect([res.status, await res.json()]).toEqual([400, { error: 'email: must not contain a NUL character', detail: '' }]);
  const lighthouse = await fetch(`${origin()}/api/v0.2/users/a%00b`, { headers: await credentials('/api/v0.2') });
  expect([lighthouse.status, (await lighthouse.json()).Message]).toEqual([400, 'Email (path parameter): must not contain a NUL character']);
});
