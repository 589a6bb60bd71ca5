import { startTestServer, ADMIN_PASSWORD, type TestServer } from './support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

interface RawResponse {
  status: number;
  text: string;
  /** the parsed body when it is JSON */
  body?: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** No response may carry a stack trace: neither Apollo's "stacktrace" extension nor V8 "    at fn (file:1:2)" lines. */
function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(/stacktrace/i);
  expect(text).not.toMatch(/ {4}at /);
  expect(text).not.toMatch(/\bat [^\s]+ \(?[^\s]*:\d+:\d+\)?/);
  expect(text).not.toMatch(/node_modules|\/src\/|\.ts:\d+/);
}

/** Every GraphQL error carries extensions.code. */
function expectCodes(res: RawResponse): void {
  for (const error of res.body?.errors ?? []) expect(typeof error.extensions?.code).toBe('string');
}

/**
 * The media type of the GraphQL over HTTP spec: its clients get 4xx for a request that fails before execution
 * (a client accepting only application/json gets 200, tested below).
 */
const GRAPHQL_RESPONSE = { accept: 'application/graphql-response+json' };

/** POSTs a raw body to /graphql and checks the invariants every response must keep. */
async function post(body: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const res = await fetch(server.berth.url, { method: 'POST', headers: { 'content-type': 'application/json', ...GRAPHQL_RESPONSE, ...headers }, body });
  return read(res);
}

async function read(res: Response): Promise<RawResponse> {
  const text = await res.text();
  let body: RawResponse['body'];
  try {
    body = JSON.parse(text) as RawResponse['body'];
  } catch {
    body = undefined;
  }
  const out = { status: res.status, text, body };
  expectNoStackTrace(text);
  expectCodes(out);
  return out;
}

const query = (document: string, variables?: unknown, headers: Record<string, string> = {}) =>
  post(JSON.stringify({ query: document, variables }), headers);

const codes = (res: RawResponse) => res.body?.errors?.map((e) => e.extensions?.code);

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['users', 'user_sessions', 'bots', 'envs', 'deployments']) {
    const [row] = await server.sql<{ n: string | number }>(`select count(*) as n from ${table}`);
    out[table] = Number(row.n);
  }
  return out;
}

describe('malformed ids', () => {
  test('every by-id query answers BAD_USER_INPUT on field "id" for malformed ids, and nothing changes', async () => {
    const auth = await server.adminAuth();
    // the by-id queries, read from the schema itself: Query fields whose only argument is id: ID!
    const schema = await query(`{ __schema { queryType { fields { name args { name type { kind ofType { name } } } } } } }`);
    const fields = (schema.body?.data as { __schema: { queryType: { fields: { name: string; args: { name: string; type: { kind: string; ofType: { name: string } | null } }[] }[] } } })
      .__schema.queryType.fields;
    const byId = fields
      .filter((f) => f.args.length === 1 && f.args[0].name === 'id' && f.args[0].type.kind === 'NON_NULL' && f.args[0].type.ofType?.name === 'ID')
      .map((f) => f.name);
    expect(byId).toEqual(expect.arrayContaining(['bot', 'env', 'deployment', 'helmChart', 'k8sCluster']));
    expect(byId.length).toBeGreaterThanOrEqual(15);

    const before = await counts();
    const malformed = ['not-a-uuid', '', ' ', "1' or '1'='1", "'; drop table bots; --", '00000000-0000-0000-0000-00000000000g', '{00000000-0000-0000-0000-000000000000}', 'x'.repeat(5000)];
    for (const name of byId) {
      for (const id of malformed) {
        const res = await query(`query($id: ID!) { ${name}(id: $id) { __typename } }`, { id }, auth);
        expect(res.status).toBe(200);
        expect(res.body?.errors).toHaveLength(1);
        expect(res.body?.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'id' } });
        expect(res.body?.errors?.[0].message).toMatch(/id/);
        expect(res.body?.data).toEqual({ [name]: null });
      }
      // an integer literal is a valid ID in GraphQL, but not a UUID
      const int = await query(`{ ${name}(id: 42) { __typename } }`, undefined, auth);
      expect(int.body?.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'id' } });
    }
    expect(await counts()).toEqual(before);

    // a well-formed id that does not exist is simply null, in any case
    const missing = await query(`{ bot(id: "00000000-0000-0000-0000-00000000ABCD") { id } }`, undefined, auth);
    expect(missing.body).toEqual({ data: { bot: null } });
  });
});

