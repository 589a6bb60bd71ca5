import { hashSecret, parseOpaqueToken } from '../src/auth/opaque-token.js';
import { Bot } from '../src/entities/index.js';
import { expectUnchanged } from './support/assertions.js';
import { insertDeployment, startWorld, type World } from './support/deployment-world.js';
import { build, persist } from './support/fixtures.js';
import { createBot, createUser, deploymentCaller, type Caller } from './support/identities.js';
import { ids, MISSING, restClient, RFC_3339_UTC, UUID, type Rest } from './support/rest.js';
import type { TestServer } from './support/server.js';

let server: TestServer;
let w: World;
let rest: Rest;
let admin: Record<string, string>;
let adminId: string;
let deployment: Caller;
beforeAll(async () => {
  ({ server, w } = await startWorld());
  rest = restClient(server);
  admin = await server.adminAuth();
  [{ id: adminId }] = await server.sql<{ id: string }>(`select id from users where username = 'admin'`);
  deployment = await deploymentCaller(server, (await insertDeployment(server, { name: 'token-caller', kind: w.app, cluster: w.cluster, helmChart: w.appChart })).id);
});
afterAll(() => server?.stop());

/** what token and bot writes touch; a token's use stamps last_used_at, which is not a write */
const TOKEN_TABLES = { names: ['user_tokens', 'bot_tokens', 'bots', 'audit_records'], volatile: ['last_used_at'] };
/** Platz's token format: base64url(uuid bytes) "." base64url(32 random bytes) */
const TOKEN = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;

const me = (token: string, headers: Record<string, string> = {}) => rest('GET', '/api/v2/auth/me', { headers: { ...headers, 'x-platz-token': token } });

/** A user token created through the API, and its row's id (the token's first half). */
async function newUserToken(caller: Record<string, string>, userId?: string | null): Promise<{ token: string; id: string }> {
  const res = await rest('POST', '/api/v2/user-tokens', { headers: caller, body: userId === undefined ? {} : { user_id: userId } });
  expect(res.status).toBe(201);
  return { token: res.body.created_token, id: parseOpaqueToken(res.body.created_token)!.id };
}

