import { createClient, type ExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { Feed, waitFor } from './support/subscriptions.js';
import { changedTables, databaseDigest, failure } from './support/assertions.js';
import { rejected, startWorld, type World } from './support/deployment-world.js';
import type { TestServer } from './support/server.js';

// The input rules of src/util/input-limits.ts (README, "Input limits"), applied to every argument of every field.

let server: TestServer;
let w: World;
let admin: Record<string, string>;
beforeAll(async () => {
  ({ server, w } = await startWorld());
  admin = await server.adminAuth();
});
afterAll(() => server?.stop());

const NUL = 'a\u0000b';
const LEAKS = /Maximum call stack|RangeError|stack|node_modules|mikro|violates|syntax error|relation "|column "|duplicate key/i;

/** JSON text of objects (or arrays) nested `depth` levels around a number: built as text, as JSON.stringify would itself overflow on it. */
const nestedText = (depth: number, open = '{"a":', close = '}') => `${open.repeat(depth)}1${close.repeat(depth)}`;
const nested = (depth: number): Record<string, unknown> => JSON.parse(nestedText(depth)) as Record<string, unknown>;

/** POSTs a document with its variables given as JSON text; checks no answer leaks internals. */
async function raw(document: string, variablesText: string, headers: Record<string, string> = {}) {
  const res = await fetch(server.berth.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: `{"query":${JSON.stringify(document)},"variables":${variablesText}}`,
  });
  const text = await res.text();
  expect(text).not.toMatch(LEAKS);
  return { status: res.status, ...(JSON.parse(text) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }) };
}

/** Runs a query or mutation over graphql-ws, whose messages have no 1 MiB body limit; its one result. */
async function overWs(query: string, variables: Record<string, unknown>): Promise<ExecutionResult<unknown, { code?: string; field?: string }>> {
  const client = createClient({ url: server.berth.wsUrl, webSocketImpl: WebSocket, connectionParams: admin, retryAttempts: 0 });
  try {
    for await (const result of client.iterate({ query, variables })) return result as ExecutionResult<unknown, { code?: string; field?: string }>;
    throw new Error('no result');
  } finally {
    await client.dispose();
  }
}

/** A call that must fail on `field` with BAD_USER_INPUT, writing nothing anywhere; returns its message. */
async function refusedOn(document: string, variables: unknown, field: string, headers = admin): Promise<string> {
  const error = await rejected(server, document, variables, headers);
  expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field });
  expect(error.message).not.toMatch(LEAKS);
  return error.message;
}

