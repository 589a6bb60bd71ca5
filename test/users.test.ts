import { Env } from '../src/entities/index.js';
import { EnvUserRole } from '../src/entities/enums.js';
import { build, persist } from './support/fixtures.js';
import { createBot, createUser, grantEnvRole, type Caller } from './support/identities.js';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/server.js';
import { expectRefused } from './support/assertions.js';

let server: TestServer;
let admin: Record<string, string>;
let autoEnv: Env;
let plainEnv: Env;
beforeAll(async () => {
  server = await startTestServer({ SIGNUP_ENABLED: 'true' });
  admin = await server.adminAuth();
  [autoEnv, plainEnv] = await persist(server, build(Env, { name: 'auto-env', autoAddNewUsers: true }), build(Env, { name: 'plain-env' }));
});
afterAll(() => server?.stop());

type Res = GraphQLResponse<Record<string, any>>;
const USER_FIELDS = 'id username email displayName firstName lastName alternativeEmails isAdmin isActive authLevel';
const gql = (query: string, variables: Record<string, unknown>, headers?: Record<string, string>) => server.gql(query, variables, headers) as Promise<Res>;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const errorOf = (res: Res) => res.errors?.[0]?.extensions;

/** What this file's calls may write; a refused call must leave it exactly as it was. */
const TABLES = { names: ['users', 'env_user_permissions', 'user_sessions', 'audit_records'], volatile: ['last_login_at', 'last_refreshed_at'] };
const refused = (call: () => Promise<Res>, expected: { code: string; field?: string }) => expectRefused(server, TABLES, call, expected);
const auditOf = (operation: string, targetId: string) =>
  server.sql<{ actor_kind: string; actor_id: string; before: any; after: any }>('select * from audit_records where operation = ? and target_id = ?', [operation, targetId]);

