import { hashSecret, parseOpaqueToken } from '../src/auth/opaque-token.js';
import { EnvUserRole } from '../src/entities/enums.js';
import { seedFleet, type Fleet } from './support/fixtures.js';
import { createBot, createUser, deploymentCaller, grantEnvRole, type Caller } from './support/identities.js';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/server.js';
import { expectRefused } from './support/assertions.js';

let server: TestServer;
let admin: Record<string, string>;
let adminId: string;
let fleet: Fleet;
beforeAll(async () => {
  server = await startTestServer();
  admin = await server.adminAuth();
  adminId = (await server.sql<{ id: string }>(`select id from users where username = 'admin'`))[0].id;
  fleet = await seedFleet(server.em, { deployments: 1, clusters: 1, kinds: 1, tasksPerDeployment: 0, prefix: 'tok' });
});
afterAll(() => server?.stop());

type Res = GraphQLResponse<Record<string, any>>;
const gql = (query: string, variables: Record<string, unknown>, headers?: Record<string, string>) => server.gql(query, variables, headers) as Promise<Res>;
const errorOf = (res: Res) => res.errors?.[0]?.extensions;
const platz = (token: string) => ({ 'x-platz-token': token });
const ME = '{ me { __typename ... on User { id } ... on Bot { id } } }';

/** What this file's calls may write; a refused call must leave it exactly as it was. */
const TABLES = { names: ['user_tokens', 'bot_tokens', 'bots', 'env_user_permissions', 'audit_records'], volatile: ['last_used_at'] };
const refused = (call: () => Promise<Res>, expected: { code: string; field?: string }) => expectRefused(server, TABLES, call, expected);
const audited = (operation: string, targetId: string) => server.sql('select * from audit_records where operation = ? and target_id = ?', [operation, targetId]);

/** The token was shown once: the row holds only the hash of its secret, and nothing of the token itself. */
async function expectStoredHashed(table: string, token: string) {
  const parsed = parseOpaqueToken(token)!;
  const [row] = await server.sql<Record<string, unknown>>(`select * from ${table} where id = ?`, [parsed.id]);
  expect(row.secret_hash).toBe(hashSecret(parsed.secret));
  const stored = JSON.stringify(row);
  expect(stored).not.toContain(parsed.secret);
  expect(stored).not.toContain(token);
}

const CREATE_USER_TOKEN = 'mutation($i: CreateUserTokenInput!) { createUserToken(input: $i) { token userToken { id name expiresAt user { id } } } }';
const createUserToken = (input: Record<string, unknown>, headers: Record<string, string>) => gql(CREATE_USER_TOKEN, { i: input }, headers);
const REVOKE_USER_TOKEN = 'mutation($id: ID!) { revokeUserToken(id: $id) }';
const CREATE_BOT_TOKEN = 'mutation($i: CreateBotTokenInput!) { createBotToken(input: $i) { token botToken { id name bot { id } createdByUser { id } } } }';
const REVOKE_BOT_TOKEN = 'mutation($id: ID!) { revokeBotToken(id: $id) }';
const CREATE_BOT = 'mutation($i: CreateBotInput!) { createBot(input: $i) { id displayName } }';
const UPDATE_BOT = 'mutation($id: ID!, $i: UpdateBotInput!) { updateBot(id: $id, input: $i) { id displayName } }';
const DELETE_BOT = 'mutation($id: ID!) { deleteBot(id: $id) }';
const inFuture = () => new Date(Date.now() + 3_600_000).toISOString();