describe('every error carries a code', () => {
  test('a parse error is GRAPHQL_PARSE_FAILED', async () => {
    const res = await query(`{ serverInfo { version }`);
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(res.body?.errors?.[0].message).toMatch(/Syntax Error/);
    expect(res.body).not.toHaveProperty('data');
  });

  test('an unknown field is GRAPHQL_VALIDATION_FAILED', async () => {
    const res = await query(`{ serverInfo { version nope } }`);
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(res.body?.errors?.[0].message).toMatch(/Cannot query field "nope" on type "ServerInfo"/);
    expect(res.body).not.toHaveProperty('data');
  });

  test('a variable of the wrong type is BAD_USER_INPUT', async () => {
    const auth = await server.adminAuth();
    for (const [document, variables] of [
      ['query($first: Int) { bots(first: $first) { totalCount } }', { first: 'ten' }],
      ['query($id: ID!) { bot(id: $id) { id } }', { id: { nested: true } }],
      ['query($id: ID!) { bot(id: $id) { id } }', {}],
      ['query($f: BotFilter) { bots(filter: $f) { totalCount } }', { f: { nope: 1 } }],
    ] as const) {
      const res = await query(document, variables, auth);
      expect(res.status).toBe(400);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.body).not.toHaveProperty('data');
    }
  });

  test('a domain error keeps its code and no internals', async () => {
    const res = await query(`{ me { __typename } }`);
    expect(codes(res)).toEqual(['UNAUTHENTICATED']);
    expect(Object.keys(res.body?.errors?.[0].extensions ?? {})).toEqual(['code']);
  });
});

