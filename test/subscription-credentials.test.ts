import { afterAll, beforeAll, expect, test } from '@jest/globals';
import WebSocket from 'ws';
import { createUser } from './support/identities.js';
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