describe('/api/v2/user-tokens', () => {
  test('a user creates a token for itself: 201 {created_token}, shown once (only its hash is kept); it authenticates as the user in x-platz-token', async () => {
    const user = await createUser(server);
    const res = await rest('POST', '/api/v2/user-tokens', { headers: user.headers, body: { user_id: null } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ created_token: expect.stringMatching(TOKEN) });
    const { id, secret } = parseOpaqueToken(res.body.created_token)!;
    const [row] = await server.sql<{ user_id: string; secret_hash: string }>('select user_id, secret_hash from user_tokens where id = ?', [id]);
    expect(row).toEqual({ user_id: user.id, secret_hash: hashSecret(secret) });
    expect(await server.sql('select operation from audit_records where target_id = ?', [id])).toEqual([{ operation: 'createUserToken' }]);
    const who = await me(res.body.created_token);
    expect([who.status, who.body.User?.id]).toEqual([200, user.id]);
    // user_id left out means the caller too
    expect((await me((await newUserToken(user.headers)).token)).body.User.id).toBe(user.id);
  });

  test('x-platz-token wins over a Bearer JWT sent with it, also when it is not valid', async () => {
    const user = await createUser(server);
    const { token } = await newUserToken(user.headers);
    const both = await me(token, admin);
    expect([both.status, both.body.User.id]).toEqual([200, user.id]);
    const invalid = await me(`${token.slice(0, -4)}AAAA`, admin);
    expect([invalid.status, invalid.body]).toEqual([401, { message: expect.any(String) }]);
    expect((await rest('GET', '/api/v2/auth/me', { headers: admin })).body.User.id).toBe(adminId);
  });

  test('a site admin creates a token for another user; a user may not for others (403, or 404 for one it cannot see); bots and deployments may not at all; nothing written', async () => {
    // of a higher auth level than the other, so it sees the user it may not make tokens for
    const [user, other] = [await createUser(server, { authLevel: 1 }), await createUser(server)];
    const peer = await createUser(server, { authLevel: 1 });
    const { token } = await newUserToken(admin, user.id);
    expect((await me(token)).body.User.id).toBe(user.id);
    const bot = await createBot(server);
    await expectUnchanged(server, TOKEN_TABLES, async () => {
      const forOther = await rest('POST', '/api/v2/user-tokens', { headers: user.headers, body: { user_id: other.id } });
      expect([forOther.status, forOther.body]).toEqual([403, { message: 'Only site admins may create tokens for other users' }]);
      expect((await rest('POST', '/api/v2/user-tokens', { headers: user.headers, body: { user_id: peer.id } })).status).toBe(404);
      expect((await rest('POST', '/api/v2/user-tokens', { headers: bot.headers, body: {} })).status).toBe(403);
      expect((await rest('POST', '/api/v2/user-tokens', { headers: deployment.headers, body: {} })).status).toBe(403);
      expect((await rest('POST', '/api/v2/user-tokens', { headers: admin, body: { user_id: MISSING } })).status).toBe(404);
      const bad = await rest('POST', '/api/v2/user-tokens', { headers: admin, body: { user_id: 'me' } });
      expect([bad.status, bad.body.message]).toEqual([400, expect.stringMatching(/^user_id \(body\)/)]);
      expect((await rest('POST', '/api/v2/user-tokens', { body: {} })).status).toBe(401);
    });
  });

  test("lists: a user its own tokens, oldest first, without their hashes; a site admin everyone's, user_id filters; others none", async () => {
    const user = await createUser(server);
    const made = await newUserToken(user.headers);
    const rows = await server.sql<{ id: string; created_at: string | Date }>('select id, created_at from user_tokens where user_id = ? order by created_at, id', [user.id]);
    const expected = rows.map((r) => ({ id: r.id, user_id: user.id, created_at: new Date(r.created_at).toISOString() }));
    const own = await rest('GET', '/api/v2/user-tokens', { headers: user.headers });
    expect(own.body).toEqual({ page: 1, per_page: 50, num_total: 2, items: expected });
    expect(expected[1].id).toBe(made.id);
    expect(expected[0].created_at).toMatch(RFC_3339_UTC);
    expect((await rest('GET', '/api/v2/user-tokens', { headers: user.headers, query: { per_page: 1, page: 2 } })).body).toEqual({ page: 2, per_page: 1, num_total: 2, items: [expected[1]] });
    const byAdmin = await rest('GET', '/api/v2/user-tokens', { headers: admin, query: { user_id: user.id } });
    expect(byAdmin.body.items).toEqual(expected);
    expect((await rest('GET', '/api/v2/user-tokens', { headers: admin, query: { per_page: 500 } })).body.num_total).toBeGreaterThan(2);
    // Platz refuses user_id from a non-admin (403); Berth's reads are scoped: the filter applies inside the caller's own tokens
    expect((await rest('GET', '/api/v2/user-tokens', { headers: user.headers, query: { user_id: user.id } })).body.items).toEqual(expected);
    expect((await rest('GET', '/api/v2/user-tokens', { headers: user.headers, query: { user_id: adminId } })).body).toEqual({ page: 1, per_page: 50, num_total: 0, items: [] });
    for (const caller of [await createBot(server), deployment]) {
      expect((await rest('GET', '/api/v2/user-tokens', { headers: caller.headers })).body.num_total).toBe(0);
    }
  });

  test("by id: one's own and a site admin's; anyone else's is 404, as missing", async () => {
    const [user, other] = [await createUser(server), await createUser(server)];
    const { id } = await newUserToken(user.headers);
    const own = await rest('GET', `/api/v2/user-tokens/${id}`, { headers: user.headers });
    expect([own.status, own.body]).toEqual([200, { id, user_id: user.id, created_at: expect.stringMatching(RFC_3339_UTC) }]);
    expect((await rest('GET', `/api/v2/user-tokens/${id}`, { headers: admin })).body).toEqual(own.body);
    const hidden = await rest('GET', `/api/v2/user-tokens/${id}`, { headers: other.headers });
    expect([hidden.status, hidden.body]).toEqual([404, { message: 'UserToken not found' }]);
    expect((await rest('GET', `/api/v2/user-tokens/${MISSING}`, { headers: user.headers })).body).toEqual(hidden.body);
  });

  test('revoked by its user or a site admin: 204, and it stops working at once; anyone else gets 404, nothing written', async () => {
    const [user, other] = [await createUser(server), await createUser(server)];
    const mine = await newUserToken(user.headers);
    const another = await newUserToken(user.headers);
    const bot = await createBot(server);
    await expectUnchanged(server, TOKEN_TABLES, async () => {
      expect((await rest('DELETE', `/api/v2/user-tokens/${mine.id}`, { headers: other.headers })).status).toBe(404);
      expect((await rest('DELETE', `/api/v2/user-tokens/${mine.id}`, { headers: bot.headers })).status).toBe(404);
    });
    const res = await rest('DELETE', `/api/v2/user-tokens/${mine.id}`, { headers: user.headers });
    expect([res.status, res.text]).toEqual([204, '']);
    expect((await me(mine.token)).status).toBe(401);
    expect((await rest('DELETE', `/api/v2/user-tokens/${another.id}`, { headers: admin })).status).toBe(204);
    expect((await me(another.token)).status).toBe(401);
    expect(await server.sql('select 1 from user_tokens where id in (?, ?)', [mine.id, another.id])).toEqual([]);
  });
});