const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { accessToken refreshToken user { ${USER_FIELDS} envPermissions { role env { name } } } } }`;
const signUp = (input: Record<string, unknown>) => gql(SIGN_UP, { input: { email: 'new@example.com', username: 'newbie', displayName: 'New Bie', password: 'long-enough', ...input } });
const CREATE = `mutation($input: CreateUserInput!) { createUser(input: $input) { ${USER_FIELDS} } }`;
const createUserCall = (input: Record<string, unknown>, headers = admin) => gql(CREATE, { input: { displayName: 'Someone', ...input } }, headers);
const UPDATE = `mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { ${USER_FIELDS} } }`;
const LOGIN = `mutation($u: String!, $p: String!) { login(usernameOrEmail: $u, password: $p) { accessToken } }`;
const login = async (u: string, p: string) => (await gql(LOGIN, { u, p })).data?.login.accessToken as string;
const ME = '{ me { __typename ... on User { id username } } }';

describe('signUp', () => {
  test('creates the user, signs it in, adds it to auto-add envs and records it', async () => {
    const res = await signUp({});
    expect(res.errors).toBeUndefined();
    const payload = res.data!.signUp;
    expect(payload.user).toMatchObject({ username: 'newbie', email: 'new@example.com', isAdmin: false, isActive: true, authLevel: 0 });
    expect(payload.user.envPermissions).toEqual([{ role: 'User', env: { name: 'auto-env' } }]);
    expect((await gql(ME, {}, bearer(payload.accessToken))).data!.me).toMatchObject({ __typename: 'User', username: 'newbie' });
    const [row] = await server.sql<{ password_hash: string; approval_state: string }>('select * from users where id = ?', [payload.user.id]);
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.approval_state).toBe('NEW');
    const [audit] = await auditOf('signUp', payload.user.id);
    expect(audit).toMatchObject({ actor_kind: 'user', actor_id: payload.user.id });
    expect(JSON.stringify(audit.after)).not.toContain('argon2');
    expect(await server.sql('select * from env_user_permissions where user_id = ? and env_id = ?', [payload.user.id, plainEnv.id])).toEqual([]);
  });

  test('validates every field and changes nothing on bad input', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ email: 'not-an-email', username: 'v1' }, 'input.email'],
      [{ email: 'v2@example.com', username: 'has space' }, 'input.username'],
      [{ email: 'v3@example.com', username: '' }, 'input.username'],
      [{ email: 'v4@example.com', username: 'x'.repeat(65) }, 'input.username'],
      [{ email: 'v5@example.com', username: 'v5', displayName: '  ' }, 'input.displayName'],
      [{ email: 'v6@example.com', username: 'v6', password: 'short' }, 'input.password'],
    ];
    for (const [input, field] of cases) await refused(() => signUp(input), { code: 'BAD_USER_INPUT', field });
  });

  test('a taken email (in any case) or username is a CONFLICT', async () => {
    await refused(() => signUp({ email: 'NEW@Example.com', username: 'other' }), { code: 'CONFLICT' });
    await refused(() => signUp({ email: 'other@example.com', username: 'newbie' }), { code: 'CONFLICT' });
  });
});

describe('createUser', () => {
  test('a site admin creates single-sign-on users and admins; password users can log in', async () => {
    const sso = await createUserCall({ email: 'sso@example.com', username: 'sso', password: null, isAdmin: true, authLevel: 3 });
    expect(sso.data!.createUser).toMatchObject({ username: 'sso', isAdmin: true, authLevel: 3, isActive: true });
    const [row] = await server.sql<{ password_hash: string | null }>('select password_hash from users where id = ?', [sso.data!.createUser.id]);
    expect(row.password_hash).toBeNull();
    expect(await server.sql('select role from env_user_permissions where user_id = ? and env_id = ?', [sso.data!.createUser.id, autoEnv.id])).toEqual([{ role: 'User' }]);
    expect(await auditOf('createUser', sso.data!.createUser.id)).toHaveLength(1);

    const withPassword = await createUserCall({ email: 'pw@example.com', username: 'pw', password: 'password-1' });
    expect(withPassword.data!.createUser).toMatchObject({ isAdmin: false, authLevel: 0 });
    expect(await login('pw', 'password-1')).toEqual(expect.any(String));
  });

  test('Lighthouse: a user of level 1+ creates non-admin users up to its own level', async () => {
    const lead = await createUser(server, { authLevel: 5 });
    const ok = await createUserCall({ email: 'l5@example.com', username: 'l5', authLevel: 5 }, lead.headers);
    expect(ok.data!.createUser).toMatchObject({ authLevel: 5, isAdmin: false });
    await refused(() => createUserCall({ email: 'l6@example.com', username: 'l6', authLevel: 6 }, lead.headers), { code: 'FORBIDDEN' });
    await refused(() => createUserCall({ email: 'la@example.com', username: 'la', isAdmin: true }, lead.headers), { code: 'FORBIDDEN' });
    const nobody = await createUser(server);
    await refused(() => createUserCall({ email: 'n@example.com', username: 'n' }, nobody.headers), { code: 'FORBIDDEN' });
    const bot = await createBot(server);
    await refused(() => createUserCall({ email: 'b@example.com', username: 'b' }, bot.headers), { code: 'FORBIDDEN' });
  });

  test('bad input and duplicates change nothing', async () => {
    await refused(() => createUserCall({ email: 'neg@example.com', username: 'neg', authLevel: -1 }), { code: 'BAD_USER_INPUT', field: 'input.authLevel' });
    await refused(() => createUserCall({ email: 'neg@example.com', username: 'neg', password: '1234567' }), { code: 'BAD_USER_INPUT', field: 'input.password' });
    await refused(() => createUserCall({ email: 'neg@example', username: 'neg' }), { code: 'BAD_USER_INPUT', field: 'input.email' });
    await refused(() => createUserCall({ email: 'Pw@example.com', username: 'neg' }), { code: 'CONFLICT' });
    await refused(() => createUserCall({ email: 'neg@example.com', username: 'pw' }), { code: 'CONFLICT' });
  });
});

describe('updateUser', () => {
  let lead: Caller;
  let junior: Caller;
  let peer: Caller;
  beforeAll(async () => {
    lead = await createUser(server, { authLevel: 5 });
    junior = await createUser(server, { authLevel: 2 });
    peer = await createUser(server, { authLevel: 5 });
  });
  const update = (id: string, input: Record<string, unknown>, headers: Record<string, string>) => gql(UPDATE, { id, input }, headers);

  test('yourself: names, emails; null clears first and last name; recorded', async () => {
    const res = await update(junior.id, { displayName: ' Junior ', firstName: 'Jun', lastName: 'Ior', alternativeEmails: ['j2@example.com'] }, junior.headers);
    expect(res.data!.updateUser).toMatchObject({ displayName: 'Junior', firstName: 'Jun', lastName: 'Ior', alternativeEmails: ['j2@example.com'] });
    const cleared = await update(junior.id, { firstName: null, email: 'junior@example.com' }, junior.headers);
    expect(cleared.data!.updateUser).toMatchObject({ firstName: null, lastName: 'Ior', email: 'junior@example.com', displayName: 'Junior' });
    const [audit] = await auditOf('updateUser', junior.id);
    expect(audit.before).toMatchObject({ displayName: expect.any(String) });
    expect(audit.after).toMatchObject({ displayName: 'Junior' });
  });

  test('site admins update anyone; Lighthouse users update lower levels only', async () => {
    expect((await update(peer.id, { lastName: 'ByAdmin' }, admin)).data!.updateUser.lastName).toBe('ByAdmin');
    expect((await update(junior.id, { lastName: 'ByLead' }, lead.headers)).data!.updateUser.lastName).toBe('ByLead');
    // a peer of the same level is out of sight: NOT_FOUND, like a missing user
    await refused(() => update(peer.id, { lastName: 'x' }, lead.headers), { code: 'NOT_FOUND' });
    await refused(() => update(lead.id, { lastName: 'x' }, junior.headers), { code: 'NOT_FOUND' });
    // an env Admin sees every user but may not change them
    const envAdmin = await createUser(server);
    await grantEnvRole(server, plainEnv.id, { userId: envAdmin.id }, EnvUserRole.Admin);
    await refused(() => update(junior.id, { lastName: 'x' }, envAdmin.headers), { code: 'FORBIDDEN' });
  });

  test('bad input and a taken email change nothing', async () => {
    await refused(() => update(junior.id, { email: 'nope' }, junior.headers), { code: 'BAD_USER_INPUT', field: 'input.email' });
    await refused(() => update(junior.id, { alternativeEmails: ['ok@example.com', 'bad'] }, junior.headers), { code: 'BAD_USER_INPUT', field: 'input.alternativeEmails.1' });
    await refused(() => update(junior.id, { displayName: '' }, junior.headers), { code: 'BAD_USER_INPUT', field: 'input.displayName' });
    await refused(() => update(junior.id, { email: 'ADMIN@example.com' }, junior.headers), { code: 'CONFLICT' });
  });
});

describe('changePassword', () => {
  const CHANGE = 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';
  test('needs the current password, ends the other sessions and keeps this one', async () => {
    const created = await createUserCall({ email: 'cp@example.com', username: 'cp', password: 'old-password' });
    const id = created.data!.createUser.id;
    const [current, other] = [await login('cp', 'old-password'), await login('cp', 'old-password')];
    expect((await gql(ME, {}, bearer(other))).data!.me.username).toBe('cp');

    await refused(() => gql(CHANGE, { c: 'wrong-password', n: 'new-password' }, bearer(current)), { code: 'BAD_USER_INPUT', field: 'currentPassword' });
    await refused(() => gql(CHANGE, { c: 'old-password', n: 'short' }, bearer(current)), { code: 'BAD_USER_INPUT', field: 'newPassword' });
    const bot = await createBot(server);
    await refused(() => gql(CHANGE, { c: 'old-password', n: 'new-password' }, bot.headers), { code: 'FORBIDDEN' });

    expect((await gql(CHANGE, { c: 'old-password', n: 'new-password' }, bearer(current))).data).toEqual({ changePassword: true });
    expect(errorOf(await gql(ME, {}, bearer(other)))).toEqual({ code: 'UNAUTHENTICATED' });
    expect((await gql(ME, {}, bearer(current))).data!.me.username).toBe('cp');
    expect(await login('cp', 'old-password')).toBeUndefined();
    expect(await login('cp', 'new-password')).toEqual(expect.any(String));
    const [audit] = await auditOf('changePassword', id);
    expect(JSON.stringify(audit)).not.toMatch(/argon2|password_hash|passwordHash/);
  });
});

describe('setUserActive, setUserAdmin, setUserAuthLevel', () => {
  const SET_ACTIVE = `mutation($id: ID!, $v: Boolean!) { setUserActive(id: $id, active: $v) { isActive } }`;
  const SET_ADMIN = `mutation($id: ID!, $v: Boolean!) { setUserAdmin(id: $id, admin: $v) { isAdmin } }`;
  const SET_LEVEL = `mutation($id: ID!, $v: Int!) { setUserAuthLevel(id: $id, authLevel: $v) { authLevel } }`;
  const adminId = async () => (await server.sql<{ id: string }>(`select id from users where username = 'admin'`))[0].id;

  test('deactivation locks the user out at once; reactivation lets it back in', async () => {
    const user = await createUser(server);
    expect((await gql(ME, {}, user.headers)).data!.me.id).toBe(user.id); // its credentials are now cached
    expect((await gql(SET_ACTIVE, { id: user.id, v: false }, admin)).data!.setUserActive).toEqual({ isActive: false });
    expect(errorOf(await gql(ME, {}, user.headers))).toEqual({ code: 'UNAUTHENTICATED' });
    expect((await gql(SET_ACTIVE, { id: user.id, v: true }, admin)).data!.setUserActive).toEqual({ isActive: true });
    expect((await gql(ME, {}, user.headers)).data!.me.id).toBe(user.id);
    expect(await auditOf('setUserActive', user.id)).toHaveLength(2);
  });

  test('admin rights apply at once', async () => {
    const user = await createUser(server);
    const USERS = '{ users { totalCount } }';
    const before = (await gql(USERS, {}, user.headers)).data!.users.totalCount;
    expect((await gql(SET_ADMIN, { id: user.id, v: true }, admin)).data!.setUserAdmin).toEqual({ isAdmin: true });
    expect((await gql(USERS, {}, user.headers)).data!.users.totalCount).toBeGreaterThan(before);
    await gql(SET_ADMIN, { id: user.id, v: false }, admin);
    expect((await gql(USERS, {}, user.headers)).data!.users.totalCount).toBe(before);
  });

  test('only site admins, never on themselves', async () => {
    const id = await adminId();
    await refused(() => gql(SET_ACTIVE, { id, v: false }, admin), { code: 'CONFLICT' });
    await refused(() => gql(SET_ADMIN, { id, v: false }, admin), { code: 'CONFLICT' });
    const lead = await createUser(server, { authLevel: 5 });
    const junior = await createUser(server, { authLevel: 1 });
    await refused(() => gql(SET_ACTIVE, { id: junior.id, v: false }, lead.headers), { code: 'FORBIDDEN' });
    await refused(() => gql(SET_ADMIN, { id: lead.id, v: true }, junior.headers), { code: 'NOT_FOUND' });
    await refused(() => gql(SET_ADMIN, { id: 'not-a-uuid', v: true }, admin), { code: 'BAD_USER_INPUT', field: 'id' });
  });

  test('auth levels: site admins set any; Lighthouse users set lower users up to their own level', async () => {
    const lead = await createUser(server, { authLevel: 5 });
    const junior = await createUser(server, { authLevel: 2 });
    const peer = await createUser(server, { authLevel: 5 });
    expect((await gql(SET_LEVEL, { id: junior.id, v: 5 }, lead.headers)).data!.setUserAuthLevel).toEqual({ authLevel: 5 });
    // junior is now lead's peer: out of sight
    await refused(() => gql(SET_LEVEL, { id: junior.id, v: 1 }, lead.headers), { code: 'NOT_FOUND' });
    expect((await gql(SET_LEVEL, { id: junior.id, v: 2 }, admin)).data!.setUserAuthLevel).toEqual({ authLevel: 2 });
    await refused(() => gql(SET_LEVEL, { id: junior.id, v: 6 }, lead.headers), { code: 'FORBIDDEN' });
    await refused(() => gql(SET_LEVEL, { id: junior.id, v: -1 }, lead.headers), { code: 'BAD_USER_INPUT', field: 'authLevel' });
    await refused(() => gql(SET_LEVEL, { id: lead.id, v: 4 }, lead.headers), { code: 'FORBIDDEN' });
    await refused(() => gql(SET_LEVEL, { id: peer.id, v: 1 }, lead.headers), { code: 'NOT_FOUND' });
    // a site admin may change its own level
    const otherAdmin = await createUser(server, { isAdmin: true, authLevel: 7 });
    expect((await gql(SET_LEVEL, { id: otherAdmin.id, v: 9 }, otherAdmin.headers)).data!.setUserAuthLevel).toEqual({ authLevel: 9 });
    expect(await auditOf('setUserAuthLevel', junior.id)).toHaveLength(2);
  });
});
