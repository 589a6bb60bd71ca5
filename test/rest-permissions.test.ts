import { EnvUserRole, UserDeploymentRole } from '../src/entities/enums.js';
import { expectUnchanged } from './support/assertions.js';
import { insertDeployment, startWorld, type World } from './support/deployment-world.js';
import { createBot, createUser, deploymentCaller, grantEnvRole, grantKindRole } from './support/identities.js';
import { ids, MISSING, restClient, RFC_3339_UTC, UUID, type Rest } from './support/rest.js';
import type { TestServer } from './support/server.js';

let server: TestServer;
let w: World;
let rest: Rest;
let admin: Record<string, string>;
beforeAll(async () => {
  ({ server, w } = await startWorld());
  rest = restClient(server);
  admin = await server.adminAuth();
});
afterAll(() => server?.stop());

const GRANT_TABLES = ['env_user_permissions', 'deployment_permissions', 'audit_records'];

type Row = { id: string; created_at: string | Date; user_id: string | null; bot_id: string | null; env_id: string; role: string; kind_id?: string };
/** A table's rows of one env, oldest first, as the database holds them. */
const rowsOf = (table: string, envId: string) => server.sql<Row>(`select * from ${table} where env_id = ? order by created_at, id`, [envId]);

describe('GET /api/v2/env-user-permissions', () => {
  test("Platz's JSON for each row, oldest first; env_id filters; paged with num_total", async () => {
    const rows = await rowsOf('env_user_permissions', w.env.id);
    const res = await rest('GET', '/api/v2/env-user-permissions', { headers: admin, query: { env_id: w.env.id } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      page: 1,
      per_page: 50,
      num_total: 2,
      items: rows.map((r) => ({ id: r.id, created_at: new Date(r.created_at).toISOString(), env_id: w.env.id, user_id: r.user_id, role: r.role })),
    });
    expect(res.body.items.map((i: { user_id: string; role: string }) => [i.user_id, i.role])).toEqual([
      [w.callers.envAdmin.id, 'Admin'],
      [w.callers.envUser.id, 'User'],
    ]);
    expect(res.body.items[0].created_at).toMatch(RFC_3339_UTC);
    const page2 = await rest('GET', '/api/v2/env-user-permissions', { headers: admin, query: { env_id: w.env.id, page: 2, per_page: 1 } });
    expect(page2.body).toEqual({ page: 2, per_page: 1, num_total: 2, items: [expect.objectContaining({ id: rows[1].id })] });
    const all = await rest('GET', '/api/v2/env-user-permissions', { headers: admin });
    expect(ids(all.body)).toEqual(expect.arrayContaining([...rows.map((r) => r.id), (await rowsOf('env_user_permissions', w.otherEnv.id))[0].id]));
    const bad = await rest('GET', '/api/v2/env-user-permissions', { headers: admin, query: { env_id: 'prod' } });
    expect([bad.status, bad.body.message]).toEqual([400, expect.stringMatching(/^env_id \(query parameter\)/)]);
  });

  test('scoped per env: a user sees the envs it holds a role in; others are 404 by id, as missing; a bot without roles sees none', async () => {
    const [theirs] = await rowsOf('env_user_permissions', w.otherEnv.id);
    const mine = await rest('GET', '/api/v2/env-user-permissions', { headers: w.callers.envUser.headers });
    expect(mine.body.num_total).toBe(2);
    expect(mine.body.items.every((i: { env_id: string }) => i.env_id === w.env.id)).toBe(true);
    const hidden = await rest('GET', `/api/v2/env-user-permissions/${theirs.id}`, { headers: w.callers.envUser.headers });
    const missing = await rest('GET', `/api/v2/env-user-permissions/${MISSING}`, { headers: w.callers.envUser.headers });
    expect([hidden.status, hidden.body]).toEqual([404, { message: 'EnvUserPermission not found' }]);
    expect([missing.status, missing.body]).toEqual([404, hidden.body]);
    expect((await rest('GET', `/api/v2/env-user-permissions/${theirs.id}`, { headers: w.callers.outsider.headers })).body).toMatchObject({ id: theirs.id, role: 'Admin' });
    const bot = await createBot(server);
    expect((await rest('GET', '/api/v2/env-user-permissions', { headers: bot.headers })).body).toEqual({ page: 1, per_page: 50, items: [], num_total: 0 });
    expect((await rest('GET', '/api/v2/env-user-permissions')).status).toBe(401);
  });

  test("a bot's role (Berth's; Platz's rows are users') is in no list and not found by id", async () => {
    const bot = await createBot(server);
    await grantEnvRole(server, w.otherEnv.id, { botId: bot.id }, EnvUserRole.User);
    const [botGrant] = (await rowsOf('env_user_permissions', w.otherEnv.id)).filter((r) => r.bot_id === bot.id);
    const list = await rest('GET', '/api/v2/env-user-permissions', { headers: admin, query: { env_id: w.otherEnv.id } });
    expect(list.body.items.map((i: { user_id: string }) => i.user_id)).toEqual([w.callers.outsider.id]);
    expect((await rest('GET', `/api/v2/env-user-permissions/${botGrant.id}`, { headers: admin })).status).toBe(404);
    // nor can it be deleted through Platz's API: what a client cannot read, it cannot name
    const deleted = await expectUnchanged(server, GRANT_TABLES, () => rest('DELETE', `/api/v2/env-user-permissions/${botGrant.id}`, { headers: admin }));
    expect(deleted.status).toBe(404);
  });
});

