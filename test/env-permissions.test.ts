import { DeploymentKind, Env } from '../src/entities/index.js';
import { EnvUserRole, UserDeploymentRole } from '../src/entities/enums.js';
import { countRows, expectError, expectUnchanged } from './support/assertions.js';
import { build, persist, unique } from './support/fixtures.js';
import { createBot, createUser, grantEnvRole, grantKindRole, type Caller } from './support/identities.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let admin: Record<string, string>;
beforeAll(async () => {
  server = await startTestServer();
  admin = await server.adminAuth();
});
afterAll(() => server?.stop());

const CREATE_ENV_PERMISSION = `mutation ($input: CreateEnvUserPermissionInput!) {
  createEnvUserPermission(input: $input) { id role env { id } user { id } bot { id } } }`;
const UPDATE_ENV_PERMISSION = `mutation ($id: ID!, $role: EnvUserRole!) { updateEnvUserPermission(id: $id, role: $role) { id role } }`;
const DELETE_ENV_PERMISSION = `mutation ($id: ID!) { deleteEnvUserPermission(id: $id) }`;
const CREATE_DEPLOYMENT_PERMISSION = `mutation ($input: CreateDeploymentPermissionInput!) {
  createDeploymentPermission(input: $input) { id role env { id } kind { id } user { id } bot { id } } }`;
const DELETE_DEPLOYMENT_PERMISSION = `mutation ($id: ID!) { deleteDeploymentPermission(id: $id) }`;

const MISSING = '00000000-0000-4000-8000-000000000000';

const call = (document: string, variables: object, headers: Record<string, string>) => server.gql<any, object>(document, variables, headers);

/** What these mutations may write; a refused call must leave it exactly as it was. */
const TABLES = ['env_user_permissions', 'deployment_permissions', 'audit_records'];

/** An env with its Admin (a user), one env User, and a deployment kind. */
async function envWithAdmin(): Promise<{ env: Env; envAdmin: Caller; envUser: Caller; kind: DeploymentKind }> {
  const suffix = unique();
  const [env] = await persist(server, build(Env, { name: `env-${suffix}` }));
  const [kind] = await persist(server, build(DeploymentKind, { name: `Kind${suffix}` }));
  const envAdmin = await createUser(server);
  const envUser = await createUser(server);
  await grantEnvRole(server, env.id, { userId: envAdmin.id }, EnvUserRole.Admin);
  await grantEnvRole(server, env.id, { userId: envUser.id }, EnvUserRole.User);
  return { env, envAdmin, envUser, kind };
}

const permissionId = async (table: string, envId: string, holderColumn: 'user_id' | 'bot_id', holderId: string) =>
  (await server.sql<{ id: string }>(`select id from ${table} where env_id = ? and ${holderColumn} = ?`, [envId, holderId]))[0]?.id;