describe('a NUL character in any string', () => {
  test('login, unauthenticated, is refused on the field; no session is made', async () => {
    const message = await refusedOn(`mutation { login(usernameOrEmail: "\\u0000", password: "x") { accessToken } }`, undefined, 'usernameOrEmail', {});
    expect(message).toBe('usernameOrEmail must not contain a NUL character');
    await refusedOn(`mutation($p: String!) { login(usernameOrEmail: "admin", password: $p) { accessToken } }`, { p: NUL }, 'password', {});
  });

  test('every string field of every list filter is refused on its field', async () => {
    const schema = await server.gql<any, unknown>(
      `{ __schema { queryType { fields { name args { name type { name inputFields { name type { name kind } } } } } } } }`,
    );
    const lists = (schema.data.__schema.queryType.fields as { name: string; args: { name: string; type: { name: string; inputFields: { name: string; type: { name: string | null } }[] | null } }[] }[])
      .flatMap((f) => f.args.filter((a) => a.name === 'filter').map((a) => ({ field: f.name, filter: a.type })));
    const cases = lists.flatMap(({ field, filter }) =>
      (filter.inputFields ?? []).filter((i) => i.type.name === 'String').map((i) => ({ field, filterType: filter.name, name: i.name })),
    );
    const fields = new Set(cases.map((c) => c.field));
    for (const named of ['users', 'envs', 'secrets', 'webApps', 'k8sClusters', 'k8sNamespaces', 'k8sResources', 'k8sServiceAccounts', 'helmTagFormats']) {
      expect(fields).toContain(named);
    }
    for (const { field, filterType, name } of cases) {
      const res = await server.gql(`query($f: ${filterType}) { ${field}(filter: $f) { totalCount } }`, { f: { [name]: NUL } }, admin);
      expect({ field, name, error: failure(res) }).toEqual({
        field,
        name,
        error: { code: 'BAD_USER_INPUT', field: `filter.${name}`, message: `filter.${name} must not contain a NUL character` },
      });
    }
  });

  test('mutations refuse it on the field and write nothing', async () => {
    const { env, cluster, app, callers } = w;
    const cases: [string, Record<string, unknown>, string][] = [
      ['mutation($i: CreateEnvInput!) { createEnv(input: $i) { id } }', { i: { name: NUL } }, 'input.name'],
      ['mutation($i: CreateEnvInput!) { createEnv(input: $i) { id } }', { i: { name: 'fine', description: NUL } }, 'input.description'],
      [`mutation($i: UpdateEnvInput!) { updateEnv(id: "${env.id}", input: $i) { id } }`, { i: { name: NUL } }, 'input.name'],
      ['mutation($i: CreateBotInput!) { createBot(input: $i) { id } }', { i: { displayName: NUL } }, 'input.displayName'],
      ['mutation($i: CreateUserTokenInput!) { createUserToken(input: $i) { token } }', { i: { name: NUL } }, 'input.name'],
      ['mutation($i: CreateHelmRegistryInput!) { createHelmRegistry(input: $i) { id } }', { i: { domainName: 'r.example.com', repoName: NUL } }, 'input.repoName'],
      ['mutation($i: CreateSecretInput!) { createSecret(input: $i) { id } }', { i: { envId: env.id, collection: 'c', name: 'n', contents: NUL } }, 'input.contents'],
      ['mutation($i: CreateWebAppInput!) { createWebApp(input: $i) { id } }', { i: { name: 'app', linkUrl: `https://example.com/${NUL}` } }, 'input.linkUrl'],
      [`mutation($n: String!) { renameDeploymentKind(id: "${app.id}", name: $n) { id } }`, { n: NUL }, 'name'],
      [`mutation($i: UpdateClusterInput!) { updateCluster(id: "${cluster.id}", input: $i) { id } }`, { i: { ingressDomain: NUL } }, 'input.ingressDomain'],
      [`mutation($i: UpdateUserInput!) { updateUser(id: "${callers.owner.id}", input: $i) { id } }`, { i: { alternativeEmails: ['a@example.com', NUL] } }, 'input.alternativeEmails[1]'],
    ];
    for (const [document, variables, field] of cases) await refusedOn(document, variables, field);
    // and inline, as a literal in the document
    await refusedOn(`mutation { createEnv(input: { name: "x\\u0000" }) { id } }`, undefined, 'input.name');
  });

  test('in a JSON value, in a string or a key', async () => {
    const create = `mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { id } }`;
    const input = { clusterId: w.cluster.id, kindId: w.app.id, helmChartId: w.plainAppChart.id, name: 'nul' };
    await refusedOn(create, { input: { ...input, config: { a: { b: [NUL] } } } }, 'input.config');
    await refusedOn(create, { input: { ...input, valuesOverride: { [NUL]: 1 } } }, 'input.valuesOverride');
    await refusedOn(`mutation($i: UpdateEnvInput!) { updateEnv(id: "${w.env.id}", input: $i) { id } }`, { i: { tolerations: [{ key: NUL }] } }, 'input.tolerations');
  });

  test('over graphql-ws, a subscription argument is refused on the field', async () => {
    const feed = new Feed(server.berth.wsUrl, admin, `subscription($kind: String) { k8sResourceEvents(kind: $kind) { operation } }`, { kind: NUL });
    try {
      await feed.until((f) => f.errors.length > 0, 'the error');
      expect(feed.errors[0]).toMatchObject({ message: 'kind must not contain a NUL character', extensions: { code: 'BAD_USER_INPUT', field: 'kind' } });
    } finally {
      await feed.dispose();
    }
  });
});