let botSeq = 0;
/** Bots inserted a second apart, so "oldest first" is their order. */
async function newBots(count: number, displayName: string): Promise<Bot[]> {
  const base = Date.now() - 3_600_000 + ++botSeq * 60_000;
  return persist(server, ...Array.from({ length: count }, (_, i) => build(Bot, { displayName: `${displayName} ${i}`, createdAt: new Date(base + i * 1000) })));
}

describe('/api/v2/bots', () => {
  test("a site admin creates, renames and deletes a bot: 201, 200, 204; its tokens go with it and stop working", async () => {
    const created = await rest('POST', '/api/v2/bots', { headers: admin, body: { display_name: 'Deployer' } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.stringMatching(UUID), created_at: expect.stringMatching(RFC_3339_UTC), display_name: 'Deployer' });
    const renamed = await rest('PUT', `/api/v2/bots/${created.body.id}`, { headers: admin, body: { display_name: 'Release bot' } });
    expect([renamed.status, renamed.body]).toEqual([200, { ...created.body, display_name: 'Release bot' }]);
    expect((await rest('PUT', `/api/v2/bots/${created.body.id}`, { headers: admin, body: {} })).body.display_name).toBe('Release bot');
    const token = await rest('POST', '/api/v2/bot-tokens', { headers: admin, body: { bot_id: created.body.id } });
    expect((await me(token.body.created_token)).body).toEqual({ Bot: renamed.body });
    const deleted = await rest('DELETE', `/api/v2/bots/${created.body.id}`, { headers: admin });
    expect([deleted.status, deleted.text]).toEqual([204, '']);
    expect(await server.sql('select 1 from bot_tokens where bot_id = ?', [created.body.id])).toEqual([]);
    expect((await me(token.body.created_token)).status).toBe(401);
    const gone = await rest('GET', `/api/v2/bots/${created.body.id}`, { headers: admin });
    expect([gone.status, gone.body]).toEqual([404, { message: 'Bot not found' }]);
    expect((await rest('DELETE', `/api/v2/bots/${created.body.id}`, { headers: admin })).status).toBe(404);
    expect(await server.sql('select operation from audit_records where target_id = ? order by created_at', [created.body.id])).toEqual([
      { operation: 'createBot' },
      { operation: 'updateBot' },
      { operation: 'updateBot' },
      { operation: 'deleteBot' },
    ]);
  });

  test('lists: oldest first, paged; display_name is a case-insensitive substring, wildcards taken literally', async () => {
    const bots = await newBots(3, 'Scan_Bot');
    await newBots(1, 'ScanXBot');
    const list = await rest('GET', '/api/v2/bots', { headers: admin, query: { display_name: 'scan_b' } });
    expect(list.body).toEqual({ page: 1, per_page: 50, num_total: 3, items: bots.map((b) => ({ id: b.id, created_at: b.createdAt.toISOString(), display_name: b.displayName })) });
    expect((await rest('GET', '/api/v2/bots', { headers: admin, query: { display_name: 'scan_b', page: 2, per_page: 2 } })).body).toMatchObject({ num_total: 3, items: [{ id: bots[2].id }] });
    expect((await rest('GET', `/api/v2/bots/${bots[0].id}`, { headers: admin })).body).toEqual(list.body.items[0]);
  });

  test("scoped as GraphQL reads are: env Admins see every bot; a bot itself; a user without an env Admin role none (404 by id, where Platz answers 200 null)", async () => {
    const [bot] = await newBots(1, 'Scoped');
    const botCaller = await createBot(server);
    expect(ids((await rest('GET', '/api/v2/bots', { headers: w.callers.envAdmin.headers, query: { per_page: 500 } })).body)).toEqual(expect.arrayContaining([bot.id, botCaller.id]));
    expect(ids((await rest('GET', '/api/v2/bots', { headers: botCaller.headers })).body)).toEqual([botCaller.id]);
    expect((await rest('GET', '/api/v2/bots', { headers: w.callers.envUser.headers })).body.num_total).toBe(0);
    const hidden = await rest('GET', `/api/v2/bots/${bot.id}`, { headers: w.callers.envUser.headers });
    expect([hidden.status, hidden.body]).toEqual([404, { message: 'Bot not found' }]);
    expect((await rest('GET', `/api/v2/bots/${MISSING}`, { headers: admin })).status).toBe(404);
  });

  test('refused, nothing written: env Admins and a bot itself (403), callers who cannot see the bot (404), a display_name missing or empty (400)', async () => {
    const botCaller = await createBot(server);
    await expectUnchanged(server, TOKEN_TABLES, async () => {
      for (const headers of [w.callers.envAdmin.headers, botCaller.headers]) {
        expect((await rest('POST', '/api/v2/bots', { headers, body: { display_name: 'x' } })).status).toBe(403);
        expect((await rest('PUT', `/api/v2/bots/${botCaller.id}`, { headers, body: { display_name: 'x' } })).status).toBe(403);
        expect((await rest('DELETE', `/api/v2/bots/${botCaller.id}`, { headers })).status).toBe(403);
      }
      for (const headers of [w.callers.envUser.headers, deployment.headers]) {
        expect((await rest('PUT', `/api/v2/bots/${botCaller.id}`, { headers, body: { display_name: 'x' } })).status).toBe(404);
        expect((await rest('DELETE', `/api/v2/bots/${botCaller.id}`, { headers })).status).toBe(404);
      }
      const missing = await rest('POST', '/api/v2/bots', { headers: admin, body: {} });
      expect([missing.status, missing.body.message]).toEqual([400, expect.stringMatching(/^display_name \(body\)/)]);
      const empty = await rest('POST', '/api/v2/bots', { headers: admin, body: { display_name: '  ' } });
      expect([empty.status, empty.body.message]).toEqual([400, expect.stringMatching(/^display_name \(body\): must not be empty/)]);
    });
  });
});

