import net from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { migrationsList } from '../src/db/migrations/index.js';
import { startTestServer, ADMIN_PASSWORD, type TestServer } from './support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const origin = () => new URL(server.berth.url).origin;

describe('health and readiness', () => {
  test('GET /healthz answers 200 {status: "ok"}', async () => {
    const res = await fetch(`${origin()}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  test('GET /readyz answers 200 with database true', async () => {
    const res = await fetch(`${origin()}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ database: true });
  });

  test('GET /readyz answers 503 "not ready" while a migration is pending, and 200 again once it is applied', async () => {
    // the newest migration's row taken out: as far as the migrator can tell, that migration is pending
    const [newest] = await server.sql<{ id: number; name: string; executed_at: Date }>('select id, name, executed_at from mikro_orm_migrations order by id desc limit 1');
    expect(newest.name).toBe(migrationsList.at(-1)!.name);
    await server.sql('delete from mikro_orm_migrations where id = ?', [newest.id]);
    try {
      const pending = await fetch(`${origin()}/readyz`);
      expect(pending.status).toBe(503);
      expect(await pending.json()).toEqual({ status: 'not ready', database: false });
      // still alive: only readiness depends on the migrations
      expect((await fetch(`${origin()}/healthz`)).status).toBe(200);
    } finally {
      await server.sql('insert into mikro_orm_migrations (id, name, executed_at) values (?, ?, ?)', [newest.id, newest.name, newest.executed_at]);
    }
    const ready = await fetch(`${origin()}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', database: true });
  });

  test('the server does not announce itself', async () => {
    const res = await fetch(`${origin()}/healthz`);
    expect(res.headers.get('x-powered-by')).toBeNull();
  });
});

describe('the GraphQL IDE', () => {
  /** script src and link href URLs of an HTML page, resolved against its <base href> */
  function assetUrls(html: string, pageUrl: string): { raw: string; resolved: URL }[] {
    const base = new URL(/<base\s+href="([^"]*)"/i.exec(html)?.[1] ?? pageUrl, pageUrl);
    const raws = [...html.matchAll(/<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"]*)"/gi)].map((m) => m[1]);
    return raws.map((raw) => ({ raw, resolved: new URL(raw, base) }));
  }

  test('a browser opening /graphql gets Altair from local files only', async () => {
    const res = await fetch(server.berth.url, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toMatch(/<html/i);
    expect(html).toMatch(/altair/i);

    const assets = assetUrls(html, server.berth.url);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const { raw, resolved } of assets) {
      expect(raw).not.toMatch(/^(https?:)?\/\//i);
      expect(resolved.origin).toBe(origin());
      expect(resolved.pathname.startsWith('/graphql/ide/')).toBe(true);
    }
    // no CDN host anywhere in the page
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|localhost)[a-z0-9.-]+\.[a-z]{2,}/i);

    const scripts = assets.filter((a) => /\.js$/.test(a.resolved.pathname));
    expect(scripts.length).toBeGreaterThanOrEqual(1);
    for (const asset of [scripts[0], assets.find((a) => /\.css$/.test(a.resolved.pathname))!]) {
      const file = await fetch(asset.resolved);
      expect(file.status).toBe(200);
      expect((await file.text()).length).toBeGreaterThan(0);
    }
    const missing = await fetch(`${origin()}/graphql/ide/no-such-file.js`);
    expect(missing.status).toBeGreaterThanOrEqual(400);
    expect(await missing.text()).not.toMatch(/<html|altair/i);
  });

  test("the IDE's subscriptions URL follows X-Forwarded-Proto and X-Forwarded-Host with TRUST_PROXY, and ignores them without", async () => {
    const subscriptionsUrl = async (url: string, headers: Record<string, string> = {}) => {
      const html = await (await fetch(url, { headers: { accept: 'text/html', ...headers } })).text();
      return /subscriptionsEndpoint: `([^`]*)`/.exec(html)?.[1];
    };
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'berth.example.com' };
    const direct = (berthUrl: string) => `ws://${new URL(berthUrl).host}/graphql`;

    expect(await subscriptionsUrl(server.berth.url)).toBe(direct(server.berth.url));
    // anyone could send these headers: without TRUST_PROXY they are not believed
    expect(await subscriptionsUrl(server.berth.url, forwarded)).toBe(direct(server.berth.url));

    const behindProxy = await startTestServer({ TRUST_PROXY: 'true' });
    try {
      expect(await subscriptionsUrl(behindProxy.berth.url, forwarded)).toBe('wss://berth.example.com/graphql');
      expect(await subscriptionsUrl(behindProxy.berth.url, { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'berth.example.com:8080' })).toBe('ws://berth.example.com:8080/graphql');
      // reached directly, it still names itself
      expect(await subscriptionsUrl(behindProxy.berth.url)).toBe(direct(behindProxy.berth.url));
      // the host goes into the page's script: one that could end it is refused
      const injected = await fetch(behindProxy.berth.url, { headers: { accept: 'text/html', 'x-forwarded-host': 'x</script><script>alert(1)//' } });
      expect(injected.status).toBe(400);
      expect(await injected.text()).not.toMatch(/<script/);
    } finally {
      await behindProxy.stop();
    }
  });

  test('API clients on GET /graphql still reach Apollo, not the IDE', async () => {
    const res = await fetch(`${server.berth.url}?query=${encodeURIComponent('{ serverInfo { version } }')}`, {
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { serverInfo: { version: expect.any(String) } } });
  });

  test('with GRAPHQL_IDE=false no IDE page is served (and with introspection off, the WebSocket refuses it too)', async () => {
    const bare = await startTestServer({ GRAPHQL_IDE: 'false', GRAPHQL_INTROSPECTION: 'false' });
    try {
      const res = await fetch(bare.berth.url, { headers: { accept: 'text/html' } });
      const body = await res.text();
      expect(body).not.toMatch(/altair/i);
      expect(body).not.toMatch(/<script/i);
      expect(res.status).not.toBe(200);
      const asset = await fetch(`${new URL(bare.berth.url).origin}/graphql/ide/main.js`);
      expect(await asset.text()).not.toMatch(/altair/i);
      expect(asset.status).not.toBe(200);
      // GraphQL itself works as usual
      const api = await bare.gql<{ serverInfo: { version: string } }, object>(`{ serverInfo { version } }`);
      expect(api.data?.serverInfo.version).toEqual(expect.any(String));

      // introspection is closed on the WebSocket as on HTTP, and no suggestions leak there either
      const c = createClient({ url: bare.berth.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
      try {
        const ask = async (query: string) => {
          const out = [];
          for await (const result of c.iterate({ query })) out.push(result);
          return out;
        };
        const introspection = await ask(`{ __schema { types { name } } }`).then(() => [], (errors: { message: string; extensions?: { code?: string } }[]) => errors);
        expect(introspection.length).toBeGreaterThanOrEqual(1);
        for (const error of introspection) expect(error).toMatchObject({ message: expect.stringMatching(/introspection/i), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
        const typo = ask(`{ serverInf { version } }`);
        await expect(typo).rejects.toEqual([expect.objectContaining({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })]);
        await expect(typo).rejects.toEqual([expect.objectContaining({ message: expect.not.stringMatching(/Did you mean/) })]);
        expect(await ask(`{ serverInfo { version } }`)).toEqual([{ data: { serverInfo: { version: expect.any(String) } } }]);
      } finally {
        await c.dispose();
      }
    } finally {
      await bare.stop();
    }
  });
});

describe('GraphQL over WebSocket (graphql-ws)', () => {
  const clients: Client[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
  });

  function client(connectionParams?: Record<string, unknown>): Client {
    // not lazy: one socket for the client's whole life, so several operations share a connection
    const c = createClient({ url: server.berth.wsUrl, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: false, onNonLazyError: () => {} });
    clients.push(c);
    return c;
  }

  /** runs one query operation and returns its single result */
  async function run(c: Client, query: string, variables?: Record<string, unknown>) {
    const results = [];
    for await (const result of c.iterate({ query, variables })) results.push(result);
    expect(results).toHaveLength(1);
    return results[0];
  }

  test('the WebSocket lives on the same port and path as HTTP', () => {
    const http = new URL(server.berth.url);
    const ws = new URL(server.berth.wsUrl);
    expect(ws.protocol).toBe('ws:');
    expect(ws.host).toBe(http.host);
    expect(ws.pathname).toBe('/graphql');
  });

  test('with a bearer token in connectionParams, me resolves to the admin', async () => {
    const auth = await server.adminAuth();
    const c = client({ authorization: auth.authorization });
    const result = await run(c, `{ me { __typename ... on User { username isAdmin } } }`);
    expect(result).toEqual({ data: { me: { __typename: 'User', username: 'admin', isAdmin: true } } });
    // the same connection runs several operations
    const again = await run(c, `query($id: ID!) { bot(id: $id) { id } }`, { id: '00000000-0000-0000-0000-000000000000' });
    expect(again).toEqual({ data: { bot: null } });
  });

  test('without connection params, me is UNAUTHENTICATED but serverInfo works', async () => {
    const c = client();
    const me = await run(c, `{ me { ... on User { username } } }`);
    expect(me.data ?? null).toBeNull();
    expect(me.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    const info = await run(c, `{ serverInfo { version } }`);
    expect(info).toEqual({ data: { serverInfo: { version: expect.any(String) } } });
  });

  test('a bad token in connection_init is refused: the socket closes with 4403 before any operation', async () => {
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      const c = createClient({ url: server.berth.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: 'Bearer not.a.jwt' }, retryAttempts: 0, lazy: false, onNonLazyError: () => {}, on: { closed: (event) => resolve(event as { code: number; reason: string }) } });
      clients.push(c);
    });
    expect(await closed).toMatchObject({ code: 4403, reason: 'Forbidden: connection_init authorization: Invalid access token' });
  });

  test('a subscribe before the connection is acknowledged closes the socket with 4401', async () => {
    const socket = new WebSocket(server.berth.wsUrl, 'graphql-transport-ws');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { events { operation } }' } }));
    expect(await closed).toEqual({ code: 4401, reason: 'Unauthorized' });
  });

  test('domain errors carry their code and field over WebSocket too', async () => {
    const auth = await server.adminAuth();
    const c = client({ authorization: auth.authorization });
    const res = await run(c, `{ bot(id: "nope") { id } }`);
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'id' } });
  });

  test('the document limits hold over WebSocket: a too-deep or unknown query is refused', async () => {
    const c = client();
    const deep = `{ me { ... on User { envPermissions { env { owner { envPermissions { env { owner { envPermissions { env { owner { id } } } } } } } } } } } }`;
    await expect(run(c, deep)).rejects.toEqual([expect.objectContaining({ message: expect.stringMatching(/depth/i) })]);
    await expect(run(c, `{ nope }`)).rejects.toEqual([expect.objectContaining({ message: expect.stringMatching(/nope/) })]);
    // the connection survives a refused operation
    expect(await run(c, `{ serverInfo { version } }`)).toEqual({ data: { serverInfo: { version: expect.any(String) } } });
  });

  test('parse errors and bad variables answer the operation with a code; the connection survives', async () => {
    const c = client();
    await expect(run(c, `{ serverInfo { version }`)).rejects.toEqual([
      expect.objectContaining({ message: expect.stringMatching(/Syntax Error/), extensions: { code: 'GRAPHQL_PARSE_FAILED' } }),
    ]);
    const tooLong = `{ serverInfo { ${Array.from({ length: 2100 }, () => 'version').join(' ')} } }`;
    await expect(run(c, tooLong)).rejects.toEqual([expect.objectContaining({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
    const badVariable = await run(c, `query($first: Int) { bots(first: $first) { totalCount } }`, { first: 'ten' });
    expect(badVariable.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(await run(c, `{ serverInfo { version } }`)).toEqual({ data: { serverInfo: { version: expect.any(String) } } });
  });

  test('each operation on a long-lived connection sees current rows', async () => {
    const auth = await server.adminAuth();
    const c = client({ authorization: auth.authorization });
    const id = '11111111-2222-3333-4444-555555555555';
    const BOT = `query($id: ID!) { bot(id: $id) { id displayName } bots { totalCount } }`;
    expect(await run(c, BOT, { id })).toEqual({ data: { bot: null, bots: { totalCount: 0 } } });
    await server.sql(`insert into bots (id, display_name) values (?, 'first name')`, [id]);
    try {
      expect(await run(c, BOT, { id })).toEqual({ data: { bot: { id, displayName: 'first name' }, bots: { totalCount: 1 } } });
      await server.sql(`update bots set display_name = 'second name' where id = ?`, [id]);
      expect(await run(c, BOT, { id })).toEqual({ data: { bot: { id, displayName: 'second name' }, bots: { totalCount: 1 } } });
    } finally {
      await server.sql(`delete from bots where id = ?`, [id]);
    }
  });

  test('a session ended after the connection opened stops authenticating its operations', async () => {
    const login = await server.gql<{ login: { accessToken: string; refreshToken: string } }, object>(
      `mutation { login(usernameOrEmail: "admin", password: "${ADMIN_PASSWORD}") { accessToken refreshToken } }`,
    );
    const authorization = `Bearer ${login.data!.login.accessToken}`;
    const c = client({ authorization });
    expect((await run(c, `{ me { ... on User { username } } }`)).data).toEqual({ me: { username: 'admin' } });
    const logout = await server.gql<{ logout: boolean }, object>(`mutation { logout }`, undefined, { authorization });
    expect(logout.data).toEqual({ logout: true });
    const after = await run(c, `{ me { ... on User { username } } }`);
    expect(after.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  test('an unexpected error over WebSocket is masked as over HTTP', async () => {
    const auth = await server.adminAuth();
    const c = client({ authorization: auth.authorization });
    await server.sql(`alter table bots rename to bots_gone`);
    try {
      const res = await run(c, `{ bots { totalCount } }`);
      expect(res.errors).toHaveLength(1);
      expect(res.errors?.[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(res.errors?.[0].extensions?.requestId).toMatch(/^[0-9a-f-]{36}$/);
      const text = JSON.stringify(res);
      expect(text).not.toMatch(/select |bots_gone|relation|does not exist|stacktrace| {4}at /i);
    } finally {
      await server.sql(`alter table bots_gone rename to bots`);
    }
  });
});

describe('slow clients', () => {
  test('a client that sends its headers too slowly, or its body, gets 408 and its socket closed; a prompt one is served', async () => {
    const impatient = await startTestServer({ HTTP_HEADERS_TIMEOUT_SECONDS: '1', HTTP_REQUEST_TIMEOUT_SECONDS: '2' });
    try {
      const { port } = new URL(impatient.berth.url);
      /** opens a connection, writes `start` and then nothing more; resolves with what the server answered once it closed */
      const stall = (start: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(start));
          let answer = '';
          socket.on('data', (chunk) => (answer += chunk.toString()));
          socket.on('close', () => resolve(answer));
          socket.on('error', reject);
        });
      const [headers, body] = await Promise.all([
        stall('POST /graphql HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\n'),
        stall('POST /graphql HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":'),
      ]);
      expect(headers).toMatch(/^HTTP\/1\.1 408 /);
      expect(body).toMatch(/^HTTP\/1\.1 408 /);
      expect((await impatient.gql(`{ serverInfo { version } }`)).errors).toBeUndefined();
    } finally {
      await impatient.stop();
    }
  }, 30_000);
});