describe('unexpected internal errors are masked', () => {
  test('a broken table answers INTERNAL_SERVER_ERROR with a request id, no SQL, no stack; the server keeps serving', async () => {
    const auth = await server.adminAuth();
    const ok = await query(`{ bots { totalCount } }`, undefined, auth);
    expect(ok.body).toEqual({ data: { bots: { totalCount: 0 } } });

    await server.sql(`alter table bots rename to bots_gone`);
    try {
      const res = await query(`{ bots { totalCount edges { node { id } } } }`, undefined, auth);
      expect(res.status).toBe(200);
      expect(res.body?.errors).toHaveLength(1);
      const [error] = res.body!.errors!;
      expect(error.message).toBe('Internal server error');
      expect(error.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(typeof error.extensions?.requestId).toBe('string');
      expect(error.extensions?.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(Object.keys(error.extensions!).sort()).toEqual(['code', 'requestId']);
      expect(res.text).not.toMatch(/select |bots_gone|relation|does not exist|sql|pglite|postgres/i);

      // the caller's request id is echoed, so a user can quote it to an operator
      const tagged = await query(`{ bots { totalCount } }`, undefined, { ...auth, 'x-request-id': 'abc-123' });
      expect(tagged.body?.errors?.[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'abc-123' } });
      expect(tagged.text).not.toMatch(/select|relation|bots_gone|does not exist/i);

      // an unusable request id is replaced by a generated one
      const odd = await query(`{ bots { totalCount } }`, undefined, { ...auth, 'x-request-id': 'a b<script>' });
      expect(odd.body?.errors?.[0].extensions?.requestId).toMatch(/^[0-9a-f-]{36}$/);

      // the rest of the same request still resolves (bot is nullable; bots is not, so it would null all of data)
      const partial = await query(`{ serverInfo { version } bot(id: "00000000-0000-0000-0000-000000000001") { id } }`, undefined, auth);
      expect(partial.body?.data).toEqual({ serverInfo: { version: expect.any(String) }, bot: null });
      expect(codes(partial)).toEqual(['INTERNAL_SERVER_ERROR']);
    } finally {
      await server.sql(`alter table bots_gone rename to bots`);
    }

    const after = await query(`{ bots { totalCount } }`, undefined, auth);
    expect(after.body).toEqual({ data: { bots: { totalCount: 0 } } });
    const info = await query(`{ serverInfo { version } }`);
    expect(info.status).toBe(200);
  });
});

describe('GraphQL over HTTP status codes', () => {
  const failing: [string, string, unknown, string][] = [
    ['a parse error', `{ serverInfo { version }`, undefined, 'GRAPHQL_PARSE_FAILED'],
    ['an unknown field', `{ serverInfo { nope } }`, undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['a variable that fails coercion', `query($n: Int) { bots(first: $n) { totalCount } }`, { n: 'ten' }, 'BAD_USER_INPUT'],
    ['a document past a limit', `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: serverInfo { version }`).join(' ')} }`, undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['a subscription', `subscription { events(types: [ENV]) { operation } }`, undefined, 'SUBSCRIPTION_OVER_HTTP'],
  ];

  test.each(failing)('%s: 200 for a client that accepts only application/json (or says nothing), 400 for application/graphql-response+json', async (_what, document, variables, code) => {
    for (const [accept, status, type] of [
      ['application/json', 200, 'application/json'],
      [undefined, 200, 'application/json'],
      ['application/graphql-response+json', 400, 'application/graphql-response+json'],
      ['application/graphql-response+json, application/json;q=0.9', 400, 'application/graphql-response+json'],
    ] as const) {
      const res = await fetch(server.berth.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) },
        body: JSON.stringify({ query: document, variables }),
      });
      const body = (await res.json()) as RawResponse['body'];
      expect({ accept, status: res.status, type: res.headers.get('content-type')?.split(';')[0], codes: body?.errors?.map((e) => e.extensions?.code) }).toEqual({ accept, status, type, codes: [code] });
      expect(body).not.toHaveProperty('data');
    }
  });

  test('a subscription over HTTP says where subscriptions are served', async () => {
    const res = await query(`subscription { events(types: [ENV]) { operation } }`, undefined, await server.adminAuth());
    expect(res.body?.errors?.[0].message).toMatch(/WebSocket .*graphql-ws.* at \/graphql/);
  });

  test('a malformed request keeps its 400 whatever the client accepts', async () => {
    for (const body of ['{"query": ', '{"variables": {}}']) {
      const res = await fetch(server.berth.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body });
      expect(res.status).toBe(400);
    }
  });
});

describe('document limits refuse a request before it executes', () => {
  const LOGIN = `login(usernameOrEmail: "admin", password: "${ADMIN_PASSWORD}")`;

  /** runs a login mutation that breaks a limit; the login must not have happened (no new session) */
  async function refused(document: string, code: 'GRAPHQL_VALIDATION_FAILED' | 'GRAPHQL_PARSE_FAILED', message: RegExp): Promise<void> {
    const [before] = await server.sql<{ n: string | number }>(`select count(*) as n from user_sessions`);
    const res = await query(document);
    expect(res.status).toBe(400);
    expect(res.body).not.toHaveProperty('data');
    expect(codes(res)?.length).toBeGreaterThanOrEqual(1);
    expect(new Set(codes(res))).toEqual(new Set([code]));
    expect(res.body?.errors?.map((e) => e.message).join('\n')).toMatch(message);
    const [after] = await server.sql<{ n: string | number }>(`select count(*) as n from user_sessions`);
    expect(Number(after.n)).toBe(Number(before.n));
  }

  test('the same login within the limits executes (the control)', async () => {
    const [before] = await server.sql<{ n: string | number }>(`select count(*) as n from user_sessions`);
    const res = await query(`mutation { ${LOGIN} { user { envPermissions { env { owner { envPermissions { env { owner { id } } } } } } } } }`);
    expect(res.body?.errors).toBeUndefined();
    expect(res.body?.data).toEqual({ login: { user: { envPermissions: [] } } });
    const [after] = await server.sql<{ n: string | number }>(`select count(*) as n from user_sessions`);
    expect(Number(after.n)).toBe(Number(before.n) + 1);
  });

  test('deeper than 10', async () => {
    await refused(
      `mutation { ${LOGIN} { user { envPermissions { env { owner { envPermissions { env { owner { envPermissions { env { owner { id } } } } } } } } } } } }`,
      'GRAPHQL_VALIDATION_FAILED',
      /depth/i,
    );
  });

  test('more than 15 aliases', async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: ${LOGIN} { accessToken }`).join(' ');
    await refused(`mutation { ${aliases} }`, 'GRAPHQL_VALIDATION_FAILED', /alias/i);
  });

  test('more than 50 directives', async () => {
    const directives = Array.from({ length: 51 }, () => '@include(if: true)').join(' ');
    await refused(`mutation { ${LOGIN} { accessToken ${directives} } }`, 'GRAPHQL_VALIDATION_FAILED', /directive/i);
  });

  test('more than 2000 tokens', async () => {
    const fields = Array.from({ length: 2000 }, () => 'accessToken').join(' ');
    await refused(`mutation { ${LOGIN} { ${fields} } }`, 'GRAPHQL_PARSE_FAILED', /token/i);
  });

  test('a query costing more than 5000', async () => {
    // shallow, few aliases and tokens, but 300 scalars eight levels down
    const fields = Array.from({ length: 300 }, () => 'id').join(' ');
    const document = `mutation { ${LOGIN} { user { envPermissions { env { owner { envPermissions { env { ${fields} } } } } } } } }`;
    await refused(document, 'GRAPHQL_VALIDATION_FAILED', /cost/i);
    // and a list asking for too many rows at once
    const auth = await server.adminAuth();
    const res = await query(`{ bots(first: 500) { edges { node { id displayName createdAt } } } }`, undefined, auth);
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(res.body).not.toHaveProperty('data');
  });
});