describe('/api/v2/bot-tokens', () => {
  test('a site admin creates a token for a bot: 201 {created_token}; it authenticates as the bot; the row records who created it', async () => {
    const [bot] = await newBots(1, 'Tokened');
    const res = await rest('POST', '/api/v2/bot-tokens', { headers: admin, body: { bot_id: bot.id } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ created_token: expect.stringMatching(TOKEN) });
    expect((await me(res.body.created_token)).body).toEqual({ Bot: { id: bot.id, created_at: bot.createdAt.toISOString(), display_name: bot.displayName } });
    const [row] = await server.sql<{ id: string; created_at: string | Date }>('select id, created_at from bot_tokens where bot_id = ?', [bot.id]);
    const one = await rest('GET', `/api/v2/bot-tokens/${row.id}`, { headers: admin });
    expect([one.status, one.body]).toEqual([200, { id: row.id, bot_id: bot.id, created_at: new Date(row.created_at).toISOString(), created_by_user_id: adminId }]);
  });

  test('lists: oldest first; bot_id and created_by_user_id filter; site admins only (others see none, and 404 by id)', async () => {
    const [a, b] = await newBots(2, 'Listed');
    for (const bot of [a, a, b]) expect((await rest('POST', '/api/v2/bot-tokens', { headers: admin, body: { bot_id: bot.id } })).status).toBe(201);
    const rows = await server.sql<{ id: string }>('select id from bot_tokens where bot_id = ? order by created_at, id', [a.id]);
    const list = await rest('GET', '/api/v2/bot-tokens', { headers: admin, query: { bot_id: a.id } });
    expect(list.body).toMatchObject({ page: 1, per_page: 50, num_total: 2 });
    expect(ids(list.body)).toEqual(rows.map((r) => r.id));
    expect(list.body.items[0]).toEqual({ id: rows[0].id, bot_id: a.id, created_at: expect.stringMatching(RFC_3339_UTC), created_by_user_id: adminId });
    expect(ids((await rest('GET', '/api/v2/bot-tokens', { headers: admin, query: { created_by_user_id: adminId, per_page: 500 } })).body)).toEqual(expect.arrayContaining(rows.map((r) => r.id)));
    expect((await rest('GET', '/api/v2/bot-tokens', { headers: admin, query: { created_by_user_id: w.callers.envAdmin.id } })).body.num_total).toBe(0);
    for (const caller of [w.callers.envAdmin, await createBot(server), deployment]) {
      expect((await rest('GET', '/api/v2/bot-tokens', { headers: caller.headers })).body.num_total).toBe(0);
      expect((await rest('GET', `/api/v2/bot-tokens/${rows[0].id}`, { headers: caller.headers })).status).toBe(404);
    }
  });

  test('refused, nothing written: env Admins (403), a bot creating its own (403), an unknown bot (404, not 503); revoking: non-admins 404', async () => {
    const [bot] = await newBots(1, 'Guarded');
    const botCaller = await createBot(server);
    const [{ id: tokenId }] = await server.sql<{ id: string }>('select id from bot_tokens where bot_id = ?', [botCaller.id]);
    await expectUnchanged(server, TOKEN_TABLES, async () => {
      expect((await rest('POST', '/api/v2/bot-tokens', { headers: w.callers.envAdmin.headers, body: { bot_id: bot.id } })).status).toBe(403);
      expect((await rest('POST', '/api/v2/bot-tokens', { headers: botCaller.headers, body: { bot_id: botCaller.id } })).status).toBe(403);
      const unknown = await rest('POST', '/api/v2/bot-tokens', { headers: admin, body: { bot_id: MISSING } });
      expect([unknown.status, unknown.body]).toEqual([404, { message: 'Bot not found' }]);
      expect((await rest('POST', '/api/v2/bot-tokens', { headers: admin, body: {} })).status).toBe(400);
      expect((await rest('DELETE', `/api/v2/bot-tokens/${tokenId}`, { headers: w.callers.envAdmin.headers })).status).toBe(404);
      expect((await rest('DELETE', `/api/v2/bot-tokens/${tokenId}`, { headers: botCaller.headers })).status).toBe(404);
    });
  });

  test('revoked by a site admin: 204, and the bot is refused at once; then 404', async () => {
    const botCaller = await createBot(server);
    expect((await rest('GET', '/api/v2/auth/me', { headers: botCaller.headers })).status).toBe(200);
    const [{ id: tokenId }] = await server.sql<{ id: string }>('select id from bot_tokens where bot_id = ?', [botCaller.id]);
    const res = await rest('DELETE', `/api/v2/bot-tokens/${tokenId}`, { headers: admin });
    expect([res.status, res.text]).toEqual([204, '']);
    expect((await rest('GET', '/api/v2/auth/me', { headers: botCaller.headers })).status).toBe(401);
    expect((await rest('DELETE', `/api/v2/bot-tokens/${tokenId}`, { headers: admin })).status).toBe(404);
    expect(await server.sql('select operation from audit_records where target_id = ?', [tokenId])).toEqual([{ operation: 'revokeBotToken' }]);
  });
});