describe('POST and DELETE /api/v2/env-user-permissions', () => {
  test("the env's Admin gives a user a role: 201 with the row, audited; then deletes it: 204, then 404", async () => {
    const user = await createUser(server);
    const res = await rest('POST', '/api/v2/env-user-permissions', { headers: w.callers.envAdmin.headers, body: { env_id: w.env.id, user_id: user.id, role: 'User' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.stringMatching(UUID), created_at: expect.stringMatching(RFC_3339_UTC), env_id: w.env.id, user_id: user.id, role: 'User' });
    expect(await server.sql(`select user_id, role from env_user_permissions where id = ?`, [res.body.id])).toEqual([{ user_id: user.id, role: 'User' }]);
    expect(await server.sql(`select operation from audit_records where target_id = ?`, [res.body.id])).toEqual([{ operation: 'createEnvUserPermission' }]);
    expect((await rest('GET', `/api/v2/env-user-permissions/${res.body.id}`, { headers: user.headers })).body).toEqual(res.body);
    const deleted = await rest('DELETE', `/api/v2/env-user-permissions/${res.body.id}`, { headers: w.callers.envAdmin.headers });
    expect([deleted.status, deleted.text]).toEqual([204, '']);
    expect(await server.sql(`select 1 from env_user_permissions where id = ?`, [res.body.id])).toEqual([]);
    expect((await rest('DELETE', `/api/v2/env-user-permissions/${res.body.id}`, { headers: w.callers.envAdmin.headers })).status).toBe(404);
  });

  test('a site admin gives any env roles (Admin here)', async () => {
    const user = await createUser(server);
    const res = await rest('POST', '/api/v2/env-user-permissions', { headers: admin, body: { env_id: w.otherEnv.id, user_id: user.id, role: 'Admin' } });
    expect([res.status, res.body.role, res.body.env_id]).toEqual([201, 'Admin', w.otherEnv.id]);
  });

  test('refused, nothing written: a second role (409), env User (403), other env (404), a bot and a deployment (403), bad fields (400), unknown user (404)', async () => {
    const user = await createUser(server);
    const bot = await createBot(server);
    await grantEnvRole(server, w.env.id, { botId: bot.id }, EnvUserRole.User);
    const deployment = await deploymentCaller(server, (await insertDeployment(server, { name: 'perm-caller', kind: w.app, cluster: w.cluster, helmChart: w.appChart })).id);
    const body = { env_id: w.env.id, user_id: user.id, role: 'User' };
    await expectUnchanged(server, GRANT_TABLES, async () => {
      const dup = await rest('POST', '/api/v2/env-user-permissions', { headers: admin, body: { ...body, user_id: w.callers.envUser.id } });
      expect([dup.status, dup.body]).toEqual([409, { message: expect.stringMatching(/already has a role in env prod/) }]);
      const forbidden = await rest('POST', '/api/v2/env-user-permissions', { headers: w.callers.envUser.headers, body });
      expect([forbidden.status, forbidden.body]).toEqual([403, { message: expect.any(String) }]);
      expect((await rest('POST', '/api/v2/env-user-permissions', { headers: w.callers.outsider.headers, body })).status).toBe(404);
      expect((await rest('POST', '/api/v2/env-user-permissions', { headers: bot.headers, body })).status).toBe(403);
      expect((await rest('POST', '/api/v2/env-user-permissions', { headers: deployment.headers, body })).status).toBe(403);
      const role = await rest('POST', '/api/v2/env-user-permissions', { headers: admin, body: { ...body, role: 'Owner' } });
      expect([role.status, role.body.message]).toEqual([400, expect.stringMatching(/^role \(body\)/)]);
      const noUser = await rest('POST', '/api/v2/env-user-permissions', { headers: admin, body: { env_id: w.env.id, role: 'User' } });
      expect([noUser.status, noUser.body.message]).toEqual([400, expect.stringMatching(/^user_id \(body\)/)]);
      const unknown = await rest('POST', '/api/v2/env-user-permissions', { headers: admin, body: { ...body, user_id: MISSING } });
      expect([unknown.status, unknown.body]).toEqual([404, { message: 'User not found' }]);
    });
  });

  test("refused, nothing written: one's own role (409, Platz's message), an env User (403), another env (404)", async () => {
    const [own, other] = await rowsOf('env_user_permissions', w.env.id);
    expect([own.user_id, other.user_id]).toEqual([w.callers.envAdmin.id, w.callers.envUser.id]);
    const [theirs] = await rowsOf('env_user_permissions', w.otherEnv.id);
    await expectUnchanged(server, GRANT_TABLES, async () => {
      const self = await rest('DELETE', `/api/v2/env-user-permissions/${own.id}`, { headers: w.callers.envAdmin.headers });
      expect([self.status, self.body]).toEqual([409, { message: "You can't delete your own permissions" }]);
      expect((await rest('DELETE', `/api/v2/env-user-permissions/${own.id}`, { headers: w.callers.envUser.headers })).status).toBe(403);
      expect((await rest('DELETE', `/api/v2/env-user-permissions/${theirs.id}`, { headers: w.callers.envAdmin.headers })).status).toBe(404);
    });
  });
});

describe('/api/v2/deployment-permissions', () => {
  test("Platz's JSON, oldest first, users' roles only (the bot's Owner role is Berth's); env_id filters; scoped per env", async () => {
    const rows = (await rowsOf('deployment_permissions', w.env.id)).filter((r) => r.user_id);
    const res = await rest('GET', '/api/v2/deployment-permissions', { headers: admin, query: { env_id: w.env.id } });
    expect(res.body).toEqual({
      page: 1,
      per_page: 50,
      num_total: 4,
      items: rows.map((r) => ({ id: r.id, created_at: new Date(r.created_at).toISOString(), env_id: w.env.id, user_id: r.user_id, kind_id: r.kind_id, role: r.role })),
    });
    expect(new Set(res.body.items.map((i: { role: string }) => i.role))).toEqual(new Set(['Owner', 'Maintainer']));
    expect((await rest('GET', `/api/v2/deployment-permissions/${rows[0].id}`, { headers: w.callers.maintainer.headers })).body).toEqual(res.body.items[0]);
    const [botGrant] = (await rowsOf('deployment_permissions', w.env.id)).filter((r) => r.bot_id);
    expect((await rest('GET', `/api/v2/deployment-permissions/${botGrant.id}`, { headers: admin })).status).toBe(404);
    const deleted = await expectUnchanged(server, GRANT_TABLES, () => rest('DELETE', `/api/v2/deployment-permissions/${botGrant.id}`, { headers: admin }));
    expect(deleted.status).toBe(404);
    expect((await rest('GET', '/api/v2/deployment-permissions', { headers: w.callers.outsider.headers, query: { env_id: w.env.id } })).body.num_total).toBe(0);
    expect((await rest('GET', `/api/v2/deployment-permissions/${rows[0].id}`, { headers: w.callers.outsider.headers })).status).toBe(404);
  });

  test("the env's Admin gives a role on a kind: 201 with the row; a second for the same kind is 409; then deletes it: 204", async () => {
    const user = await createUser(server);
    const body = { env_id: w.env.id, user_id: user.id, kind_id: w.shop.id, role: 'Maintainer' };
    const res = await rest('POST', '/api/v2/deployment-permissions', { headers: w.callers.envAdmin.headers, body });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.stringMatching(UUID), created_at: expect.stringMatching(RFC_3339_UTC), ...body });
    expect(await server.sql(`select user_id, kind_id, role from deployment_permissions where id = ?`, [res.body.id])).toEqual([{ user_id: user.id, kind_id: w.shop.id, role: 'Maintainer' }]);
    const dup = await expectUnchanged(server, GRANT_TABLES, () => rest('POST', '/api/v2/deployment-permissions', { headers: admin, body: { ...body, role: 'Owner' } }));
    expect([dup.status, dup.body.message]).toEqual([409, expect.stringMatching(/already has a role for Shop in env prod/)]);
    const deleted = await rest('DELETE', `/api/v2/deployment-permissions/${res.body.id}`, { headers: w.callers.envAdmin.headers });
    expect([deleted.status, deleted.text]).toEqual([204, '']);
    expect(await server.sql(`select 1 from deployment_permissions where id = ?`, [res.body.id])).toEqual([]);
  });

  test('refused, nothing written: an Owner or env User (403), another env (404), a bad role or kind (400, 404)', async () => {
    const user = await createUser(server);
    await grantKindRole(server, w.otherEnv.id, w.app.id, { userId: user.id }, UserDeploymentRole.Owner);
    const [theirs] = await rowsOf('deployment_permissions', w.otherEnv.id);
    const [ours] = await rowsOf('deployment_permissions', w.env.id);
    const body = { env_id: w.env.id, user_id: user.id, kind_id: w.app.id, role: 'Owner' };
    await expectUnchanged(server, GRANT_TABLES, async () => {
      expect((await rest('POST', '/api/v2/deployment-permissions', { headers: w.callers.owner.headers, body })).status).toBe(403);
      expect((await rest('POST', '/api/v2/deployment-permissions', { headers: w.callers.envUser.headers, body })).status).toBe(403);
      expect((await rest('POST', '/api/v2/deployment-permissions', { headers: w.callers.outsider.headers, body })).status).toBe(404);
      const role = await rest('POST', '/api/v2/deployment-permissions', { headers: admin, body: { ...body, role: 'Admin' } });
      expect([role.status, role.body.message]).toEqual([400, expect.stringMatching(/^role \(body\)/)]);
      const kind = await rest('POST', '/api/v2/deployment-permissions', { headers: admin, body: { ...body, kind_id: MISSING } });
      expect([kind.status, kind.body]).toEqual([404, { message: 'DeploymentKind not found' }]);
      expect((await rest('DELETE', `/api/v2/deployment-permissions/${ours.id}`, { headers: w.callers.owner.headers })).status).toBe(403);
      expect((await rest('DELETE', `/api/v2/deployment-permissions/${theirs.id}`, { headers: w.callers.envAdmin.headers })).status).toBe(404);
    });
  });
});
