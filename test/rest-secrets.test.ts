import { expectUnchanged } from './support/assertions.js';
import { insertDeployment, startWorld, tasksOf, type World } from './support/deployment-world.js';
import { createBot } from './support/identities.js';
import { ids, restClient, RFC_3339_UTC, UUID, type Rest } from './support/rest.js';
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

const SECRET_TABLES = ['secrets', 'deployment_tasks', 'audit_records'];
const PLAINTEXT = 'correct horse battery staple';

type SecretJson = { id: string; created_at: string; updated_at: string; env_id: string; collection: string; name: string };

let seq = 0;
/** A secret created through the API by the env's Admin. */
async function create(fields: Partial<{ env_id: string; collection: string; name: string }> = {}, headers = w.callers.envAdmin.headers): Promise<SecretJson> {
  const res = await rest<SecretJson>('POST', '/api/v2/secrets', { headers, body: { env_id: w.env.id, collection: 'db', name: `pw-${++seq}`, contents: PLAINTEXT, ...fields } });
  expect(res.status).toBe(201);
  return res.body;
}

/** An App deployment whose `password` input picks the secret. */
const usingSecret = (secretId: string, enabled = true) =>
  insertDeployment(server, { name: `user-${++seq}`, kind: w.app, cluster: w.cluster, helmChart: w.appChart, enabled, config: { replicas: 1, password: secretId } });


describe('POST /api/v2/secrets', () => {
  test("the env's Admin creates a secret: 201 with its metadata and never its contents, stored encrypted, audited", async () => {
    const res = await rest('POST', '/api/v2/secrets', { headers: w.callers.envAdmin.headers, body: { env_id: w.env.id, collection: 'db', name: 'main', contents: PLAINTEXT } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.stringMatching(UUID), created_at: expect.stringMatching(RFC_3339_UTC), updated_at: expect.stringMatching(RFC_3339_UTC), env_id: w.env.id, collection: 'db', name: 'main' });
    expect(res.text).not.toContain(PLAINTEXT);
    const [row] = await server.sql<{ contents_encrypted: string }>('select contents_encrypted from secrets where id = ?', [res.body.id]);
    expect(row.contents_encrypted).toMatch(/^v1\./);
    expect(row.contents_encrypted).not.toContain(PLAINTEXT);
    expect(await server.sql('select operation from audit_records where target_id = ?', [res.body.id])).toEqual([{ operation: 'createSecret' }]);
    // a site admin too, in any env
    expect((await create({ env_id: w.otherEnv.id }, admin)).env_id).toBe(w.otherEnv.id);
  });

  test('refused, nothing written: a duplicate (409), an env User or an Owner (403), a bot or another env (404), bad fields (400)', async () => {
    const existing = await create();
    const bot = await createBot(server);
    const body = { env_id: w.env.id, collection: 'db', name: 'new', contents: 'x' };
    await expectUnchanged(server, SECRET_TABLES, async () => {
      const dup = await rest('POST', '/api/v2/secrets', { headers: admin, body: { ...body, name: existing.name } });
      expect([dup.status, dup.body]).toEqual([409, { message: `A secret named "${existing.name}" already exists in the db collection of this env` }]);
      for (const caller of [w.callers.envUser, w.callers.owner]) {
        const res = await rest('POST', '/api/v2/secrets', { headers: caller.headers, body });
        expect([res.status, res.body]).toEqual([403, { message: 'Only admins of this env may do this' }]);
      }
      expect((await rest('POST', '/api/v2/secrets', { headers: bot.headers, body })).status).toBe(404);
      expect((await rest('POST', '/api/v2/secrets', { headers: w.callers.outsider.headers, body })).status).toBe(404);
      const noContents = await rest('POST', '/api/v2/secrets', { headers: admin, body: { env_id: w.env.id, collection: 'db', name: 'x' } });
      expect([noContents.status, noContents.body.message]).toEqual([400, expect.stringMatching(/^contents \(body\)/)]);
      const env = await rest('POST', '/api/v2/secrets', { headers: admin, body: { ...body, env_id: 'prod' } });
      expect([env.status, env.body.message]).toEqual([400, expect.stringMatching(/^env_id \(body\)/)]);
      const empty = await rest('POST', '/api/v2/secrets', { headers: admin, body: { ...body, name: ' ' } });
      expect([empty.status, empty.body.message]).toEqual([400, expect.stringMatching(/^name \(body\): must not be empty/)]);
    });
  });
});

