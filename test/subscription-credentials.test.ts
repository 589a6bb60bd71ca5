import { afterAll, beforeAll, expect, test } from '@jest/globals';
import WebSocket from 'ws';
import { unique } from './support/fixtures.js';
import { createUser, signJwt } from './support/identities.js';
import { startTestServer, type TestServer } from './support/server.js';
import { Feed } from './support/subscriptions.js';

let server: TestServer;
let admin: Record<string, string>;
const feeds: Feed[] = [];

beforeAll(async () => {
  // credentials checked again every second, and never trusted from the cache
  server = await startTestServer({ SUBSCRIPTION_REAUTH_SECONDS: '1', AUTH_CACHE_SECONDS: '0' });
  admin = await server.adminAuth();
});

afterAll(async () => {
  await Promise.all(feeds.map((f) => f.dispose()));
  await server.stop();
});

function platzSocket(headers: Record<string, string>): Promise<{ socket: WebSocket; closed: Promise<{ code: number; reason: string }> }> {
  const socket = new WebSocket(server.berth.url.replace(/^http/, 'ws').replace('/graphql', '/api/v2/ws'), { headers });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

test('revoking the token a WebSocket connected with closes its sockets with 4403; other callers stay connected', async () => {
  const [revoked, kept] = await Promise.all([createUser(server), createUser(server)]);
  const subscription = `subscription { events(types: [HELM_TAG_FORMAT]) { operation } }`;
  const [revokedFeed, keptFeed] = [revoked, kept].map((caller) => {
    const f = new Feed(server.berth.wsUrl, caller.headers, subscription);
    feeds.push(f);
    return f;
  });
  await Promise.all([revokedFeed.live(), keptFeed.live()]);
  const platz = await platzSocket(revoked.headers);

  const [{ id }] = await server.sql<{ id: string }>('select id from user_tokens where user_id = ?', [revoked.id]);
  const res = await server.gql(`mutation($id: ID!) { revokeUserToken(id: $id) }`, { id }, admin);
  expect(res.errors).toBeUndefined();

  await revokedFeed.until((f) => f.closed !== null, 'the revoked subscriber to be closed');
  expect(revokedFeed.closed).toMatchObject({ code: 4403, reason: 'Forbidden: the credential is no longer valid' });
  expect(await platz.closed).toEqual({ code: 4403, reason: 'Forbidden: the credential is no longer valid' });

  // the other caller's subscription still delivers
  const created = await server.gql(`mutation { createHelmTagFormat(pattern: "^v(?P<version>.*)$") { id } }`, {}, admin);
  expect(created.errors).toBeUndefined();
  await keptFeed.until((f) => f.changes.some((m) => m.operation === 'INSERT'), 'the tag format created after the revocation');
  expect(keptFeed.closed).toBeNull();
});

const TAG_FORMATS = `subscription { events(types: [HELM_TAG_FORMAT]) { operation cursor id } }`;
const FORBIDDEN = { code: 4403, reason: 'Forbidden: the credential is no longer valid' };

/** A feed past its LIVE marker: the credential it connected with was accepted. */
async function open(headers: Record<string, string>): Promise<Feed> {
  const f = new Feed(server.berth.wsUrl, headers, TAG_FORMATS);
  feeds.push(f);
  await f.live();
  return f;
}

/** A change every subscriber of TAG_FORMATS receives; its id. */
async function createTagFormat(): Promise<string> {
  const res = await server.gql<{ createHelmTagFormat: { id: string } }, object>(
    `mutation($p: String!) { createHelmTagFormat(pattern: $p) { id } }`,
    { p: `^${unique()}-(?P<version>.*)$` },
    admin,
  );
  expect(res.errors).toBeUndefined();
  return res.data!.createHelmTagFormat.id;
}

/** After `until` held: the feed is still open, and delivers the next change (and nothing before it). */
async function stillDelivers(f: Feed): Promise<void> {
  const marker = await createTagFormat();
  await f.until((x) => x.changes.some((m) => m.id === marker), 'the change made after the others were closed');
  expect(f.changes.map((m) => `${m.operation} ${m.id}`)).toEqual([`INSERT ${marker}`]);
  expect(f.closed).toBeNull();
}

const logout = async (headers: Record<string, string>) => expect((await server.gql(`mutation { logout }`, {}, headers)).data).toEqual({ logout: true });

test("logout closes the WebSockets of that session with 4403; another session of the same user stays connected", async () => {
  const username = `pw-${unique()}`;
  const password = 'a-password-for-tests';
  const created = await server.gql(
    `mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`,
    { input: { username, email: `${username}@example.com`, displayName: username, password } },
    admin,
  );
  expect(created.errors).toBeUndefined();
  const login = async () => {
    const res = await server.gql<{ login: { accessToken: string } }, object>(`mutation($u: String!, $p: String!) { login(usernameOrEmail: $u, password: $p) { accessToken } }`, { u: username, p: password });
    expect(res.errors).toBeUndefined();
    return { authorization: `Bearer ${res.data!.login.accessToken}` };
  };
  const [ended, kept, endedLater] = [await login(), await login(), await login()];
  // opened in this order, so every check of the credentials takes them in this order
  const endedFeed = await open(ended);
  const keptFeed = await open(kept);
  const endedLaterFeed = await open(endedLater);

  await logout(ended);
  await endedFeed.until((f) => f.closed !== null, 'the logged-out subscriber to be closed');
  expect(endedFeed.closed).toMatchObject(FORBIDDEN);
  const refused = await server.gql(`{ me { __typename } }`, {}, ended);
  expect(refused.errors?.[0]).toMatchObject({ message: 'Session has ended', extensions: { code: 'UNAUTHENTICATED' } });

  // the check that closed the first session took the kept one after it; once a later logout has
  // closed its socket too, that check of the kept session is over, and it passed
  await logout(endedLater);
  await endedLaterFeed.until((f) => f.closed !== null, 'the second logged-out subscriber to be closed');
  expect(endedLaterFeed.closed).toMatchObject(FORBIDDEN);
  await stillDelivers(keptFeed);
});

test('a JWT that expires closes its WebSockets with 4403 at the next check; a valid JWT of the same user stays connected', async () => {
  const user = await createUser(server);
  // a user's claims as the server mints them (no session: the token alone); the server allows 5 s of clock skew past exp
  const expiring = { authorization: `Bearer ${await signJwt(server, { User: user.id }, '2s')}` };
  const valid = { authorization: `Bearer ${await signJwt(server, { User: user.id }, '1h')}` };
  const expiringFeed = await open(expiring);
  const validFeed = await open(valid);

  await expiringFeed.until((f) => f.closed !== null, 'the subscriber with the expired JWT to be closed', 20_000);
  expect(expiringFeed.closed).toMatchObject(FORBIDDEN);
  const refused = await server.gql(`{ me { __typename } }`, {}, expiring);
  expect(refused.errors?.[0]).toMatchObject({ message: 'Access token expired', extensions: { code: 'UNAUTHENTICATED' } });
  await stillDelivers(validFeed);
});
