import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from './support/server.js';

/** Four levels deep: botTokens → edges → node → id. */
const DEPTH_FOUR = `{ botTokens { edges { node { id } } } }`;
const DEPTH_THREE = `{ me { ... on User { username } } }`;

let defaults: TestServer;
let strict: TestServer;
beforeAll(async () => {
  [defaults, strict] = await Promise.all([startTestServer(), startTestServer({ GRAPHQL_MAX_DEPTH: '3', GRAPHQL_MAX_TOKENS: '20' })]);
});
afterAll(() => Promise.all([defaults?.stop(), strict?.stop()]));

/** The errors of one operation over graphql-ws ([] when it succeeded). */
async function overWebSocket(server: TestServer, query: string, headers: Record<string, string>): Promise<{ message: string; extensions?: { code?: string } }[]> {
  const client = createClient({ url: server.berth.wsUrl, webSocketImpl: WebSocket, connectionParams: headers, retryAttempts: 0 });
  try {
    for await (const result of client.iterate({ query })) return (result.errors ?? []) as never;
    return [];
  } catch (errors) {
    return errors as never;
  } finally {
    await client.dispose();
  }
}

const codes = (errors: { extensions?: { code?: string } }[] | undefined) => (errors ?? []).map((e) => e.extensions?.code);

test('a server started with GRAPHQL_MAX_DEPTH=3 refuses a depth-4 document over HTTP and WebSocket; the default takes it', async () => {
  const strictAuth = await strict.adminAuth();
  // a GraphQL over HTTP client gets 400 for a document refused before it runs
  const refused = await strict.gql(DEPTH_FOUR, undefined, { ...strictAuth, accept: 'application/graphql-response+json' });
  expect(refused.status).toBe(400);
  expect(refused.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/depth limit of 3/), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })]);
  expect(await overWebSocket(strict, DEPTH_FOUR, strictAuth)).toEqual([expect.objectContaining({ message: expect.stringMatching(/depth limit of 3/), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })]);
  // within the limit, the same server answers
  expect((await strict.gql(DEPTH_THREE, undefined, strictAuth)).data).toEqual({ me: { username: 'admin' } });

  const auth = await defaults.adminAuth();
  const accepted = await defaults.gql(DEPTH_FOUR, undefined, auth);
  expect(accepted.errors).toBeUndefined();
  expect(accepted.data).toEqual({ botTokens: { edges: [] } });
  expect(await overWebSocket(defaults, DEPTH_FOUR, auth)).toEqual([]);
});

test('GRAPHQL_MAX_TOKENS caps the parser, over HTTP and WebSocket', async () => {
  const many = `{ serverInfo { ${Array.from({ length: 20 }, () => 'version').join(' ')} } }`;
  const refused = await strict.gql(many);
  expect(codes(refused.errors)).toEqual(['GRAPHQL_PARSE_FAILED']);
  expect(codes(await overWebSocket(strict, many, {}))).toEqual(['GRAPHQL_PARSE_FAILED']);
  expect((await defaults.gql(many)).errors).toBeUndefined();
});