describe('GET /api/v2/secrets', () => {
  test('oldest first, paged; env_id filters; collection and name are case-insensitive and exact, wildcards taken literally; contents never present', async () => {
    const env = await rest('POST', '/api/v2/envs', { headers: admin, body: { name: 'secrets-list' } });
    const envId = env.body.id as string;
    const a = await create({ env_id: envId, collection: 'Web', name: 'Api_Key' }, admin);
    const b = await create({ env_id: envId, collection: 'web', name: 'ApiXKey' }, admin);
    const c = await create({ env_id: envId, collection: 'db', name: 'api_key' }, admin);
    const list = await rest('GET', '/api/v2/secrets', { headers: admin, query: { env_id: envId } });
    expect(list.body).toEqual({ page: 1, per_page: 50, num_total: 3, items: [a, b, c] });
    expect(list.text).not.toContain('contents');
    const page = await rest('GET', '/api/v2/secrets', { headers: admin, query: { env_id: envId, page: 2, per_page: 2 } });
    expect(page.body).toEqual({ page: 2, per_page: 2, num_total: 3, items: [c] });
    expect(ids((await rest('GET', '/api/v2/secrets', { headers: admin, query: { env_id: envId, collection: 'WEB' } })).body)).toEqual([a.id, b.id]);
    expect(ids((await rest('GET', '/api/v2/secrets', { headers: admin, query: { env_id: envId, name: 'API_KEY' } })).body)).toEqual([a.id, c.id]);
    expect(ids((await rest('GET', '/api/v2/secrets', { headers: admin, query: { env_id: envId, collection: 'we' } })).body)).toEqual([]);
    expect(ids((await rest('GET', '/api/v2/secrets', { headers: admin, query: { env_id: envId, name: 'api%' } })).body)).toEqual([]);
    expect(ids((await rest('GET', '/api/v2/secrets', { headers: admin, query: { env_id: envId, collection: 'web', name: 'api_key' } })).body)).toEqual([a.id]);
    const one = await rest('GET', `/api/v2/secrets/${a.id}`, { headers: admin });
    expect([one.status, one.body]).toEqual([200, a]);
  });

  test("scoped per env: the env's users read its secrets' metadata; other envs' are in no list and 404 by id; a bot without roles sees none", async () => {
    const ours = await create();
    const theirs = await create({ env_id: w.otherEnv.id }, admin);
    const mine = await rest('GET', '/api/v2/secrets', { headers: w.callers.envUser.headers, query: { per_page: 500 } });
    expect(ids(mine.body)).toContain(ours.id);
    expect(ids(mine.body)).not.toContain(theirs.id);
    expect((await rest('GET', `/api/v2/secrets/${ours.id}`, { headers: w.callers.envUser.headers })).body).toEqual(ours);
    const hidden = await rest('GET', `/api/v2/secrets/${theirs.id}`, { headers: w.callers.envUser.headers });
    expect([hidden.status, hidden.body]).toEqual([404, { message: 'Secret not found' }]);
    const bot = await createBot(server);
    expect((await rest('GET', '/api/v2/secrets', { headers: bot.headers })).body.num_total).toBe(0);
    expect((await rest('GET', '/api/v2/secrets')).status).toBe(401);
  });
});