describe('createEnvUserPermission', () => {
  test('an env Admin gives a user and a bot roles; each grant is audited under the env', async () => {
    const { env, envAdmin } = await envWithAdmin();
    const user = await createUser(server);
    const bot = await createBot(server);
    const forUser = await call(CREATE_ENV_PERMISSION, { input: { envId: env.id, userId: user.id, role: 'User' } }, envAdmin.headers);
    expect(forUser.errors).toBeUndefined();
    expect(forUser.data.createEnvUserPermission).toMatchObject({ role: 'User', env: { id: env.id }, user: { id: user.id }, bot: null });
    const forBot = await call(CREATE_ENV_PERMISSION, { input: { envId: env.id, botId: bot.id, role: 'Admin' } }, envAdmin.headers);
    expect(forBot.data.createEnvUserPermission).toMatchObject({ role: 'Admin', user: null, bot: { id: bot.id } });
    expect(await server.sql(`select role from env_user_permissions where env_id = ? and (user_id = ? or bot_id = ?) order by role`, [env.id, user.id, bot.id])).toEqual([
      { role: 'Admin' },
      { role: 'User' },
    ]);
    const audits = await server.sql<any>(`select target_id, env_id, actor_id, after from audit_records where operation = 'createEnvUserPermission' and env_id = ?`, [env.id]);
    expect(audits).toHaveLength(2);
    expect(audits.every((a) => a.actor_id === envAdmin.id && a.after.env === env.id)).toBe(true);
  });

  test('the new grant takes effect: a bot made Admin manages the env like a user would', async () => {
    const { env, envAdmin } = await envWithAdmin();
    const bot = await createBot(server);
    await call(CREATE_ENV_PERMISSION, { input: { envId: env.id, botId: bot.id, role: 'Admin' } }, envAdmin.headers);
    const someone = await createUser(server);
    const res = await call(CREATE_ENV_PERMISSION, { input: { envId: env.id, userId: someone.id, role: 'User' } }, bot.headers);
    expect(res.errors).toBeUndefined();
  });

  test.each([
    ['both userId and botId', (u: string) => ({ userId: u, botId: u }), 'input.userId'],
    ['neither userId nor botId', () => ({}), 'input.userId'],
    ['a userId that is not a UUID', () => ({ userId: 'nope' }), 'input.userId'],
    ['a botId that is not a UUID', () => ({ botId: 'nope' }), 'input.botId'],
  ])('%s is BAD_USER_INPUT and writes nothing', async (_, holder, field) => {
    const { env, envAdmin } = await envWithAdmin();
    const user = await createUser(server);
    await expectUnchanged(server, TABLES, async () => {
      expectError(await call(CREATE_ENV_PERMISSION, { input: { envId: env.id, role: 'User', ...holder(user.id) } }, envAdmin.headers), 'BAD_USER_INPUT', field);
    });
    expectError(await call(CREATE_ENV_PERMISSION, { input: { envId: 'x', userId: user.id, role: 'User' } }, envAdmin.headers), 'BAD_USER_INPUT', 'input.envId');
  });

  test('a user or bot that does not exist is NOT_FOUND; a second role for the same holder is a CONFLICT', async () => {
    const { env, envAdmin, envUser } = await envWithAdmin();
    await expectUnchanged(server, TABLES, async () => {
      expectError(await call(CREATE_ENV_PERMISSION, { input: { envId: env.id, userId: MISSING, role: 'User' } }, envAdmin.headers), 'NOT_FOUND');
      expectError(await call(CREATE_ENV_PERMISSION, { input: { envId: env.id, botId: MISSING, role: 'User' } }, envAdmin.headers), 'NOT_FOUND');
      const duplicate = await call(CREATE_ENV_PERMISSION, { input: { envId: env.id, userId: envUser.id, role: 'Admin' } }, envAdmin.headers);
      expectError(duplicate, 'CONFLICT');
      expect(duplicate.errors![0].message).toMatch(/already has a role/);
    });
  });

  test('an env User is FORBIDDEN; the Admin of env A gets NOT_FOUND on env B, like a missing env', async () => {
    const a = await envWithAdmin();
    const b = await envWithAdmin();
    const user = await createUser(server);
    await expectUnchanged(server, TABLES, async () => {
      expectError(await call(CREATE_ENV_PERMISSION, { input: { envId: a.env.id, userId: user.id, role: 'User' } }, a.envUser.headers), 'FORBIDDEN');
      expectError(await call(CREATE_ENV_PERMISSION, { input: { envId: b.env.id, userId: user.id, role: 'Admin' } }, a.envAdmin.headers), 'NOT_FOUND');
      expectError(await call(CREATE_ENV_PERMISSION, { input: { envId: MISSING, userId: user.id, role: 'Admin' } }, a.envAdmin.headers), 'NOT_FOUND');
      expectError(await call(CREATE_ENV_PERMISSION, { input: { envId: a.env.id, userId: user.id, role: 'User' } }, {}), 'UNAUTHENTICATED');
    });
  });
});

describe('updateEnvUserPermission', () => {
  test("an env Admin changes another holder's role; audited with before and after", async () => {
    const { env, envAdmin, envUser } = await envWithAdmin();
    const id = await permissionId('env_user_permissions', env.id, 'user_id', envUser.id);
    const res = await call(UPDATE_ENV_PERMISSION, { id, role: 'Admin' }, envAdmin.headers);
    expect(res.errors).toBeUndefined();
    expect(res.data.updateEnvUserPermission).toEqual({ id, role: 'Admin' });
    expect(await server.sql(`select role from env_user_permissions where id = ?`, [id])).toEqual([{ role: 'Admin' }]);
    const [audit] = await server.sql<any>(`select before, after, env_id from audit_records where operation = 'updateEnvUserPermission' and target_id = ?`, [id]);
    expect([audit.before.role, audit.after.role, audit.env_id]).toEqual(['User', 'Admin', env.id]);
  });

  test('an env Admin cannot demote itself (CONFLICT), but may keep its role', async () => {
    const { env, envAdmin } = await envWithAdmin();
    const id = await permissionId('env_user_permissions', env.id, 'user_id', envAdmin.id);
    await expectUnchanged(server, TABLES, async () => expectError(await call(UPDATE_ENV_PERMISSION, { id, role: 'User' }, envAdmin.headers), 'CONFLICT'));
    expect((await call(UPDATE_ENV_PERMISSION, { id, role: 'Admin' }, envAdmin.headers)).errors).toBeUndefined();
  });

  test('an env User is FORBIDDEN, another env Admin gets NOT_FOUND; a bad role or id is BAD_USER_INPUT', async () => {
    const a = await envWithAdmin();
    const b = await envWithAdmin();
    const id = await permissionId('env_user_permissions', a.env.id, 'user_id', a.envUser.id);
    await expectUnchanged(server, TABLES, async () => {
      expectError(await call(UPDATE_ENV_PERMISSION, { id, role: 'Admin' }, a.envUser.headers), 'FORBIDDEN');
      expectError(await call(UPDATE_ENV_PERMISSION, { id, role: 'Admin' }, b.envAdmin.headers), 'NOT_FOUND');
      expectError(await call(UPDATE_ENV_PERMISSION, { id: 'nope', role: 'Admin' }, a.envAdmin.headers), 'BAD_USER_INPUT', 'id');
      expectError(await call(UPDATE_ENV_PERMISSION, { id, role: 'Owner' }, a.envAdmin.headers), 'BAD_USER_INPUT');
    });
  });
});