describe('text PostgreSQL cannot store', () => {
  test('half a surrogate pair, in a string or in JSON, is refused on the field (the audit trail keeps names as jsonb)', async () => {
    const message = await refusedOn(`mutation($name: String!) { createGroup(input: { name: $name }) { id } }`, { name: 'a\uD800b' }, 'input.name');
    expect(message).toBe('input.name must be Unicode text (it holds half a surrogate pair)');
    await refusedOn(`mutation($i: UpdateEnvInput!) { updateEnv(id: "${w.env.id}", input: $i) { id } }`, { i: { nodeSelector: { zone: '\uDC00' } } }, 'input.nodeSelector');
    // a whole pair is text like any other
    const ok = await server.gql<any, unknown>(`mutation($name: String!) { createGroup(input: { name: $name }) { name } }`, { name: 'ship 🚢' }, admin);
    expect(ok.data).toEqual({ createGroup: { name: 'ship 🚢' } });
  });

  test('a date outside the years 1 to 9999 is refused on the field', async () => {
    for (const date of ['0000-01-01T00:00:00Z', '-000001-01-01T00:00:00Z']) {
      const res = await server.gql(`query($from: DateTimeISO) { deploymentTasks(filter: { createdFrom: $from }) { totalCount } }`, { from: date }, admin);
      // the scalar refuses what it cannot read; what it reads must be a year PostgreSQL takes
      expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0].message).not.toMatch(LEAKS);
    }
    expect(failure(await server.gql(`{ deploymentTasks(filter: { createdFrom: "0000-01-01T00:00:00Z" }) { totalCount } }`, undefined, admin))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'filter.createdFrom',
      message: 'filter.createdFrom must be a date in the years 1 to 9999',
    });
    expect((await server.gql(`{ deploymentTasks(filter: { createdFrom: "0001-01-01T00:00:00Z" }) { totalCount } }`, undefined, admin)).errors).toBeUndefined();
  });
});

describe('ids', () => {
  test('an empty env id moving a cluster is refused on the field, not taken for "no env"', async () => {
    await refusedOn(`mutation { updateCluster(id: "${w.cluster.id}", input: { envId: "" }) { id } }`, undefined, 'input.envId');
  });
});

describe('variables the operation does not declare', () => {
  test('over graphql-ws, one nested 5,000 deep is ignored, as over HTTP: the socket stays open and the subscription runs', async () => {
    const socket = new WebSocket(server.berth.wsUrl, 'graphql-transport-ws');
    const messages: { type: string; id?: string }[] = [];
    let closed: number | null = null;
    socket.on('message', (data) => messages.push(JSON.parse(String(data)) as { type: string }));
    socket.on('close', (code) => (closed = code));
    await new Promise((resolve) => socket.once('open', resolve));
    try {
      socket.send(JSON.stringify({ type: 'connection_init', payload: admin }));
      await waitFor(() => messages.some((m) => m.type === 'connection_ack'), 'the ack');
      // built as text: JSON.stringify overflows on it (as it did in the server)
      socket.send(`{"id":"1","type":"subscribe","payload":{"query":"subscription { events { operation } }","variables":{"junk":${nestedText(5000)}}}}`);
      await waitFor(() => messages.some((m) => m.type === 'next' && m.id === '1') || closed !== null, 'the first event');
      expect(closed).toBeNull();
      // and over HTTP, the same junk is ignored
      const res = await raw(`{ serverInfo { version } }`, `{"junk":${nestedText(5000)}}`);
      expect(res.data).toEqual({ serverInfo: { version: expect.any(String) } });
    } finally {
      socket.close();
    }
  });
});

