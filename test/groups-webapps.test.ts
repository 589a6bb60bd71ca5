import { Env, K8sCluster, K8sNamespace, K8sServiceAccount } from '../src/entities/index.js';
import { UserApprovalState } from '../src/entities/enums.js';
import { build, persist } from './support/fixtures.js';
import { createUser, type Caller } from './support/identities.js';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/server.js';
import { expectRefused } from './support/assertions.js';

let server: TestServer;
let admin: Record<string, string>;
let account: K8sServiceAccount;
beforeAll(async () => {
  server = await startTestServer();
  admin = await server.adminAuth();
  const env = build(Env, { name: 'portal-env' });
  const cluster = build(K8sCluster, { env, providerId: 'portal:1', name: 'portal-1' });
  const namespace = build(K8sNamespace, { cluster, name: 'team1' });
  account = build(K8sServiceAccount, { namespace, name: 'alice-sa' });
  await persist(server, env, cluster, namespace, account);
});
afterAll(() => server?.stop());

type Res = GraphQLResponse<Record<string, any>>;
const gql = (query: string, variables: Record<string, unknown>, headers?: Record<string, string>) => server.gql(query, variables, headers) as Promise<Res>;

/** What this file's calls may write; a refused call must leave it exactly as it was. */
const TABLES = { names: ['groups', 'group_members', 'group_web_apps', 'web_apps', 'audit_records'] };
const refused = (call: () => Promise<Res>, expected: { code: string; field?: string }) => expectRefused(server, TABLES, call, expected);
const audited = async (operation: string) => (await server.sql(`select id from audit_records where operation = ?`, [operation])).length;

const GROUP = 'id name specialAllAccounts specialK8sAccounts canAdmin members { id } webApps { id }';
const createGroup = (input: Record<string, unknown>, headers = admin) => gql(`mutation($i: CreateGroupInput!) { createGroup(input: $i) { ${GROUP} } }`, { i: input }, headers);
const link = (mutation: string, groupId: string, otherKey: 'userId' | 'webAppId', otherId: string, headers = admin) =>
  gql(`mutation($g: ID!, $o: ID!) { ${mutation}(groupId: $g, ${otherKey}: $o) { ${GROUP} } }`, { g: groupId, o: otherId }, headers);
const WEB_APP = 'id name linkName linkUrl linkUrlTemplate linkShow';
const createWebApp = (input: Record<string, unknown>, headers = admin) => gql(`mutation($i: CreateWebAppInput!) { createWebApp(input: $i) { ${WEB_APP} } }`, { i: input }, headers);
const updateWebApp = (id: string, input: Record<string, unknown>, headers = admin) =>
  gql(`mutation($id: ID!, $i: UpdateWebAppInput!) { updateWebApp(id: $id, input: $i) { ${WEB_APP} } }`, { id, i: input }, headers);
const USER_VIEW = 'query($id: ID!) { user(id: $id) { groups { name } webApps { name } } }';