describe('deleteEnvUserPermission', () => {
  test("an env Admin removes another holder's permission; audited", async () => {
    const { env, envAdmin, envUser } = await envWithAdmin();
    const id = await permissionId('env_user_permissions', env.id, 'user_id', envUser.id);
    const res = await call(DELETE_ENV_PERMISSION, { id }, envAdmin.headers);
    expect(res).toMatchObject({ data: { deleteEnvUserPermission: id } });
    expect(await countRows(server, 'env_user_permissions', 'id = ?', [id])).toBe(0);
    const [audit] = await server.sql<any>(`select before, after from audit_records where operation = 'deleteEnvUserPermission' and target_id = ?`, [id]);
    expect([audit.before.role, audit.after]).toEqual(['User', null]);
    // the removed user lost the env with its permission
    expect((await call(`query ($id: ID!) { env(id: $id) { id } }`, { id: env.id }, envUser.headers)).data.env).toBeNull();
  });

  test("removing your own permission is a CONFLICT, site admins included", async () => {
    const { env, envAdmin } = await envWithAdmin();
    const own = await permissionId('env_user_permissions', env.id, 'user_id', envAdmin.id);
    const created = await call(`mutation { createEnv(input: { name: "admin-own-${unique()}" }) { id } }`, {}, admin);
    const [{ id: siteAdminOwn }] = await server.sql<{ id: string }>(`select id from env_user_permissions where env_id = ?`, [created.data.createEnv.id]);
    await expectUnchanged(server, TABLES, async () => {
      const res = await call(DELETE_ENV_PERMISSION, { id: own }, envAdmin.headers);
      expectError(res, 'CONFLICT');
      expect(res.errors![0].message).toBe("You can't delete your own permissions");
      expectError(await call(DELETE_ENV_PERMISSION, { id: siteAdminOwn }, admin), 'CONFLICT');
    });
  });

  test('an env User is FORBIDDEN, another env Admin gets NOT_FOUND', async () => {
    const a = await envWithAdmin();
    const b = await envWithAdmin();
    const id = await permissionId('env_user_permissions', a.env.id, 'user_id', a.envAdmin.id);
    await expectUnchanged(server, TABLES, async () => {
      expectError(await call(DELETE_ENV_PERMISSION, { id }, a.envUser.headers), 'FORBIDDEN');
      expectError(await call(DELETE_ENV_PERMISSION, { id }, b.envAdmin.headers), 'NOT_FOUND');
    });
  });
});

