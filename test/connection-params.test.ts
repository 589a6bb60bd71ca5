import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createUser, signJwt } from './support/identities.js';
import { startTestServer, type TestServer } from './support/server.js';
import { Feed } from './support/subscriptions.js';

// graphql-ws runs queries too: `me` says who the socket's connection_init made the caller
const ME = `query { me { __typename ... on User { id } } }`;

let server: TestServer;
let jwt: string;
let userId: string;
let apiToken: string;
const feeds: Feed[] = [];

beforeAll(async () => {
  server = await startTestServer();
  const user = await createUser(server);
  userId = user.id;
  apiToken = user.headers['x-platz-token'];
  jwt = await signJwt(server, { User: userId });
});

afterAll(async () => {
  await Promise.all(feeds.map((f) => f.dispose()));
  await server.stop();
});

function connect(params: Record<string, unknown>): Feed {
  const feed = new Feed(server.berth.wsUrl, params as Record<string, string>, ME);
  feeds.push(feed);
  return feed;
}

async function answer(params: Record<string, unknown>): Promise<Feed> {
  const feed = connect(params);
  await feed.until((f) => f.completed || f.closed !== null || f.errors.length > 0, 'the answer to me');
  return feed;
}

async function whoIs(params: Record<string, unknown>): Promise<unknown> {
  const feed = await answer(params);
  expect(feed.errors).toEqual([]);
  return feed.messages[0];
}

const placements: [string, (credential: string) => Record<string, unknown>][] = [
  ['authorization', (c) => ({ authorization: c })],
  ['Authorization', (c) => ({ Authorization: c })],
  ['authToken', (c) => ({ authToken: c })],
  ['token', (c) => ({ token: c })],
  ['x-platz-token', (c) => ({ 'x-platz-token': c })],
  ['headers.Authorization', (c) => ({ headers: { Authorization: c } })],
];

test.each(placements)('a JWT, bare or as "Bearer", and an API token are accepted in connection_init %s', async (_key, place) => {
  for (const credential of [jwt, `Bearer ${jwt}`, apiToken]) {
    expect(await whoIs(place(credential))).toEqual({ __typename: 'User', id: userId });
  }
});

test('without a credential the socket is anonymous', async () => {
  for (const params of [{}, { authToken: '' }, { headers: {} }]) {
    const feed = await answer(params);
    expect(feed.closed).toBeNull();
    expect(feed.errors).toMatchObject([{ extensions: { code: 'UNAUTHENTICATED' } }]);
  }
});

test('a failing credential closes with 4403 and a reason naming where it was and why it failed', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ authToken: `${jwt.slice(0, -4)}AAAA` }, 'Forbidden: connection_init authToken: Invalid access token'],
    [{ token: `${apiToken.slice(0, -4)}AAAA` }, 'Forbidden: connection_init token: API token authentication error: Illegal token'],
    [{ headers: { Authorization: 'Basic dXNlcjpwYXNz' } }, 'Forbidden: connection_init headers.Authorization: API token authentication error: Illegal token'],
    [{ Authorization: await signJwt(server, { User: userId }, '-1m') }, 'Forbidden: connection_init Authorization: Access token expired'],
  ];
  for (const [params, reason] of cases) {
    const feed = connect(params);
    await feed.until((f) => f.closed !== null, `the refusal of ${JSON.stringify(params)}`);
    expect(feed.closed).toMatchObject({ code: 4403, reason });
  }
});