describe('groups', () => {
  test('site admins create, rename, update and delete groups', async () => {
    const created = (await createGroup({ name: ' ops ', canAdmin: false })).data!.createGroup;
    expect(created).toMatchObject({ name: 'ops', specialAllAccounts: false, specialK8sAccounts: false, canAdmin: false });
    const renamed = await gql('mutation($id: ID!, $n: String!) { renameGroup(id: $id, name: $n) { name } }', { id: created.id, n: 'operations' }, admin);
    expect(renamed.data!.renameGroup.name).toBe('operations');
    const updated = await gql('mutation($id: ID!, $i: UpdateGroupInput!) { updateGroup(id: $id, input: $i) { name specialK8sAccounts canAdmin } }', { id: created.id, i: { specialK8sAccounts: true } }, admin);
    expect(updated.data!.updateGroup).toEqual({ name: 'operations', specialK8sAccounts: true, canAdmin: false });
    expect((await gql('mutation($id: ID!) { deleteGroup(id: $id) }', { id: created.id }, admin)).data).toEqual({ deleteGroup: created.id });
    expect(await server.sql('select id from groups where id = ?', [created.id])).toEqual([]);
    for (const op of ['createGroup', 'renameGroup', 'updateGroup', 'deleteGroup']) expect(await audited(op)).toBe(1);
  });

  test('names are required and unique; only site admins manage groups', async () => {
    const group = (await createGroup({ name: 'devs' })).data!.createGroup;
    await createGroup({ name: 'qa' });
    await refused(() => createGroup({ name: '  ' }), { code: 'BAD_USER_INPUT', field: 'input.name' });
    await refused(() => createGroup({ name: 'devs' }), { code: 'CONFLICT' });
    await refused(() => gql('mutation($id: ID!) { renameGroup(id: $id, name: "qa") { id } }', { id: group.id }, admin), { code: 'CONFLICT' });
    await refused(() => gql('mutation($id: ID!) { renameGroup(id: $id, name: "") { id } }', { id: group.id }, admin), { code: 'BAD_USER_INPUT', field: 'name' });
    const user = await createUser(server);
    await refused(() => createGroup({ name: 'mine' }, user.headers), { code: 'FORBIDDEN' });
    await refused(() => gql('mutation($id: ID!) { deleteGroup(id: $id) }', { id: group.id }, user.headers), { code: 'NOT_FOUND' });
    // a member sees its group, but may not change it
    await link('addGroupMember', group.id, 'userId', user.id);
    await refused(() => gql('mutation($id: ID!) { deleteGroup(id: $id) }', { id: group.id }, user.headers), { code: 'FORBIDDEN' });
  });

  test('members: added once, removed only when present', async () => {
    const group = (await createGroup({ name: 'members' })).data!.createGroup;
    const user = await createUser(server);
    expect((await link('addGroupMember', group.id, 'userId', user.id)).data!.addGroupMember.members).toEqual([{ id: user.id }]);
    await refused(() => link('addGroupMember', group.id, 'userId', user.id), { code: 'CONFLICT' });
    expect((await link('removeGroupMember', group.id, 'userId', user.id)).data!.removeGroupMember.members).toEqual([]);
    await refused(() => link('removeGroupMember', group.id, 'userId', user.id), { code: 'NOT_FOUND' });
    await refused(() => link('addGroupMember', group.id, 'userId', 'bad'), { code: 'BAD_USER_INPUT', field: 'userId' });
    const records = await server.sql<{ operation: string }>(`select operation from audit_records where target_type = 'GroupMember' and coalesce(after, before)->>'group' = ? order by created_at`, [group.id]);
    expect(records.map((r) => r.operation)).toEqual(['addGroupMember', 'removeGroupMember']);
  });

  test('joining a can_admin group makes a site admin at once; leaving it ends that', async () => {
    const admins = (await createGroup({ name: 'portal admins', canAdmin: true })).data!.createGroup;
    const user = await createUser(server);
    const BOTS = '{ bots { totalCount } }';
    const asUser = async () => (await gql('mutation { createBot(input: { displayName: "probe" }) { id } }', {}, user.headers)).errors?.[0]?.extensions?.code;
    expect(await asUser()).toBe('FORBIDDEN');
    await link('addGroupMember', admins.id, 'userId', user.id);
    expect(await asUser()).toBeUndefined();
    await link('removeGroupMember', admins.id, 'userId', user.id);
    expect(await asUser()).toBe('FORBIDDEN');
    expect((await gql(BOTS, {}, user.headers)).data!.bots.totalCount).toBe(0);
  });

  test('User.groups holds the automatic groups: all accounts for everyone, k8s accounts once approved with a service account', async () => {
    await createGroup({ name: 'everyone', specialAllAccounts: true });
    await createGroup({ name: 'kube users', specialK8sAccounts: true });
    const plain = await createUser(server);
    const approved = await createUser(server, { approvalState: UserApprovalState.ACCESS_APPROVED, serviceAccount: account });
    const approvedWithout = await createUser(server, { approvalState: UserApprovalState.ACCESS_APPROVED });
    const names = async (caller: Caller) => (await gql(USER_VIEW, { id: caller.id }, caller.headers)).data!.user.groups.map((g: { name: string }) => g.name);
    expect(await names(plain)).toEqual(['everyone']);
    expect(await names(approved)).toEqual(['everyone', 'kube users']);
    expect(await names(approvedWithout)).toEqual(['everyone']);
    // groups follow the explicit memberships too
    const devs = (await server.sql<{ id: string }>(`select id from groups where name = 'devs'`))[0].id;
    await link('addGroupMember', devs, 'userId', plain.id);
    expect(await names(plain)).toEqual(['devs', 'everyone']);
  });
});