describe('garbage bodies', () => {
  test('invalid JSON, an array (batch), an empty body and other shapes get a 400 with a clear error', async () => {
    const cases: [string, string, RegExp][] = [
      ['invalid JSON', '{"query": "{ serverInfo { version } }"', /JSON|parse|body/i],
      ['not JSON at all', 'hello', /JSON|parse|body/i],
      ['a batch', JSON.stringify([{ query: '{ serverInfo { version } }' }, { query: '{ serverInfo { version } }' }]), /batch/i],
      ['empty body', '', /body|query/i],
      ['empty object', '{}', /body|query/i],
      ['a string', '"{ serverInfo { version } }"', /body|query|JSON/i],
      ['null', 'null', /body|query|JSON/i],
      ['query not a string', JSON.stringify({ query: 42 }), /quer/i],
      ['variables not an object', JSON.stringify({ query: '{ serverInfo { version } }', variables: 'x' }), /variables/i],
      ['no query', JSON.stringify({ variables: {} }), /query/i],
    ];
    for (const [name, body, message] of cases) {
      const res = await post(body);
      expect({ name, status: res.status }).toEqual({ name, status: 400 });
      expect(res.text).toMatch(message);
      expect(res.text.length).toBeLessThan(2000);
      expect(res.text).not.toMatch(/<html|<pre|SyntaxError|body-parser|raw-body/i);
    }
    // a body over the 1 MB limit
    const huge = await post(JSON.stringify({ query: `{ serverInfo { version } }`, variables: { x: 'y'.repeat(1_100_000) } }));
    expect(huge.status).toBe(413);
    expect(huge.text).not.toMatch(/<html|<pre|PayloadTooLargeError|raw-body/i);

    // the server is still up
    const res = await query(`{ serverInfo { version } }`);
    expect(res.body).toEqual({ data: { serverInfo: { version: expect.any(String) } } });
  });
});