describe('user tokens', () => {
  let user: Caller;
  beforeAll(async () => {
    user = await createUser(server);
  });

  test('a user creates its own token: shown once, stored hashed, works at once', async () => {
    const expiresAt = inFuture();
    const res = await createUserToken({ name: ' ci ', expiresAt }, user.headers);
    expect(res.errors).toBeUndefined();
    const { token, userToken } = res.data!.createUserToken;
    expect(userToken).toMatchObject({ name: 'ci', expiresAt, user: { id: user.id } });
    await expectStoredHashed('user_tokens', token);
    expect((await gql(ME, {}, platz(token))).data!.me).toEqual({ __typename: 'User', id: user.id });
    // the token is not part of the UserToken type: it cannot be read back
    expect(errorOf(await gql('query($id: ID!) { userToken(id: $id) { token } }', { id: userToken.id }, user.headers))?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const [audit] = await audited('createUserToken', userToken.id);
    expect(JSON.stringify(audit)).not.toMatch(/secret|hash/i);
  });

  test('site admins create tokens for others; users cannot', async () => {
    const res = await createUserToken({ userId: user.id, name: 'by admin' }, admin);
    expect(res.data!.createUserToken.userToken).toMatchObject({ user: { id: user.id }, expiresAt: null });
    expect((await gql(ME, {}, platz(res.data!.createUserToken.token))).data!.me.id).toBe(user.id);

    const lead = await createUser(server, { authLevel: 5 }); // sees the user, may not act for it
    await refused(() => createUserToken({ userId: user.id }, lead.headers), { code: 'FORBIDDEN' });
    const other = await createUser(server);
    await refused(() => createUserToken({ userId: user.id }, other.headers), { code: 'NOT_FOUND' });
  });

  test('bots and deployments cannot create user tokens; bad input changes nothing', async () => {
    const bot = await createBot(server);
    await refused(() => createUserToken({ name: 'x' }, bot.headers), { code: 'FORBIDDEN' });
    const deployment = await deploymentCaller(server, fleet.deployments[0].id);
    await refused(() => createUserToken({ name: 'x' }, deployment.headers), { code: 'FORBIDDEN' });
    await refused(() => createUserToken({ expiresAt: new Date(Date.now() - 1000).toISOString() }, user.headers), { code: 'BAD_USER_INPUT', field: 'input.expiresAt' });
    await refused(() => createUserToken({ userId: 'nope' }, admin), { code: 'BAD_USER_INPUT', field: 'input.userId' });
  });

  test('revoking deletes the token, which stops working at once', async () => {
    const { token, userToken } = (await createUserToken({ name: 'temp' }, user.headers)).data!.createUserToken;
    expect((await gql(ME, {}, platz(token))).data!.me.id).toBe(user.id); // now cached
    const other = await createUser(server);
    await refused(() => gql(REVOKE_USER_TOKEN, { id: userToken.id }, other.headers), { code: 'NOT_FOUND' });
    expect((await gql(REVOKE_USER_TOKEN, { id: userToken.id }, user.headers)).data).toEqual({ revokeUserToken: userToken.id });
    expect(await server.sql('select id from user_tokens where id = ?', [userToken.id])).toEqual([]);
    expect(errorOf(await gql(ME, {}, platz(token)))).toEqual({ code: 'UNAUTHENTICATED' });
    expect(await audited('revokeUserToken', userToken.id)).toHaveLength(1);
    await refused(() => gql(REVOKE_USER_TOKEN, { id: userToken.id }, user.headers), { code: 'NOT_FOUND' });

    const byAdmin = (await createUserToken({ name: 'temp2' }, user.headers)).data!.createUserToken;
    expect((await gql(REVOKE_USER_TOKEN, { id: byAdmin.userToken.id }, admin)).data).toEqual({ revokeUserToken: byAdmin.userToken.id });
    expect(errorOf(await gql(ME, {}, platz(byAdmin.token)))).toEqual({ code: 'UNAUTHENTICATED' });
  });
});

describe('bots and bot tokens', () => {
  test('site admins create, rename and delete bots', async () => {
    const created = await gql(CREATE_BOT, { i: { displayName: ' deployer ' } }, admin);
    const bot = created.data!.createBot;
    expect(bot.displayName).toBe('deployer');
    expect((await gql(UPDATE_BOT, { id: bot.id, i: { displayName: 'release bot' } }, admin)).data!.updateBot).toEqual({ id: bot.id, displayName: 'release bot' });
    expect((await gql(UPDATE_BOT, { id: bot.id, i: {} }, admin)).data!.updateBot.displayName).toBe('release bot');
    expect((await gql(DELETE_BOT, { id: bot.id }, admin)).data).toEqual({ deleteBot: bot.id });
    expect(await server.sql('select id from bots where id = ?', [bot.id])).toEqual([]);
    for (const op of ['createBot', 'updateBot', 'deleteBot']) expect((await audited(op, bot.id)).length).toBeGreaterThan(0);
  });

  test('bots: validation and permissions', async () => {
    const bot = await createBot(server);
    await refused(() => gql(CREATE_BOT, { i: { displayName: ' ' } }, admin), { code: 'BAD_USER_INPUT', field: 'input.displayName' });
    await refused(() => gql(UPDATE_BOT, { id: bot.id, i: { displayName: '' } }, admin), { code: 'BAD_USER_INPUT', field: 'input.displayName' });
    const user = await createUser(server);
    await refused(() => gql(CREATE_BOT, { i: { displayName: 'mine' } }, user.headers), { code: 'FORBIDDEN' });
    await refused(() => gql(DELETE_BOT, { id: bot.id }, user.headers), { code: 'NOT_FOUND' });
    // an env Admin sees bots (to grant them roles) but does not manage them
    const envAdmin = await createUser(server);
    await grantEnvRole(server, fleet.env.id, { userId: envAdmin.id }, EnvUserRole.Admin);
    await refused(() => gql(UPDATE_BOT, { id: bot.id, i: { displayName: 'x' } }, envAdmin.headers), { code: 'FORBIDDEN' });
    await refused(() => gql(DELETE_BOT, { id: bot.id }, envAdmin.headers), { code: 'FORBIDDEN' });
    // a bot is no site admin either
    await refused(() => gql(CREATE_BOT, { i: { displayName: 'child' } }, bot.headers), { code: 'FORBIDDEN' });
  });

  test('bot tokens: created by a site admin, shown once, stored hashed, revoked at once', async () => {
    const bot = (await gql(CREATE_BOT, { i: { displayName: 'tokened' } }, admin)).data!.createBot;
    const res = await gql(CREATE_BOT_TOKEN, { i: { botId: bot.id, name: 'ci', expiresAt: inFuture() } }, admin);
    expect(res.errors).toBeUndefined();
    const { token, botToken } = res.data!.createBotToken;
    expect(botToken).toMatchObject({ name: 'ci', bot: { id: bot.id }, createdByUser: { id: adminId } });
    await expectStoredHashed('bot_tokens', token);
    expect((await gql(ME, {}, platz(token))).data!.me).toEqual({ __typename: 'Bot', id: bot.id });
    expect(await audited('createBotToken', botToken.id)).toHaveLength(1);

    expect((await gql(REVOKE_BOT_TOKEN, { id: botToken.id }, admin)).data).toEqual({ revokeBotToken: botToken.id });
    expect(errorOf(await gql(ME, {}, platz(token)))).toEqual({ code: 'UNAUTHENTICATED' });
    expect(await server.sql('select id from bot_tokens where id = ?', [botToken.id])).toEqual([]);
  });

  test('bot tokens: validation and permissions', async () => {
    const bot = await createBot(server);
    const [tokenRow] = await server.sql<{ id: string }>('select id from bot_tokens where bot_id = ?', [bot.id]);
    await refused(() => gql(CREATE_BOT_TOKEN, { i: { botId: bot.id, expiresAt: new Date(Date.now() - 60_000).toISOString() } }, admin), { code: 'BAD_USER_INPUT', field: 'input.expiresAt' });
    await refused(() => gql(CREATE_BOT_TOKEN, { i: { botId: 'x' } }, admin), { code: 'BAD_USER_INPUT', field: 'input.botId' });
    const envAdmin = await createUser(server);
    await grantEnvRole(server, fleet.env.id, { userId: envAdmin.id }, EnvUserRole.Admin);
    await refused(() => gql(CREATE_BOT_TOKEN, { i: { botId: bot.id } }, envAdmin.headers), { code: 'FORBIDDEN' });
    await refused(() => gql(REVOKE_BOT_TOKEN, { id: tokenRow.id }, envAdmin.headers), { code: 'NOT_FOUND' });
    await refused(() => gql(CREATE_BOT_TOKEN, { i: { botId: bot.id } }, bot.headers), { code: 'FORBIDDEN' });
  });

  test('deleting a bot takes its tokens and roles with it and locks it out at once', async () => {
    const bot = await createBot(server);
    await grantEnvRole(server, fleet.env.id, { botId: bot.id }, EnvUserRole.User);
    expect((await gql(ME, {}, bot.headers)).data!.me.id).toBe(bot.id); // now cached
    expect((await gql(DELETE_BOT, { id: bot.id }, admin)).data).toEqual({ deleteBot: bot.id });
    expect(errorOf(await gql(ME, {}, bot.headers))).toEqual({ code: 'UNAUTHENTICATED' });
    expect(await server.sql('select id from bot_tokens where bot_id = ?', [bot.id])).toEqual([]);
    expect(await server.sql('select id from env_user_permissions where bot_id = ?', [bot.id])).toEqual([]);
  });
});
