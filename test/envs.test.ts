import { Deployment, Env, EnvUserPermission, K8sCluster, Secret, User } from '../src/entities/index.js';
import { EnvUserRole } from '../src/entities/enums.js';
import { countRows, expectError, expectUnchanged } from './support/assertions.js';
import { build, persist, seedFleet } from './support/fixtures.js';
import { createBot, createUser, grantEnvRole, type Caller } from './support/identities.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let admin: Record<string, string>;
let adminId: string;
beforeAll(async () => {
  // no identity cache: a test demotes a site admin and expects the next request to see it
  server = await startTestServer({ AUTH_CACHE_SECONDS: '0' });
  admin = await server.adminAuth();
  [{ id: adminId }] = await server.sql<{ id: string }>(`select id from users where username = 'admin'`);
});
afterAll(() => server?.stop());

const CREATE = `mutation ($input: CreateEnvInput!) { createEnv(input: $input) { id name description autoAddNewUsers nodeSelector tolerations } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateEnvInput!) { updateEnv(id: $id, input: $input) { id name description nodeSelector tolerations } }`;
const DELETE = `mutation ($id: ID!) { deleteEnv(id: $id) }`;

const call = (document: string, variables: object, headers: Record<string, string>) => server.gql<any, object>(document, variables, headers);

/** What creating and deleting an env may write; a refused call must leave it exactly as it was. */
const ENV_TABLES = ['envs', 'env_user_permissions', 'audit_records'];

let seq = 0;
const newEnv = async (name = `env-${++seq}`) => (await persist(server, build(Env, { name })))[0];

describe('createEnv', () => {
  test('a site admin creates an env, trimmed, and becomes its Admin; both writes are audited', async () => {
    const res = await call(CREATE, { input: { name: '  Staging  ', description: 'pre-prod', nodeSelector: { pool: 'apps' }, tolerations: [{ key: 'k', operator: 'Exists' }] } }, admin);
    expect(res.errors).toBeUndefined();
    const env = res.data.createEnv;
    expect(env).toMatchObject({ name: 'Staging', description: 'pre-prod', autoAddNewUsers: false, nodeSelector: { pool: 'apps' }, tolerations: [{ key: 'k', operator: 'Exists' }] });
    const [row] = await server.sql(`select name, owner_id from envs where id = ?`, [env.id]);
    expect(row).toEqual({ name: 'Staging', owner_id: adminId });
    expect(await server.sql(`select user_id, bot_id, role from env_user_permissions where env_id = ?`, [env.id])).toEqual([{ user_id: adminId, bot_id: null, role: 'Admin' }]);
    const audit = await server.sql<any>(`select operation, target_type, env_id, actor_id from audit_records where env_id = ? order by target_type`, [env.id]);
    expect(audit).toEqual([
      { operation: 'createEnv', target_type: 'Env', env_id: env.id, actor_id: adminId },
      { operation: 'createEnv', target_type: 'EnvUserPermission', env_id: env.id, actor_id: adminId },
    ]);
  });

  test('defaults: no description, autoAddNewUsers false, empty node selector and tolerations', async () => {
    const res = await call(CREATE, { input: { name: 'defaults' } }, admin);
    expect(res.data.createEnv).toMatchObject({ description: null, autoAddNewUsers: false, nodeSelector: {}, tolerations: [] });
  });

  test.each([
    ['an empty name', { name: '   ' }, 'input.name'],
    ['a 64-character name', { name: 'x'.repeat(64) }, 'input.name'],
    ['tolerations that are not a list', { name: 'bad-tol', tolerations: { key: 'k' } }, 'input.tolerations'],
    ['a node selector with a non-string value', { name: 'bad-ns', nodeSelector: { pool: 1 } }, 'input.nodeSelector'],
  ])('%s is BAD_USER_INPUT and writes nothing', async (_, input, field) => {
    await expectUnchanged(server, ENV_TABLES, async () => expectError(await call(CREATE, { input }, admin), 'BAD_USER_INPUT', field));
  });

  test('a name taken in another case is a CONFLICT', async () => {
    await newEnv('Production');
    await expectUnchanged(server, ENV_TABLES, async () => {
      const res = await call(CREATE, { input: { name: 'PRODUCTION' } }, admin);
      expectError(res, 'CONFLICT');
      expect(res.errors![0].message).toContain('Production');
    });
  });

  test('only site admins: env Admins and bots are FORBIDDEN, anonymous callers UNAUTHENTICATED', async () => {
    const envAdmin = await createUser(server);
    await grantEnvRole(server, (await newEnv()).id, { userId: envAdmin.id }, EnvUserRole.Admin);
    const bot = await createBot(server);
    await expectUnchanged(server, ENV_TABLES, async () => {
      expectError(await call(CREATE, { input: { name: 'nope' } }, envAdmin.headers), 'FORBIDDEN');
      expectError(await call(CREATE, { input: { name: 'nope' } }, bot.headers), 'FORBIDDEN');
      expectError(await call(CREATE, { input: { name: 'nope' } }, {}), 'UNAUTHENTICATED');
    });
  });

  test('the creator stays Admin of the env after losing site admin, and manages its permissions', async () => {
    const creator = await createUser(server, { isAdmin: true });
    const created = await call(CREATE, { input: { name: 'creator-managed' } }, creator.headers);
    const envId = created.data.createEnv.id;
    await server.sql(`update users set is_admin = false where id = ?`, [creator.id]);
    const someone = await createUser(server);
    const res = await call(
      `mutation ($input: CreateEnvUserPermissionInput!) { createEnvUserPermission(input: $input) { role user { id } } }`,
      { input: { envId, userId: someone.id, role: 'User' } },
      creator.headers,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.createEnvUserPermission).toEqual({ role: 'User', user: { id: someone.id } });
    // no longer a site admin: other envs are out of reach
    expectError(await call(UPDATE, { id: (await newEnv()).id, input: { description: 'x' } }, creator.headers), 'NOT_FOUND');
  });
});

