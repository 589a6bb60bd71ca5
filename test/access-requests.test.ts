import { Env, Group, K8sCluster, K8sNamespace, K8sServiceAccount } from '../src/entities/index.js';
import { build, persist } from './support/fixtures.js';
import { createBot, createUser, type Caller } from './support/identities.js';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/server.js';
import { expectRefused } from './support/assertions.js';

// Kubportal's approval workflow: NEW → ACCESS_REQUESTED → ACCESS_APPROVED | ACCESS_REJECTED (→ ACCESS_REQUESTED again)

let server: TestServer;
let admin: Record<string, string>;
let adminId: string;
let cluster: K8sCluster;
let account: K8sServiceAccount;
let k8sGroup: Group;
beforeAll(async () => {
  server = await startTestServer(); // SIGNUP_ENABLED is off by default
  admin = await server.adminAuth();
  adminId = (await server.sql<{ id: string }>(`select id from users where username = 'admin'`))[0].id;
  const env = build(Env, { name: 'kube-env' });
  cluster = build(K8sCluster, { env, providerId: 'kube:1', name: 'kube-1' });
  const namespace = build(K8sNamespace, { cluster, name: 'shared', uid: 'b1c4a3c4-0000-4000-8000-000000000001' });
  account = build(K8sServiceAccount, { namespace, name: 'shared-sa' });
  k8sGroup = build(Group, { name: 'k8s accounts', specialK8sAccounts: true });
  await persist(server, env, cluster, namespace, account, k8sGroup);
});
afterAll(() => server?.stop());

type Res = GraphQLResponse<Record<string, any>>;
const FIELDS = 'id approvalState approvalComments serviceAccount { id name } groups { name }';
const gql = (query: string, variables: Record<string, unknown>, headers?: Record<string, string>) => server.gql(query, variables, headers) as Promise<Res>;

/** What this file's calls may write; a refused call must leave it exactly as it was. */
const TABLES = { names: ['users', 'k8s_namespaces', 'k8s_service_accounts', 'audit_records'] };
const refused = (call: () => Promise<Res>, expected: { code: string; field?: string }) => expectRefused(server, TABLES, call, expected);

const request = (caller: Caller, comments?: string) =>
  gql(`mutation($c: String) { requestAccess(comments: $c) { ${FIELDS} } }`, { c: comments }, caller.headers);
const approve = (userId: string, input: Record<string, unknown>, headers = admin) =>
  gql(`mutation($u: ID!, $i: ApproveAccessInput!) { approveAccessRequest(userId: $u, input: $i) { ${FIELDS} } }`, { u: userId, i: input }, headers);
const reject = (userId: string, comments?: string, headers = admin) =>
  gql(`mutation($u: ID!, $c: String) { rejectAccessRequest(userId: $u, comments: $c) { ${FIELDS} } }`, { u: userId, c: comments }, headers);
const row = async (id: string) =>
  (await server.sql<{ approval_state: string; approval_id: string | null; approval_answered_by_id: string | null; service_account_id: string | null; approval_comments: string | null }>(
    'select * from users where id = ?',
    [id],
  ))[0];

test('signUp is FORBIDDEN while SIGNUP_ENABLED is off, and writes nothing', async () => {
  await refused(
    () => gql('mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }', { i: { email: 'x@example.com', username: 'x', displayName: 'X', password: 'long-enough' } }),
    { code: 'FORBIDDEN' },
  );
});

test('request, approve with an existing service account: the user joins the automatic k8s group', async () => {
  const user = await createUser(server);
  expect((await request(user, 'I need a namespace')).data!.requestAccess).toMatchObject({ approvalState: 'ACCESS_REQUESTED', approvalComments: 'I need a namespace', serviceAccount: null, groups: [] });
  const requested = await row(user.id);
  expect(requested.approval_id).toMatch(/^[0-9a-f-]{36}$/);

  const res = await approve(user.id, { serviceAccountId: account.id });
  expect(res.data!.approveAccessRequest).toMatchObject({ approvalState: 'ACCESS_APPROVED', serviceAccount: { id: account.id, name: 'shared-sa' }, groups: [{ name: 'k8s accounts' }] });
  expect(await row(user.id)).toMatchObject({ approval_state: 'ACCESS_APPROVED', service_account_id: account.id, approval_answered_by_id: adminId });
  // the user's own view changes at once, its automatic group included
  expect((await gql(`{ me { ... on User { ${FIELDS} } } }`, {}, user.headers)).data!.me).toMatchObject({ approvalState: 'ACCESS_APPROVED', groups: [{ name: 'k8s accounts' }] });
  const audits = await server.sql<{ operation: string }>('select operation from audit_records where target_id = ? order by created_at', [user.id]);
  expect(audits.map((a) => a.operation)).toEqual(['requestAccess', 'approveAccessRequest']);
});