describe('JSON values are bounded', () => {
  const create = `mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { id } }`;
  const base = () => `"clusterId":"${w.cluster.id}","kindId":"${w.app.id}","helmChartId":"${w.plainAppChart.id}"`;

  test('a config nested 5,000 deep is refused with a clear error, on create and update; nothing is written', async () => {
    for (const [field, text] of [
      ['config', nestedText(5000)],
      ['config', `{"a":${nestedText(5000, '[', ']')}}`],
      ['valuesOverride', nestedText(5000)],
    ]) {
      const before = await databaseDigest(server);
      const res = await raw(create, `{"input":{${base()},"name":"deep","${field}":${text}}}`, admin);
      expect(res.errors).toEqual([expect.objectContaining({ message: `input.${field} is nested more than 32 levels deep`, extensions: { code: 'BAD_USER_INPUT', field: `input.${field}` } })]);
      expect(changedTables(before, await databaseDigest(server))).toEqual([]);
    }
    const created = await server.gql<any, unknown>(create, { input: { clusterId: w.cluster.id, kindId: w.app.id, helmChartId: w.plainAppChart.id, name: 'shallow' } }, admin);
    const id = created.data.createDeployment.id as string;
    const before = await databaseDigest(server);
    const res = await raw(`mutation($input: UpdateDeploymentInput!) { updateDeployment(id: "${id}", input: $input) { id } }`, `{"input":{"config":${nestedText(5000)}}}`, admin);
    expect(res.errors).toEqual([expect.objectContaining({ message: 'input.config is nested more than 32 levels deep', extensions: { code: 'BAD_USER_INPUT', field: 'input.config' } })]);
    expect(changedTables(before, await databaseDigest(server))).toEqual([]);
  });

  test('an array nested 5,000 deep where an object is expected is refused without echoing it', async () => {
    const res = await raw(create, `{"input":{${base()},"name":"deep","config":${nestedText(5000, '[', ']')}}}`, admin);
    expect(res.status).toBe(200); // a variable failing coercion, for an application/json client (GraphQL over HTTP)
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].extensions).toEqual({ code: 'BAD_USER_INPUT' });
    expect(res.errors![0].message).toMatch(/JSONObject cannot represent a value that is not an object/);
    expect(res.errors![0].message.length).toBeLessThan(1000);
  });

  test('32 levels are accepted; 33 are not', async () => {
    const make = (depth: number, name: string) =>
      server.gql<any, unknown>(create, { input: { clusterId: w.cluster.id, kindId: w.app.id, helmChartId: w.plainAppChart.id, name, valuesOverride: nested(depth) } }, admin);
    expect((await make(32, 'thirty-two')).errors).toBeUndefined();
    expect(failure(await make(33, 'thirty-three'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.valuesOverride' });
  });

  test('a JSON value longer than 1 MiB as JSON text is refused (over graphql-ws: over HTTP the body limit comes first)', async () => {
    const before = await databaseDigest(server);
    const res = await overWs(`mutation($i: UpdateEnvInput!) { updateEnv(id: "${w.env.id}", input: $i) { id } }`, { i: { tolerations: [{ key: 'x'.repeat(1024 * 1024) }] } });
    expect(res.errors).toEqual([
      expect.objectContaining({ message: 'input.tolerations must be at most 1,048,576 characters as JSON', extensions: { code: 'BAD_USER_INPUT', field: 'input.tolerations' } }),
    ]);
    expect(changedTables(before, await databaseDigest(server))).toEqual([]);
  });
});

describe('every string has a maximum length', () => {
  test('a 1,000,000-character group name is refused; 255 characters are a name, 256 are not', async () => {
    const create = `mutation($name: String!) { createGroup(input: { name: $name }) { id } }`;
    expect(await refusedOn(create, { name: 'g'.repeat(1_000_000) }, 'input.name')).toBe('input.name must be at most 255 characters');
    expect(await refusedOn(create, { name: 'g'.repeat(256) }, 'input.name')).toBe('input.name must be at most 255 characters');
    const ok = await server.gql<any, unknown>(create, { name: 'g'.repeat(255) }, admin);
    expect(ok.errors).toBeUndefined();
    expect(await server.sql(`select length(name) as n from groups where id = ?`, [ok.data.createGroup.id])).toEqual([{ n: 255 }]);
  });

  test('free text takes 10,000 characters, documents 1 MiB', async () => {
    const create = `mutation($i: CreateEnvInput!) { createEnv(input: $i) { id } }`;
    expect(await refusedOn(create, { i: { name: 'texts', description: 'd'.repeat(10_001) } }, 'input.description')).toBe('input.description must be at most 10,000 characters');
    expect((await server.gql(create, { i: { name: 'texts', description: 'd'.repeat(10_000) } }, admin)).errors).toBeUndefined();
    // a document is limited by the HTTP body already, but not over graphql-ws
    const secret = `mutation($i: CreateSecretInput!) { createSecret(input: $i) { id } }`;
    const input = { envId: w.env.id, collection: 'big', name: 'big' };
    const before = await databaseDigest(server);
    expect((await overWs(secret, { i: { ...input, contents: 's'.repeat(1024 * 1024 + 1) } })).errors).toEqual([
      expect.objectContaining({ message: 'input.contents must be at most 1,048,576 characters', extensions: { code: 'BAD_USER_INPUT', field: 'input.contents' } }),
    ]);
    expect(changedTables(before, await databaseDigest(server))).toEqual([]);
    expect((await overWs(secret, { i: { ...input, contents: 's'.repeat(1024 * 1024) } })).errors).toBeUndefined();
  });

  test('a by-id query refuses an overlong id before looking it up', async () => {
    expect(failure(await server.gql(`query($id: ID!) { env(id: $id) { id } }`, { id: 'x'.repeat(256) }, admin))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'id',
      message: 'id must be at most 255 characters',
    });
  });
});