describe('updateEnv', () => {
  let envAdmin: Caller;
  let env: Env;
  beforeAll(async () => {
    env = await newEnv('to-update');
    envAdmin = await createUser(server);
    await grantEnvRole(server, env.id, { userId: envAdmin.id }, EnvUserRole.Admin);
  });

  test('an env Admin updates the env; absent fields stay, null clears the description; audited with before and after', async () => {
    await call(UPDATE, { id: env.id, input: { description: 'first' } }, envAdmin.headers);
    const res = await call(UPDATE, { id: env.id, input: { name: 'updated', autoAddNewUsers: true } }, envAdmin.headers);
    expect(res.errors).toBeUndefined();
    expect(res.data.updateEnv).toMatchObject({ name: 'updated', description: 'first' });
    const cleared = await call(UPDATE, { id: env.id, input: { description: null } }, envAdmin.headers);
    expect(cleared.data.updateEnv.description).toBeNull();
    const [row] = await server.sql(`select name, description, auto_add_new_users from envs where id = ?`, [env.id]);
    expect(row).toEqual({ name: 'updated', description: null, auto_add_new_users: true });
    const [audit] = await server.sql<any>(
      `select before, after, actor_id from audit_records where operation = 'updateEnv' and target_id = ? order by created_at desc limit 1`,
      [env.id],
    );
    expect(audit.actor_id).toBe(envAdmin.id);
    expect([audit.before.description, audit.after.description]).toEqual(['first', null]);
  });

  test.each([
    ['a null name', { name: null }, 'input.name'],
    ['a 64-character name', { name: 'y'.repeat(64) }, 'input.name'],
    ['null tolerations', { tolerations: null }, 'input.tolerations'],
    ['tolerations with a non-object entry', { tolerations: ['x'] }, 'input.tolerations'],
  ])('%s is BAD_USER_INPUT and changes nothing', async (_, input, field) => {
    const [before] = await server.sql(`select * from envs where id = ?`, [env.id]);
    await expectUnchanged(server, ['deployment_tasks', 'audit_records'], async () => expectError(await call(UPDATE, { id: env.id, input }, envAdmin.headers), 'BAD_USER_INPUT', field));
    expect(await server.sql(`select * from envs where id = ?`, [env.id])).toEqual([before]);
  });

  test('a name another env holds is a CONFLICT', async () => {
    await newEnv('taken-name');
    expectError(await call(UPDATE, { id: env.id, input: { name: 'Taken-Name' } }, envAdmin.headers), 'CONFLICT');
  });

  test('an env User is FORBIDDEN; an Admin of another env gets NOT_FOUND, as for a missing env', async () => {
    const user = await createUser(server);
    await grantEnvRole(server, env.id, { userId: user.id }, EnvUserRole.User);
    const otherAdmin = await createUser(server);
    await grantEnvRole(server, (await newEnv()).id, { userId: otherAdmin.id }, EnvUserRole.Admin);
    await expectUnchanged(server, ['audit_records'], async () => {
      expectError(await call(UPDATE, { id: env.id, input: { description: 'no' } }, user.headers), 'FORBIDDEN');
      expectError(await call(UPDATE, { id: env.id, input: { description: 'no' } }, otherAdmin.headers), 'NOT_FOUND');
      expectError(await call(UPDATE, { id: '00000000-0000-4000-8000-000000000000', input: { description: 'no' } }, otherAdmin.headers), 'NOT_FOUND');
    });
  });

  describe('scheduling changes reinstall the enabled deployments of the env', () => {
    let fleetEnv: Env;
    let deployments: Deployment[];
    const reinstalls = () =>
      server.sql<{ deployment_id: string; operation: any; reason: string; acting_user_id: string }>(
        `select deployment_id, operation, reason, acting_user_id from deployment_tasks where reason like 'Env %' order by deployment_id`,
      );
    beforeAll(async () => {
      ({ env: fleetEnv, deployments } = await seedFleet(server.em, { deployments: 3, clusters: 2, kinds: 1, tasksPerDeployment: 0, prefix: 'sched' }));
      await server.sql(`update deployments set enabled = false where id = ?`, [deployments[2].id]);
      // a deployment in a cluster of another env is not touched
      await seedFleet(server.em, { deployments: 1, clusters: 1, kinds: 1, tasksPerDeployment: 0, prefix: 'elsewhere' });
    });

    test('a name-only change creates no task', async () => {
      const res = await call(UPDATE, { id: fleetEnv.id, input: { name: 'sched-renamed', description: 'd' } }, admin);
      expect(res.errors).toBeUndefined();
      expect(await reinstalls()).toEqual([]);
    });

    test('a new node selector creates one Reinstall task per enabled deployment, in the same mutation', async () => {
      const res = await call(UPDATE, { id: fleetEnv.id, input: { nodeSelector: { pool: 'big' } } }, admin);
      expect(res.errors).toBeUndefined();
      const reason = 'Env sched-renamed updated';
      const expected = deployments
        .slice(0, 2)
        .map((d) => ({ deployment_id: d.id, operation: { Reinstall: { reason } }, reason, acting_user_id: adminId }))
        .sort((a, b) => a.deployment_id.localeCompare(b.deployment_id));
      expect(await reinstalls()).toEqual(expected);
    });

    test('the same node selector again, or new tolerations equal to the old ones, create none', async () => {
      const before = (await reinstalls()).length;
      await call(UPDATE, { id: fleetEnv.id, input: { nodeSelector: { pool: 'big' }, tolerations: [] } }, admin);
      expect((await reinstalls()).length).toBe(before);
      await call(UPDATE, { id: fleetEnv.id, input: { tolerations: [{ key: 'gpu', operator: 'Exists' }] } }, admin);
      expect((await reinstalls()).length).toBe(before + 2);
    });
  });
});

