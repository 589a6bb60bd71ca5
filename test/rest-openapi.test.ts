import { Validator } from '@seriousme/openapi-schema-validator';
import { restClient, type Rest } from './support/rest.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let rest: Rest;
beforeAll(async () => {
  server = await startTestServer();
  rest = restClient(server);
});
afterAll(() => server?.stop());

/** The document's path for a Fastify route pattern: `/envs/:id` is `/envs/{id}`. */
const documentPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

/** What the API serves beside its routes: its document and its reference page. */
const isDocumentation = (url: string) => url === '/api/v2/openapi.json' || url === '/api/v2/docs' || url.startsWith('/api/v2/docs/');

test('/api/v2/openapi.json is a valid OpenAPI 3.1 document', async () => {
  const res = await rest('GET', '/api/v2/openapi.json');
  expect(res.status).toBe(200);
  expect(res.body.openapi).toBe('3.1.0');
  const validator = new Validator();
  const result = await validator.validate(res.body);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
});

test('every REST route served is in the document, with its method, and the document names no route that is not served', async () => {
  const { body: document } = await rest<{ paths: Record<string, Record<string, unknown>> }>('GET', '/api/v2/openapi.json');
  const served = server.berth.httpRoutes
    .filter((r) => (r.url.startsWith('/api/v2/') || r.url === '/status') && !isDocumentation(r.url) && r.method !== 'HEAD')
    .map((r) => `${r.method} ${documentPath(r.url)}`)
    .sort();
  const documented = Object.entries(document.paths)
    .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
  expect(served.length).toBeGreaterThanOrEqual(10);
  expect(documented).toEqual(served);
});

test('each route documents its success and error answers; errors are the shared Error body', async () => {
  const { body: document } = await rest('GET', '/api/v2/openapi.json');
  const envs = document.paths['/api/v2/envs'];
  expect(Object.keys(envs.get.responses).sort()).toEqual(['200', '400', '401']);
  expect(Object.keys(envs.post.responses).sort()).toEqual(['201', '400', '401', '403', '409']);
  expect(envs.post.responses['409'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
  expect(envs.post.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Env' });
  expect(Object.keys(document.paths['/api/v2/envs/{id}'].delete.responses).sort()).toEqual(['204', '400', '401', '403', '404', '409']);
  // the cap on per_page is part of the contract
  const perPage = envs.get.parameters.find((p: { name: string }) => p.name === 'per_page');
  expect(perPage).toMatchObject({ in: 'query', schema: { maximum: 500, default: 50 } });
  // credentials: both schemes, and none on the public routes
  expect(Object.keys(document.components.securitySchemes).sort()).toEqual(['bearer', 'platzToken']);
  expect(document.components.securitySchemes.platzToken).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-platz-token' });
  expect(document.paths['/status'].get.security).toEqual([]);
  expect(document.components.schemas.Env.properties).toHaveProperty('auto_add_new_users');
});

test('the reference page is served from local files only', async () => {
  const page = await rest('GET', '/api/v2/docs/');
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/text\/html/);
  const sources = [...page.text.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
  expect(sources.length).toBeGreaterThanOrEqual(2);
  for (const source of sources) {
    expect(source).not.toMatch(/^(https?:)?\/\//);
    const asset = await rest('GET', new URL(source, new URL('/api/v2/docs/', server.berth.url)).pathname);
    expect([source, asset.status]).toEqual([source, 200]);
  }
  // the page loads the document from this server, and sends it to no online validator
  const initializer = await rest('GET', '/api/v2/docs/static/swagger-initializer.js');
  expect(initializer.status).toBe(200);
  expect(initializer.text).toMatch(/url: resolveUrl\('\.\/json'\)/);
  expect(initializer.text).toMatch(/validatorUrl: null/);
  expect((await rest('GET', '/api/v2/docs/json')).body).toEqual((await rest('GET', '/api/v2/openapi.json')).body);
  // and the browser is told to load nothing from elsewhere
  expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
  expect(page.headers.get('content-security-policy')).not.toMatch(/https:|\*/);
});