describe('CSRF prevention', () => {
  const url = () => `${server.berth.url}?query=${encodeURIComponent('{serverInfo{version}}')}`;

  test('a simple GET and a text/plain POST are refused; with apollo-require-preflight they work', async () => {
    const get = await read(await fetch(url()));
    expect(get.status).toBe(400);
    expect(get.text).toMatch(/CSRF|preflight/i);

    const getWithHeader = await read(await fetch(url(), { headers: { 'apollo-require-preflight': 'true' } }));
    expect(getWithHeader.status).toBe(200);
    expect(getWithHeader.body).toEqual({ data: { serverInfo: { version: expect.any(String) } } });

    const body = JSON.stringify({ query: '{ serverInfo { version } }' });
    const plain = await read(await fetch(server.berth.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body }));
    expect(plain.status).toBe(400);
    expect(plain.text).toMatch(/CSRF|preflight/i);
    const form = await read(
      await fetch(server.berth.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'query=%7BserverInfo%7Bversion%7D%7D' }),
    );
    expect(form.status).toBe(400);
    expect(form.text).toMatch(/CSRF|preflight/i);

    // a text/plain body passes the CSRF check with the header, but only JSON bodies are GraphQL requests: still a clean 400
    const plainWithHeader = await read(
      await fetch(server.berth.url, { method: 'POST', headers: { 'content-type': 'text/plain', 'apollo-require-preflight': 'true' }, body }),
    );
    expect(plainWithHeader.status).toBe(400);
    expect(plainWithHeader.text).not.toMatch(/CSRF/);

    // a mutation over GET is refused even with the header
    const mutation = await read(
      await fetch(`${server.berth.url}?query=${encodeURIComponent('mutation { logout }')}`, { headers: { 'apollo-require-preflight': 'true' } }),
    );
    expect(mutation.status).toBe(405);
  });
});

describe('introspection and field suggestions', () => {
  test('introspection is on by default and suggestions help', async () => {
    const res = await query(`{ __schema { types { name } } }`);
    expect(res.body?.errors).toBeUndefined();
    expect((res.body?.data as { __schema: { types: { name: string }[] } }).__schema.types.map((t) => t.name)).toContain('Query');
    const typo = await query(`{ serverInf { version } }`);
    expect(codes(typo)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(typo.body?.errors?.[0].message).toMatch(/Did you mean "serverInfo"/);
  });

  test('GRAPHQL_INTROSPECTION=false turns introspection and suggestions off', async () => {
    const closed = await startTestServer({ GRAPHQL_INTROSPECTION: 'false' });
    try {
      const ask = async (document: string, variables?: unknown) => {
        const res = await fetch(closed.berth.url, { method: 'POST', headers: { 'content-type': 'application/json', ...GRAPHQL_RESPONSE }, body: JSON.stringify({ query: document, variables }) });
        return read(res);
      };
      for (const document of [`{ __schema { types { name } } }`, `{ __type(name: "Query") { fields { name } } }`]) {
        const res = await ask(document);
        expect(res.status).toBe(400);
        expect(codes(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
        expect(res.body).not.toHaveProperty('data');
      }
      // __typename is not introspection of the schema and stays allowed
      expect((await ask(`{ serverInfo { __typename version } }`)).body).toEqual({ data: { serverInfo: { __typename: 'ServerInfo', version: expect.any(String) } } });

      const typos = [
        [`{ serverInf { version } }`, undefined],
        [`{ serverInfo { versio } }`, undefined],
        [`query($f: BotFilter) { bots(filter: $f) { totalCount } }`, { f: { displayNam: 'x' } }],
        [`query($f: BotFiltr) { bots(filter: $f) { totalCount } }`, {}],
        [`{ bots(filtr: {}) { totalCount } }`, undefined],
      ] as const;
      for (const [document, variables] of typos) {
        const res = await ask(document, variables);
        expect(res.status).toBe(400);
        expect(res.body?.errors?.length).toBeGreaterThanOrEqual(1);
        expect(res.text).not.toMatch(/Did you mean/i);
        expect(res.text).not.toMatch(/"serverInfo"|"version"|"displayName"|"filter"/);
      }
    } finally {
      await closed.stop();
    }
  });
});