describe('createDeploymentPermission', () => {
  test('an env Admin gives a kind role to a user and a bot; audited under the env', async () => {
    const { env, envAdmin, kind } = await envWithAdmin();
    const user = await createUser(server);
    const bot = await createBot(server);
    const res = await call(CREATE_DEPLOYMENT_PERMISSION, { input: { envId: env.id, kindId: kind.id, userId: user.id, role: 'Owner' } }, envAdmin.headers);
    expect(res.errors).toBeUndefined();
    expect(res.data.createDeploymentPermission).toMatchObject({ role: 'Owner', env: { id: env.id }, kind: { id: kind.id }, user: { id: user.id }, bot: null });
    const forBot = await call(CREATE_DEPLOYMENT_PERMISSION, { input: { envId: env.id, kindId: kind.id, botId: bot.id, role: 'Maintainer' } }, envAdmin.headers);
    expect(forBot.data.createDeploymentPermission).toMatchObject({ role: 'Maintainer', bot: { id: bot.id } });
    expect(await countRows(server, 'deployment_permissions', 'env_id = ? and kind_id = ?', [env.id, kind.id])).toBe(2);
    expect(await countRows(server, 'audit_records', `operation = 'createDeploymentPermission' and env_id = ?`, [env.id])).toBe(2);
  });

  test('one role per holder and kind: a second is a CONFLICT, another kind is fine', async () => {
    const { env, envAdmin, kind } = await envWithAdmin();
    const [otherKind] = await persist(server, build(DeploymentKind, { name: `Other${unique()}` }));
    const user = await createUser(server);
    await grantKindRole(server, env.id, kind.id, { userId: user.id }, UserDeploymentRole.Maintainer);
    await expectUnchanged(server, TABLES, async () => {
      expectError(await call(CREATE_DEPLOYMENT_PERMISSION, { input: { envId: env.id, kindId: kind.id, userId: user.id, role: 'Owner' } }, envAdmin.headers), 'CONFLICT');
    });
    const res = await call(CREATE_DEPLOYMENT_PERMISSION, { input: { envId: env.id, kindId: otherKind.id, userId: user.id, role: 'Owner' } }, envAdmin.headers);
    expect(res.errors).toBeUndefined();
  });

  test('bad holder or kind ids are BAD_USER_INPUT, a missing kind or holder NOT_FOUND; nothing is written', async () => {
    const { env, envAdmin, kind } = await envWithAdmin();
    const user = await createUser(server);
    const input = { envId: env.id, kindId: kind.id, role: 'Owner' };
    await expectUnchanged(server, TABLES, async () => {
      expectError(await call(CREATE_DEPLOYMENT_PERMISSION, { input: { ...input, userId: user.id, botId: user.id } }, envAdmin.headers), 'BAD_USER_INPUT', 'input.userId');
      expectError(await call(CREATE_DEPLOYMENT_PERMISSION, { input: { ...input, kindId: 'k', userId: user.id } }, envAdmin.headers), 'BAD_USER_INPUT', 'input.kindId');
      expectError(await call(CREATE_DEPLOYMENT_PERMISSION, { input: { ...input, kindId: MISSING, userId: user.id } }, envAdmin.headers), 'NOT_FOUND');
      expectError(await call(CREATE_DEPLOYMENT_PERMISSION, { input: { ...input, botId: MISSING } }, envAdmin.headers), 'NOT_FOUND');
    });
  });

  test('kind Owners and env Users are FORBIDDEN; the Admin of env A gets NOT_FOUND on env B', async () => {
    const a = await envWithAdmin();
    const b = await envWithAdmin();
    const owner = await createUser(server);
    await grantKindRole(server, a.env.id, a.kind.id, { userId: owner.id }, UserDeploymentRole.Owner);
    const user = await createUser(server);
    await expectUnchanged(server, TABLES, async () => {
      for (const caller of [owner, a.envUser]) {
        expectError(await call(CREATE_DEPLOYMENT_PERMISSION, { input: { envId: a.env.id, kindId: a.kind.id, userId: user.id, role: 'Owner' } }, caller.headers), 'FORBIDDEN');
      }
      expectError(await call(CREATE_DEPLOYMENT_PERMISSION, { input: { envId: b.env.id, kindId: b.kind.id, userId: user.id, role: 'Owner' } }, a.envAdmin.headers), 'NOT_FOUND');
    });
  });
});

describe('deleteDeploymentPermission', () => {
  test('an env Admin deletes a kind role; audited', async () => {
    const { env, envAdmin, kind } = await envWithAdmin();
    const user = await createUser(server);
    await grantKindRole(server, env.id, kind.id, { userId: user.id }, UserDeploymentRole.Owner);
    const id = await permissionId('deployment_permissions', env.id, 'user_id', user.id);
    const res = await call(DELETE_DEPLOYMENT_PERMISSION, { id }, envAdmin.headers);
    expect(res).toMatchObject({ data: { deleteDeploymentPermission: id } });
    expect(await countRows(server, 'deployment_permissions', 'id = ?', [id])).toBe(0);
    expect(await countRows(server, 'audit_records', `operation = 'deleteDeploymentPermission' and target_id = ? and env_id = ?`, [id, env.id])).toBe(1);
  });

  test('the holder itself (a kind Owner) is FORBIDDEN, another env Admin gets NOT_FOUND', async () => {
    const a = await envWithAdmin();
    const b = await envWithAdmin();
    const owner = await createUser(server);
    await grantKindRole(server, a.env.id, a.kind.id, { userId: owner.id }, UserDeploymentRole.Owner);
    const id = await permissionId('deployment_permissions', a.env.id, 'user_id', owner.id);
    await expectUnchanged(server, TABLES, async () => {
      expectError(await call(DELETE_DEPLOYMENT_PERMISSION, { id }, owner.headers), 'FORBIDDEN');
      expectError(await call(DELETE_DEPLOYMENT_PERMISSION, { id }, b.envAdmin.headers), 'NOT_FOUND');
      expectError(await call(DELETE_DEPLOYMENT_PERMISSION, { id: MISSING }, a.envAdmin.headers), 'NOT_FOUND');
    });
  });
});
