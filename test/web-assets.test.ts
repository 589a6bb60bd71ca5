import { startTestServer, type TestServer } from './support/server.js';

/**
 * The web assets (the GraphQL IDE, each REST API's document and reference page) are served without a credential, while
 * every API route keeps requiring one (as Storj's admin server serves its UI). Each API is found through its document,
 * so an API added later is held to the same rule without a line here.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const origin = () => new URL(server.berth.url).origin;
const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

interface Operation {
  security?: unknown[];
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

/** Each REST API's prefix, by the document it serves at `<prefix>/openapi.json`. */
const apiPrefixes = () =>
  server.berth.httpRoutes.filter((r) => r.method === 'GET' && r.url.endsWith('/openapi.json')).map((r) => r.url.slice(0, -'/openapi.json'.length));

/** script src and link href URLs of an HTML page, resolved against its <base href> or itself */
function assetUrls(html: string, page: URL): URL[] {
  const base = new URL(/<base\s+href="([^"]*)"/i.exec(html)?.[1] ?? page.href, page);
  return [...html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]*)"/gi)].map((m) => new URL(m[1], base));
}

test('the GraphQL IDE and its files are served to a browser without a credential', async () => {
  const page = await fetch(server.berth.url, { headers: HTML });
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/text\/html/);
  const assets = assetUrls(await page.text(), new URL(server.berth.url));
  expect(assets.length).toBeGreaterThanOrEqual(2);
  for (const asset of assets) expect([asset.pathname, (await fetch(asset)).status]).toEqual([asset.pathname, 200]);
});

test("every REST API's document and reference page, with the page's files, are served without a credential", async () => {
  const prefixes = apiPrefixes();
  expect(prefixes).toContain('/api/v2');
  for (const prefix of prefixes) {
    const document = await fetch(`${origin()}${prefix}/openapi.json`);
    expect([prefix, document.status]).toEqual([prefix, 200]);
    expect(((await document.json()) as Document).openapi).toBe('3.1.0');
    const pageUrl = new URL(`${prefix}/docs/`, origin());
    const page = await fetch(pageUrl, { headers: HTML });
    expect([prefix, page.status]).toEqual([prefix, 200]);
    const assets = assetUrls(await page.text(), pageUrl);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) expect([asset.pathname, (await fetch(asset)).status]).toEqual([asset.pathname, 200]);
  }
});

test('every route a document does not mark public refuses a request without a credential, before reading it', async () => {
  let checked = 0;
  for (const prefix of apiPrefixes()) {
    const document = (await (await fetch(`${origin()}${prefix}/openapi.json`)).json()) as Document;
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        // `security: []` marks a public route (a login, a bootstrap); any other route inherits the API's requirement
        if (Array.isArray(operation.security) && operation.security.length === 0) continue;
        const url = new URL(path.replace(/\{[^}]+\}/g, '1'), origin());
        const hasBody = method === 'post' || method === 'put' || method === 'patch';
        const res = await fetch(url, { method: method.toUpperCase(), ...(hasBody ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}) });
        expect([method, path, [401, 403].includes(res.status)]).toEqual([method, path, true]);
        checked++;
      }
    }
  }
  expect(checked).toBeGreaterThanOrEqual(50);
});
