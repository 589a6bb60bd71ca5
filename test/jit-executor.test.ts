import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { seedFleet } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/server.js';

/*
 * Over HTTP a document runs on graphql-js the first time and compiled by graphql-jit from the second
 * (src/graphql/jit-executor.ts): both must answer exactly alike, errors included. Each case is sent three
 * times and the answers compared, the request id (new per request) aside.
 */
let server: TestServer;
let auth: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  await seedFleet(server.em, { deployments: 3 });
  auth = await server.adminAuth();
});
afterAll(() => server?.stop());

const withoutRequestIds = (body: unknown) => JSON.parse(JSON.stringify(body, (key, value: unknown) => (key === 'requestId' ? undefined : value)));

async function sameEachTime(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = auth) {
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(withoutRequestIds(await server.gql(query, variables, headers)));
  expect(answers[1]).toEqual(answers[0]);
  expect(answers[2]).toEqual(answers[0]);
  return answers[0] as { status: number; data?: any; errors?: { extensions?: { code?: string; field?: string } }[] };
}

test('a list with its relations and a union', async () => {
  const list = await sameEachTime('{ deployments(first: 3) { edges { node { id name cluster { name env { name } } latestTask { status operation { __typename } } } } } }');
  expect(list.data.deployments.edges).toHaveLength(3);
  expect(list.data.deployments.edges[0].node.latestTask.operation.__typename).toMatch(/^[A-Z][A-Za-z0-9]*Operation$/);
  const me = await sameEachTime('{ me { __typename ... on User { username } } }');
  expect(me.data.me).toEqual({ __typename: 'User', username: 'admin' });
});

test('a domain error keeps its code and field', async () => {
  const bad = await sameEachTime('mutation ($input: CreateEnvInput!) { createEnv(input: $input) { id } }', { input: { name: '' } });
  expect(bad.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input.name' });
  const anonymous = await sameEachTime('mutation ($input: CreateEnvInput!) { createEnv(input: $input) { id } }', { input: { name: 'x' } }, {});
  expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
});

test('a variable that fails coercion is BAD_USER_INPUT, and nothing runs', async () => {
  const bad = await sameEachTime('query ($first: Int) { deployments(first: $first) { edges { node { id } } } }', { first: 'many' });
  expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  expect(bad.data).toBeUndefined();
});