describe('PUT /api/v2/secrets/{id}', () => {
  test('renames and re-encrypts, sets updated_at, and reinstalls the enabled deployments that use it', async () => {
    const secret = await create();
    const user = await usingSecret(secret.id);
    const disabledUser = await usingSecret(secret.id, false);
    const [before] = await server.sql<{ contents_encrypted: string }>('select contents_encrypted from secrets where id = ?', [secret.id]);
    const res = await rest('PUT', `/api/v2/secrets/${secret.id}`, { headers: w.callers.envAdmin.headers, body: { name: `${secret.name}-renamed`, contents: 'new contents' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...secret, name: `${secret.name}-renamed`, updated_at: expect.stringMatching(RFC_3339_UTC) });
    expect(new Date(res.body.updated_at).getTime()).toBeGreaterThan(new Date(secret.updated_at).getTime());
    const [after] = await server.sql<{ contents_encrypted: string }>('select contents_encrypted from secrets where id = ?', [secret.id]);
    expect(after.contents_encrypted).not.toBe(before.contents_encrypted);
    expect(await tasksOf(server, user.id)).toEqual([{ tag: 'Reinstall', operation: { reason: 'db secret has been updated' }, status: 'Pending', reason: 'db secret has been updated' }]);
    expect(await tasksOf(server, disabledUser.id)).toEqual([]);
    // a field left out stays
    const contentsOnly = await rest('PUT', `/api/v2/secrets/${secret.id}`, { headers: admin, body: { contents: 'again' } });
    expect(contentsOnly.body.name).toBe(`${secret.name}-renamed`);
  });

  test('refused, nothing written: a name taken (409) or empty (400), an env User (403), another env (404), a missing secret (404)', async () => {
    const [a, b] = [await create(), await create()];
    const theirs = await create({ env_id: w.otherEnv.id }, admin);
    await expectUnchanged(server, SECRET_TABLES, async () => {
      expect((await rest('PUT', `/api/v2/secrets/${a.id}`, { headers: admin, body: { name: b.name } })).status).toBe(409);
      const empty = await rest('PUT', `/api/v2/secrets/${a.id}`, { headers: admin, body: { name: '' } });
      expect([empty.status, empty.body.message]).toEqual([400, expect.stringMatching(/^name \(body\): must not be empty/)]);
      const contents = await rest('PUT', `/api/v2/secrets/${a.id}`, { headers: admin, body: { contents: 42 } });
      expect([contents.status, contents.body.message]).toEqual([400, expect.stringMatching(/^contents \(body\)/)]);
      expect((await rest('PUT', `/api/v2/secrets/${a.id}`, { headers: w.callers.envUser.headers, body: { contents: 'x' } })).status).toBe(403);
      expect((await rest('PUT', `/api/v2/secrets/${theirs.id}`, { headers: w.callers.envAdmin.headers, body: { contents: 'x' } })).status).toBe(404);
      expect((await rest('PUT', '/api/v2/secrets/00000000-0000-4000-8000-000000000000', { headers: admin, body: { contents: 'x' } })).status).toBe(404);
    });
  });
});

describe('DELETE /api/v2/secrets/{id}', () => {
  test('409 naming the deployments that use it (a secret, not a deployment, as Platz words it), nothing written; 204 once unused, then 404', async () => {
    const secret = await create();
    const user = await usingSecret(secret.id, false);
    await expectUnchanged(server, SECRET_TABLES, async () => {
      const busy = await rest('DELETE', `/api/v2/secrets/${secret.id}`, { headers: w.callers.envAdmin.headers });
      expect([busy.status, busy.body]).toEqual([409, { message: `This secret can't be deleted because deployments use it: ${user.name} (App)` }]);
      expect((await rest('DELETE', `/api/v2/secrets/${secret.id}`, { headers: w.callers.envUser.headers })).status).toBe(403);
      expect((await rest('DELETE', `/api/v2/secrets/${secret.id}`, { headers: w.callers.outsider.headers })).status).toBe(404);
    });
    await server.sql('delete from deployments where id = ?', [user.id]);
    const res = await rest('DELETE', `/api/v2/secrets/${secret.id}`, { headers: w.callers.envAdmin.headers });
    expect([res.status, res.text]).toEqual([204, '']);
    expect(await server.sql('select 1 from secrets where id = ?', [secret.id])).toEqual([]);
    expect((await rest('GET', `/api/v2/secrets/${secret.id}`, { headers: admin })).status).toBe(404);
    expect((await rest('DELETE', `/api/v2/secrets/${secret.id}`, { headers: admin })).status).toBe(404);
  });
});