test('approve with a new namespace: a name Berth already knows in that cluster is a CONFLICT, a cluster without credentials CLUSTER_UNAVAILABLE; nothing written', async () => {
  // provisioning in a cluster that answers: test/kubportal-cluster.test.ts
  const user = await createUser(server);
  await request(user);
  await refused(() => approve(user.id, { newNamespace: { clusterId: cluster.id, name: 'SHARED' } }), { code: 'CONFLICT' });
  await refused(() => approve(user.id, { newNamespace: { clusterId: cluster.id, name: 'Team_Blue-42!' } }), { code: 'CLUSTER_UNAVAILABLE' });
  expect((await row(user.id)).approval_state).toBe('ACCESS_REQUESTED');
});

test('reject clears the service account; the user may ask again, with a new approval id', async () => {
  const user = await createUser(server);
  await request(user, 'first');
  const firstId = (await row(user.id)).approval_id;
  expect((await reject(user.id, 'not now')).data!.rejectAccessRequest).toMatchObject({ approvalState: 'ACCESS_REJECTED', approvalComments: 'not now', serviceAccount: null });
  expect(await row(user.id)).toMatchObject({ approval_answered_by_id: adminId, service_account_id: null });
  expect((await request(user, 'second')).data!.requestAccess).toMatchObject({ approvalState: 'ACCESS_REQUESTED', approvalComments: 'second' });
  const again = await row(user.id);
  expect(again.approval_id).not.toBe(firstId);
  expect(again.approval_answered_by_id).toBeNull();
});

test('every illegal transition is a CONFLICT and changes nothing', async () => {
  const fresh = await createUser(server);
  await refused(() => approve(fresh.id, { serviceAccountId: account.id }), { code: 'CONFLICT' });
  await refused(() => reject(fresh.id), { code: 'CONFLICT' });

  const requested = await createUser(server);
  await request(requested);
  await refused(() => request(requested), { code: 'CONFLICT' });

  const approved = await createUser(server);
  await request(approved);
  await approve(approved.id, { serviceAccountId: account.id });
  await refused(() => request(approved), { code: 'CONFLICT' });
  await refused(() => approve(approved.id, { serviceAccountId: account.id }), { code: 'CONFLICT' });
  await refused(() => reject(approved.id), { code: 'CONFLICT' });

  const rejected = await createUser(server);
  await request(rejected);
  await reject(rejected.id);
  await refused(() => approve(rejected.id, { serviceAccountId: account.id }), { code: 'CONFLICT' });
  await refused(() => reject(rejected.id), { code: 'CONFLICT' });
});

test('approval input: exactly one choice, a usable namespace name, existing targets', async () => {
  const user = await createUser(server);
  await request(user);
  await refused(() => approve(user.id, {}), { code: 'BAD_USER_INPUT', field: 'input' });
  await refused(() => approve(user.id, { serviceAccountId: account.id, newNamespace: { clusterId: cluster.id, name: 'x' } }), { code: 'BAD_USER_INPUT', field: 'input' });
  await refused(() => approve(user.id, { newNamespace: { clusterId: cluster.id, name: '_-!' } }), { code: 'BAD_USER_INPUT', field: 'input.newNamespace.name' });
  await refused(() => approve(user.id, { serviceAccountId: 'nope' }), { code: 'BAD_USER_INPUT', field: 'input.serviceAccountId' });
  await refused(() => approve(user.id, { serviceAccountId: '00000000-0000-4000-8000-000000000000' }), { code: 'NOT_FOUND' });
  await refused(() => approve(user.id, { newNamespace: { clusterId: '00000000-0000-4000-8000-000000000000', name: 'ok' } }), { code: 'NOT_FOUND' });
});

test('only site admins answer; only users ask', async () => {
  const user = await createUser(server);
  await request(user);
  const lead = await createUser(server, { authLevel: 5 }); // sees the user (lower level) but is no site admin
  // the service account lies outside the lead's envs: it does not exist for the lead
  await refused(() => approve(user.id, { serviceAccountId: account.id }, lead.headers), { code: 'NOT_FOUND' });
  await refused(() => reject(user.id, undefined, lead.headers), { code: 'FORBIDDEN' });
  const other = await createUser(server);
  await refused(() => reject(user.id, undefined, other.headers), { code: 'NOT_FOUND' });
  const bot = await createBot(server);
  await refused(() => request(bot), { code: 'FORBIDDEN' });
  await refused(() => request({ id: '', headers: {} }), { code: 'UNAUTHENTICATED' });
});