describe('web apps', () => {
  test('site admins create, update and delete web apps; links are http(s) URLs with placeholders', async () => {
    const app = (await createWebApp({ name: 'Dashboard', linkName: 'Dash {{namespace}}', linkUrl: 'https://dash.example.com/{{namespace}}/{{serviceaccount}}', linkShow: true })).data!.createWebApp;
    expect(app).toMatchObject({ name: 'Dashboard', linkShow: true, linkUrlTemplate: 'https://dash.example.com/{{namespace}}/{{serviceaccount}}' });
    const updated = (await updateWebApp(app.id, { name: 'Dash', linkName: null, linkShow: false })).data!.updateWebApp;
    expect(updated).toMatchObject({ name: 'Dash', linkName: null, linkShow: false, linkUrlTemplate: app.linkUrlTemplate });
    expect((await gql('mutation($id: ID!) { deleteWebApp(id: $id) }', { id: app.id }, admin)).data).toEqual({ deleteWebApp: app.id });
    expect(await server.sql('select id from web_apps where id = ?', [app.id])).toEqual([]);
    for (const op of ['createWebApp', 'updateWebApp', 'deleteWebApp']) expect(await audited(op)).toBe(1);
  });

  test('bad links and names change nothing; only site admins manage web apps', async () => {
    const app = (await createWebApp({ name: 'Grafana', linkUrl: 'http://grafana.local' })).data!.createWebApp;
    for (const linkUrl of ['ftp://files.example.com', 'not a url', '{{namespace}}', 'javascript:alert(1)', '']) {
      await refused(() => createWebApp({ name: 'Bad', linkUrl }), { code: 'BAD_USER_INPUT', field: 'input.linkUrl' });
    }
    await refused(() => updateWebApp(app.id, { linkUrl: 'mailto:x@example.com' }), { code: 'BAD_USER_INPUT', field: 'input.linkUrl' });
    await refused(() => createWebApp({ name: ' ' }), { code: 'BAD_USER_INPUT', field: 'input.name' });
    const user = await createUser(server);
    await refused(() => createWebApp({ name: 'Mine' }, user.headers), { code: 'FORBIDDEN' });
    await refused(() => updateWebApp(app.id, { name: 'x' }, user.headers), { code: 'NOT_FOUND' });
  });

  test('group links: added once, removed only when present', async () => {
    const group = (await createGroup({ name: 'apps' })).data!.createGroup;
    const app = (await createWebApp({ name: 'Wiki', linkUrl: 'https://wiki.example.com' })).data!.createWebApp;
    expect((await link('addGroupWebApp', group.id, 'webAppId', app.id)).data!.addGroupWebApp.webApps).toEqual([{ id: app.id }]);
    await refused(() => link('addGroupWebApp', group.id, 'webAppId', app.id), { code: 'CONFLICT' });
    const user = await createUser(server);
    await refused(() => link('removeGroupWebApp', group.id, 'webAppId', app.id, user.headers), { code: 'NOT_FOUND' });
    expect((await link('removeGroupWebApp', group.id, 'webAppId', app.id)).data!.removeGroupWebApp.webApps).toEqual([]);
    await refused(() => link('removeGroupWebApp', group.id, 'webAppId', app.id), { code: 'NOT_FOUND' });
  });

  test("User.webApps: the groups' shown apps, once each; site admins also see hidden ones", async () => {
    const [g1, g2] = [(await createGroup({ name: 'tools-1' })).data!.createGroup, (await createGroup({ name: 'tools-2' })).data!.createGroup];
    const shown = (await createWebApp({ name: 'Shown', linkUrl: 'https://shown.example.com', linkShow: true })).data!.createWebApp;
    const hidden = (await createWebApp({ name: 'Hidden', linkUrl: 'https://hidden.example.com', linkShow: false })).data!.createWebApp;
    for (const [group, app] of [[g1, shown], [g2, shown], [g2, hidden]]) await link('addGroupWebApp', group.id, 'webAppId', app.id);
    const user = await createUser(server);
    for (const group of [g1, g2]) await link('addGroupMember', group.id, 'userId', user.id);
    const apps = async (headers: Record<string, string>) => (await gql(USER_VIEW, { id: user.id }, headers)).data!.user.webApps.map((w: { name: string }) => w.name);
    expect(await apps(user.headers)).toEqual(['Shown']);
    expect(await apps(admin)).toEqual(['Shown', 'Hidden']);
  });

  test("links are filled from the caller's service account; empty without one", async () => {
    const group = (await createGroup({ name: 'everyone-apps', specialAllAccounts: true })).data!.createGroup;
    const app = (await createWebApp({ name: 'Kube', linkName: 'Kube for {{serviceaccount}}', linkUrl: 'https://kube.example.com/ns/{{namespace}}?sa={{serviceaccount}}', linkShow: true })).data!
      .createWebApp;
    await link('addGroupWebApp', group.id, 'webAppId', app.id);
    const approved = await createUser(server, { approvalState: UserApprovalState.ACCESS_APPROVED, serviceAccount: account });
    const plain = await createUser(server);
    const view = async (caller: Caller) => (await gql('query($id: ID!) { webApp(id: $id) { linkName linkUrl linkUrlTemplate } }', { id: app.id }, caller.headers)).data!.webApp;
    expect(await view(approved)).toEqual({
      linkName: 'Kube for alice-sa',
      linkUrl: 'https://kube.example.com/ns/team1?sa=alice-sa',
      linkUrlTemplate: 'https://kube.example.com/ns/{{namespace}}?sa={{serviceaccount}}',
    });
    expect(await view(plain)).toMatchObject({ linkName: 'Kube for ', linkUrl: 'https://kube.example.com/ns/?sa=' });
  });
});