describe('deleteEnv', () => {
  test('a site admin deletes an env without deployments: clusters stay (outside any env), permissions and secrets go', async () => {
    const env = await newEnv('doomed');
    const [cluster] = await persist(server, build(K8sCluster, { env, providerId: 'doomed:c', name: 'doomed-c' }));
    await persist(server, build(EnvUserPermission, { env, user: server.em.fork().getReference(User, adminId), role: EnvUserRole.Admin }));
    await persist(server, build(Secret, { env, collection: 'c', name: 's', contentsEncrypted: 'v1.x.x.x.x' }));
    const res = await call(DELETE, { id: env.id }, admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.deleteEnv).toBe(env.id);
    expect(await countRows(server, 'envs', 'id = ?', [env.id])).toBe(0);
    expect(await server.sql(`select env_id from k8s_clusters where id = ?`, [cluster.id])).toEqual([{ env_id: null }]);
    expect(await countRows(server, 'env_user_permissions', 'env_id = ?', [env.id])).toBe(0);
    expect(await countRows(server, 'secrets', 'env_id = ?', [env.id])).toBe(0);
    const [audit] = await server.sql<any>(`select before, after from audit_records where operation = 'deleteEnv' and target_id = ?`, [env.id]);
    expect(audit.before.name).toBe('doomed');
    expect(audit.after).toBeNull();
  });

  test('while deployments exist in its clusters it is a CONFLICT naming them', async () => {
    const { env, deployments } = await seedFleet(server.em, { deployments: 2, clusters: 1, kinds: 1, tasksPerDeployment: 0, prefix: 'busy' });
    await expectUnchanged(server, ['envs', 'k8s_clusters', 'deployments', 'audit_records'], async () => {
      const res = await call(DELETE, { id: env.id }, admin);
      expectError(res, 'CONFLICT');
      for (const d of deployments) expect(res.errors![0].message).toContain(d.name);
    });
    expect(await countRows(server, 'k8s_clusters', 'env_id = ?', [env.id])).toBe(1);
  });

  test('an env Admin is FORBIDDEN; an Admin of another env gets NOT_FOUND', async () => {
    const env = await newEnv();
    const envAdmin = await createUser(server);
    await grantEnvRole(server, env.id, { userId: envAdmin.id }, EnvUserRole.Admin);
    const otherAdmin = await createUser(server);
    await grantEnvRole(server, (await newEnv()).id, { userId: otherAdmin.id }, EnvUserRole.Admin);
    await expectUnchanged(server, ENV_TABLES, async () => {
      expectError(await call(DELETE, { id: env.id }, envAdmin.headers), 'FORBIDDEN');
      expectError(await call(DELETE, { id: env.id }, otherAdmin.headers), 'NOT_FOUND');
      expectError(await call(DELETE, { id: 'not-a-uuid' }, admin), 'BAD_USER_INPUT', 'id');
    });
  });
});
