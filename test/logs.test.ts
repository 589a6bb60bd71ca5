import { afterAll, beforeAll, expect, test } from '@jest/globals';
import WebSocket from 'ws';
import { createUser } from './support/identities.js';
import { recordingLogger } from './support/logger.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './support/server.js';
import { Feed, waitFor } from './support/subscriptions.js';

/* What Berth writes to its logs about requests: one access line each, levels that mean what they say, no credential. */

const logger = recordingLogger();
let server: TestServer;
let admin: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer({}, { logger });
  admin = await server.adminAuth();
});
afterAll(() => server.stop());

const post = (body: object, headers: Record<string, string> = {}) =>
  fetch(server.berth.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

const accessLines = (requestId: string) => logger.lines.filter((l) => l.msg === 'http request' && (l.fields as { requestId?: string }).requestId === requestId);

test('one access line per HTTP request: method, path, status, duration, caller, operation, address, request id; never a credential or a variable', async () => {
  const user = await createUser(server);
  const res = await post({ query: `query WhoAmI($secret: String) { me { __typename } bots(filter: { displayName: $secret }) { totalCount } }`, variables: { secret: 'variable-value-1234' } }, user.headers);
  expect(await res.json()).toEqual({ data: { me: { __typename: 'User' }, bots: { totalCount: 0 } } });
  const requestId = res.headers.get('x-request-id')!;
  await waitFor(() => accessLines(requestId).length === 1, 'the access line');
  expect(accessLines(requestId)).toEqual([
    {
      level: 'info',
      msg: 'http request',
      fields: { method: 'POST', path: '/graphql', status: 200, durationMs: expect.any(Number), caller: `user:${user.id}`, operation: 'WhoAmI', address: '127.0.0.1', requestId },
    },
  ]);

  // a login's password and the token it returns appear in no line
  const login = await post({ query: `mutation($p: String!) { login(usernameOrEmail: "admin", password: $p) { accessToken } }`, variables: { p: ADMIN_PASSWORD } });
  const { data } = (await login.json()) as { data: { login: { accessToken: string } } };
  await waitFor(() => accessLines(login.headers.get('x-request-id')!).length === 1, 'the login access line');
  const everything = JSON.stringify(logger.lines);
  for (const secret of [ADMIN_PASSWORD, data.login.accessToken, user.headers['x-platz-token'], 'variable-value-1234']) expect(everything).not.toContain(secret);
});

test("a caller's x-request-id is kept (a proxy's trace), a strange one replaced; the query string is not logged", async () => {
  const traced = await post({ query: '{ serverInfo { version } }' }, { 'x-request-id': 'trace-0123' });
  expect(traced.headers.get('x-request-id')).toBe('trace-0123');
  const strange = await post({ query: '{ serverInfo { version } }' }, { 'x-request-id': 'no spaces allowed\u00e9' });
  expect(strange.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

  const get = await fetch(`${server.berth.url}?query=${encodeURIComponent('{ serverInfo { version } }')}`, { headers: { 'apollo-require-preflight': '1', 'x-request-id': 'trace-get' } });
  expect(get.status).toBe(200);
  await waitFor(() => accessLines('trace-get').length === 1, 'the GET access line');
  expect(accessLines('trace-get')[0].fields).toMatchObject({ method: 'GET', path: '/graphql', caller: 'anonymous', operation: 'anonymous' });
});

test('client mistakes are logged at debug without a stack, not as errors; probes at debug', async () => {
  const before = logger.lines.length;
  for (const body of [{ query: '{ serverInfo { version }' }, { query: '{ serverInfo { nope } }' }, { query: 'query($n: Int) { bots(first: $n) { totalCount } }', variables: { n: 'ten' } }]) {
    await post(body, admin);
  }
  await fetch(new URL('/healthz', server.berth.url));
  await waitFor(() => logger.lines.slice(before).filter((l) => l.msg === 'http request').length === 4, 'four access lines');
  const lines = logger.lines.slice(before);
  expect(lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
  expect(lines.filter((l) => l.msg === 'client error').map((l) => [l.level, (l.fields as { code: string }).code])).toEqual([
    ['debug', 'GRAPHQL_PARSE_FAILED'],
    ['debug', 'GRAPHQL_VALIDATION_FAILED'],
    ['debug', 'BAD_USER_INPUT'],
  ]);
  expect(JSON.stringify(lines)).not.toMatch(/"stack"/);
  expect(lines.find((l) => l.msg === 'http request' && (l.fields as { path: string }).path === '/healthz')?.level).toBe('debug');
});

test('one line per WebSocket connection once it closes: path, code, duration, caller, operations run, address', async () => {
  const user = await createUser(server);
  const feed = new Feed(server.berth.wsUrl, user.headers, `subscription { events(types: [ENV]) { operation } }`);
  await feed.live();
  await feed.dispose();
  const closed = () => logger.lines.filter((l) => l.msg === 'websocket closed' && (l.fields as { caller: string }).caller === `user:${user.id}`);
  await waitFor(() => closed().length === 1, 'the WebSocket access line');
  expect(closed()[0]).toEqual({
    level: 'info',
    msg: 'websocket closed',
    fields: { path: '/graphql', code: 1000, durationMs: expect.any(Number), caller: `user:${user.id}`, operations: 1, address: '127.0.0.1' },
  });

  // Platz's event socket too, its frames counted
  const platz = new WebSocket(server.berth.url.replace(/^http/, 'ws').replace('/graphql', '/api/v2/ws'), { headers: user.headers });
  await new Promise((resolve, reject) => platz.once('open', resolve).once('error', reject));
  platz.send(JSON.stringify({ type: 'subscribe', table: 'envs' }));
  platz.close(1000);
  await waitFor(() => closed().length === 2, 'the Platz WebSocket access line');
  expect(closed()[1].fields).toMatchObject({ path: '/api/v2/ws', code: 1000, operations: 1 });
});
