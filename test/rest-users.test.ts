import { User } from '../src/entities/index.js';
import { expectUnchanged } from './support/assertions.js';
import { build, persist } from './support/fixtures.js';
import { createBot, createUser } from './support/identities.js';
import { restClient, type Rest } from './support/rest.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let rest: Rest;
let admin: Record<string, string>;
let adminId: string;
beforeAll(async () => {
  // no identity cache: a deactivated user must be refused at its next request
  server = await startTestServer({ AUTH_CACHE_SECONDS: '0' });
  rest = restClient(server);
  admin = await server.adminAuth();
  [{ id: adminId }] = await server.sql<{ id: string }>(`select id from users where username = 'admin'`);
});
afterAll(() => server?.stop());

const USER_TABLES = ['users', 'audit_records'];

let seq = 0;
/** Users created in order, a second apart. */
async function newUsers(count: number, fields: Partial<User> = {}): Promise<User[]> {
  const base = Date.now() - 3_600_000 + ++seq * 60_000;
  return persist(
    server,
    ...Array.from({ length: count }, (_, i) => {
      const name = `rest-${seq}-${i}`;
      return build(User, { username: name, email: `${name}@example.com`, displayName: `Person ${seq}-${i}`, createdAt: new Date(base + i * 1000), ...fields });
    }),
  );
}

describe('GET /api/v2/users', () => {
  test("Platz's user JSON, no more: no username, password hash or Kubernetes token", async () => {
    const [user] = await newUsers(1, { isAdmin: true });
    const res = await rest('GET', `/api/v2/users/${user.id}`, { headers: admin });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: user.id, created_at: user.createdAt.toISOString(), display_name: user.displayName, email: user.email, is_admin: true, is_active: true });
  });

  test('filters: display_name and email as case-insensitive substrings, is_active; oldest first; paged', async () => {
    const users = await newUsers(3, { displayName: 'Zed Findable' });
    await server.sql(`update users set is_active = false where id = ?`, [users[1].id]);
    const byName = await rest('GET', '/api/v2/users', { headers: admin, query: { display_name: 'zed find' } });
    expect(byName.body).toMatchObject({ page: 1, per_page: 50, num_total: 3 });
    expect(byName.body.items.map((u: { id: string }) => u.id)).toEqual(users.map((u) => u.id));
    const byEmail = await rest('GET', '/api/v2/users', { headers: admin, query: { email: users[2].email.slice(0, 8).toUpperCase(), per_page: 1 } });
    expect(byEmail.body).toMatchObject({ num_total: 1, items: [{ id: users[2].id }] });
    const inactive = await rest('GET', '/api/v2/users', { headers: admin, query: { display_name: 'zed', is_active: false } });
    expect(inactive.body.items.map((u: { id: string }) => u.id)).toEqual([users[1].id]);
    const page2 = await rest('GET', '/api/v2/users', { headers: admin, query: { display_name: 'zed', page: 2, per_page: 2 } });
    expect(page2.body).toMatchObject({ page: 2, per_page: 2, num_total: 3, items: [{ id: users[2].id }] });
  });

  test('scoped as GraphQL reads are: a user sees itself, not others (404 as missing, where Platz answers 200 null); a bot sees none', async () => {
    const [other] = await newUsers(1);
    const user = await createUser(server);
    const list = await rest('GET', '/api/v2/users', { headers: user.headers });
    expect(list.body).toMatchObject({ num_total: 1, items: [{ id: user.id }] });
    expect((await rest('GET', `/api/v2/users/${user.id}`, { headers: user.headers })).status).toBe(200);
    const hidden = await rest('GET', `/api/v2/users/${other.id}`, { headers: user.headers });
    const missing = await rest('GET', '/api/v2/users/00000000-0000-4000-8000-000000000000', { headers: user.headers });
    expect([hidden.status, hidden.body]).toEqual([404, { message: 'User not found' }]);
    expect([missing.status, missing.body]).toEqual([404, { message: 'User not found' }]);
    const bot = await createBot(server);
    expect((await rest('GET', '/api/v2/users', { headers: bot.headers })).body).toEqual({ page: 1, per_page: 50, items: [], num_total: 0 });
  });
});

describe('PUT /api/v2/users/{id}', () => {
  test('a site admin sets both flags in one write, audited once; the deactivated user is refused at once', async () => {
    const target = await createUser(server);
    expect((await rest('GET', '/api/v2/auth/me', { headers: target.headers })).status).toBe(200);
    const res = await rest('PUT', `/api/v2/users/${target.id}`, { headers: admin, body: { is_admin: true, is_active: false } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: target.id, is_admin: true, is_active: false });
    const audit = await server.sql<{ operation: string; before: { isActive: boolean }; after: { isActive: boolean; isAdmin: boolean } }>(
      `select operation, before, after from audit_records where target_id = ?`,
      [target.id],
    );
    expect(audit).toEqual([{ operation: 'setUserFlags', before: expect.objectContaining({ isActive: true, isAdmin: false }), after: expect.objectContaining({ isActive: false, isAdmin: true }) }]);
    const refused = await rest('GET', '/api/v2/auth/me', { headers: target.headers });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ message: expect.any(String) });
  });

  test('a flag left out stays as it is', async () => {
    const [user] = await newUsers(1, { isAdmin: true });
    const res = await rest('PUT', `/api/v2/users/${user.id}`, { headers: admin, body: { is_active: false } });
    expect(res.body).toMatchObject({ is_admin: true, is_active: false });
  });

  test('refused: not a site admin (403), oneself (409), a missing user (404), a flag that is not a boolean (400); nothing written', async () => {
    // of a higher auth level than the target, so it sees the user it may not change
    const [user] = await newUsers(1);
    const caller = await createUser(server, { authLevel: 1 });
    await expectUnchanged(server, USER_TABLES, async () => {
      expect((await rest('PUT', `/api/v2/users/${user.id}`, { headers: caller.headers, body: { is_admin: true } })).status).toBe(403);
      const self = await rest('PUT', `/api/v2/users/${adminId}`, { headers: admin, body: { is_active: false } });
      expect([self.status, self.body]).toEqual([409, { message: "You can't update your own user" }]);
      expect((await rest('PUT', '/api/v2/users/00000000-0000-4000-8000-000000000000', { headers: admin, body: { is_active: false } })).status).toBe(404);
      const bad = await rest('PUT', `/api/v2/users/${user.id}`, { headers: admin, body: { is_active: 'no' } });
      expect([bad.status, bad.body.message]).toEqual([400, expect.stringMatching(/^is_active \(body\)/)]);
    });
  });
});
