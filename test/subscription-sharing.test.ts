import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { Env, K8sCluster, K8sNamespace, K8sServiceAccount } from '../src/entities/index.js';
import { EnvUserRole, UserApprovalState } from '../src/entities/enums.js';
import { build, persist } from './support/fixtures.js';
import { createUser, type Caller } from './support/identities.js';
import { startTestServer, type TestServer } from './support/server.js';
import { Feed, settleEvents, type Message } from './support/subscriptions.js';

/**
 * Subscribers of one document share an execution of each live event only where the result cannot differ
 * (src/server/shared-execution.ts): every one of them when the selection reads only the object, identities
 * whose grants see the same related rows when it reads relations, and nobody when a field depends on who asks.
 * What the server executed is read from berth_subscription_executions_total.
 */
const TOKEN = 'a-metrics-token-for-sharing-tests';
let server: TestServer;
let admin: Record<string, string>;
let feeds: Feed[] = [];

beforeAll(async () => {
  server = await startTestServer({ METRICS_TOKEN: TOKEN });
  admin = await server.adminAuth();
});

afterEach(async () => {
  await Promise.all(feeds.map((f) => f.dispose()));
  feeds = [];
});

afterAll(() => server?.stop());

async function gql<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await server.gql<T, Record<string, unknown>>(query, variables, admin);
  expect(res.errors).toBeUndefined();
  return res.data!;
}

async function executions(): Promise<number> {
  const res = await fetch(new URL('/metrics', server.berth.url), { headers: { authorization: `Bearer ${TOKEN}` } });
  const line = (await res.text()).split('\n').find((l) => l.startsWith('berth_subscription_executions_total '));
  if (!line) throw new Error('no berth_subscription_executions_total in /metrics');
  return Number(line.split(' ')[1]);
}

/** Subscribers of `query`, live. */
async function subscribe(query: string, ...callers: Caller[]): Promise<Feed[]> {
  const opened = callers.map((c) => new Feed(server.berth.wsUrl, c.headers, query));
  feeds.push(...opened);
  await Promise.all(opened.map((f) => f.live()));
  await settleEvents(server);
  return opened;
}

/** Runs `write`, waits until each feed has received `counts[i]` more changes, and returns how many executions that took. */
async function executed(write: () => Promise<unknown>, subscribers: Feed[], counts: number[]): Promise<number> {
  const before = await executions();
  const had = subscribers.map((f) => f.changes.length);
  await write();
  await Promise.all(subscribers.map((f, i) => f.until((x) => x.changes.length >= had[i] + counts[i], `${counts[i]} more changes`)));
  await settleEvents(server);
  return (await executions()) - before;
}

const createEnv = async (name: string) => (await gql<{ createEnv: { id: string } }>('mutation($i: CreateEnvInput!) { createEnv(input: $i) { id } }', { i: { name } })).createEnv.id;
const updateEnv = (id: string, description: string) => gql('mutation($id: ID!, $i: UpdateEnvInput!) { updateEnv(id: $id, input: $i) { id } }', { id, i: { description } });
const grant = async (envId: string, who: Caller, role: EnvUserRole) =>
  (await gql<{ createEnvUserPermission: { id: string } }>('mutation($i: CreateEnvUserPermissionInput!) { createEnvUserPermission(input: $i) { id } }', { i: { envId, userId: who.id, role } }))
    .createEnvUserPermission.id;
const revoke = (permissionId: string) => gql('mutation($id: ID!) { deleteEnvUserPermission(id: $id) }', { id: permissionId });
const renameUser = (id: string, displayName: string) => gql('mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { id } }', { id, i: { displayName } });

const nodeOf = (m: Message) => m.node as Record<string, any>;

describe('a selection reading only the object', () => {
  const ENVS = 'subscription { events(types: [ENV]) { operation cursor id node { ... on Env { id description } } } }';

  test('users who see different envs never receive each other’s events; everyone who receives one shares its execution', async () => {
    const [first, second, fence] = [await createEnv('sharing-first'), await createEnv('sharing-second'), await createEnv('sharing-fence')];
    const [a, b, both] = [await createUser(server), await createUser(server), await createUser(server)];
    await grant(first, a, EnvUserRole.User);
    await grant(second, b, EnvUserRole.User);
    await grant(first, both, EnvUserRole.Admin);
    await grant(second, both, EnvUserRole.User);
    for (const who of [a, b, both]) await grant(fence, who, EnvUserRole.User);
    const [fa, fb, fboth] = await subscribe(ENVS, a, b, both);

    // one execution per event, whoever receives it and whatever else they may see
    expect(await executed(() => updateEnv(first, 'first changed'), [fa, fboth], [1, 1])).toBe(1);
    expect(await executed(() => updateEnv(second, 'second changed'), [fb, fboth], [1, 1])).toBe(1);
    // every change after the ones above reaches everyone, so nothing of them can still be on its way
    expect(await executed(() => updateEnv(fence, 'fence'), [fa, fb, fboth], [1, 1, 1])).toBe(1);
    expect(fa.changes.map((m) => nodeOf(m).id)).toEqual([first, fence]);
    expect(fb.changes.map((m) => nodeOf(m).id)).toEqual([second, fence]);
    expect(fboth.changes.map((m) => nodeOf(m).id)).toEqual([first, second, fence]);
    expect(fa.changes[0]).toEqual(fboth.changes[0]);
  });
});

describe('the grants a message is judged with', () => {
  test('are the newest version, also once cursors have gained a digit (ordered as text, "98" came after "102")', async () => {
    const [{ head }] = await server.sql<{ head: number }>('select coalesce(max(cursor), 0)::int as head from events');
    await server.sql(`select setval(pg_get_serial_sequence('events', 'cursor'), ?)`, [10 ** String(head + 10).length - 3]);
    const user = await createUser(server);
    const env = await createEnv('digits');
    await grant(env, user, EnvUserRole.User);
    const [versions] = await server.sql<{ cursors: string[] }>('select array_agg(cursor::text order by cursor) as cursors from grant_versions where identity = ?', [`user:${user.id}`]);
    expect(versions.cursors.map((c) => c.length)).toEqual([versions.cursors[0].length, versions.cursors[0].length + 1]);
    const [feed] = await subscribe('subscription { events(types: [ENV]) { operation id } }', user);
    expect(feed.messages.map((m) => [m.operation, m.id])).toEqual([['SNAPSHOT', env], ['LIVE', null]]);
  });
});

describe('a selection reading relations', () => {
  // a user's permissions as the subscriber may see them: those in its envs
  const USERS = 'subscription { events(types: [USER]) { operation id node { ... on User { id displayName envPermissions { role env { id } } } } } }';
  const permissionsOf = (f: Feed) => (nodeOf(f.changes.at(-1)!).envPermissions as { env: { id: string } }[]).map((p) => p.env.id).sort();

  test('identities that see the same related rows share; those that do not are executed apart and see only theirs; a grant moves a subscriber', async () => {
    const [first, second] = [await createEnv('relations-first'), await createEnv('relations-second')];
    const target = await createUser(server);
    await grant(first, target, EnvUserRole.User);
    await grant(second, target, EnvUserRole.User);
    // env Admins see every user: two of the first env (equal grants), one of the second, one of both
    const [admin1, admin1too, admin2, adminBoth] = [await createUser(server), await createUser(server), await createUser(server), await createUser(server)];
    await grant(first, admin1, EnvUserRole.Admin);
    await grant(first, admin1too, EnvUserRole.Admin);
    const admin2Second = await grant(second, admin2, EnvUserRole.Admin);
    await grant(first, adminBoth, EnvUserRole.Admin);
    await grant(second, adminBoth, EnvUserRole.Admin);
    const subscribers = await subscribe(USERS, admin1, admin1too, admin2, adminBoth);
    const [f1, f1too, f2, fboth] = subscribers;
    const all = [1, 1, 1, 1];

    // three classes: the first env, the second, both
    expect(await executed(() => renameUser(target.id, 'renamed once'), subscribers, all)).toBe(3);
    expect(permissionsOf(f1)).toEqual([first]);
    expect(f1too.changes).toEqual(f1.changes);
    expect(permissionsOf(f2)).toEqual([second]);
    expect(permissionsOf(fboth)).toEqual([first, second].sort());

    // admin2 now sees both envs: it joins adminBoth's class, and sees both permissions
    const admin2First = await grant(first, admin2, EnvUserRole.Admin);
    await settleEvents(server);
    expect(await executed(() => renameUser(target.id, 'renamed twice'), subscribers, all)).toBe(2);
    expect(permissionsOf(f2)).toEqual([first, second].sort());
    expect(f2.changes.at(-1)).toEqual(fboth.changes.at(-1));

    // and without the second env, it is in the first env's class
    await revoke(admin2Second);
    await settleEvents(server);
    expect(await executed(() => renameUser(target.id, 'renamed thrice'), subscribers, all)).toBe(2);
    expect(permissionsOf(f2)).toEqual([first]);
    expect(f2.changes.at(-1)).toEqual(f1.changes.at(-1));

    // back to the second env alone: a class of its own again
    await grant(second, admin2, EnvUserRole.Admin);
    await revoke(admin2First);
    await settleEvents(server);
    expect(await executed(() => renameUser(target.id, 'renamed four times'), subscribers, all)).toBe(3);
    expect(permissionsOf(f2)).toEqual([second]);
  });

  test('a relation to rows only their holder sees (an env’s owner) is not shared by identities that are not admins', async () => {
    const env = await createEnv('owners');
    const [u1, u2] = [await createUser(server), await createUser(server)];
    await grant(env, u1, EnvUserRole.User);
    await grant(env, u2, EnvUserRole.User);
    const owned = 'subscription { events(types: [ENV]) { operation id node { ... on Env { description owner { id } } } } }';
    const [f1, f2] = await subscribe(owned, u1, u2);
    expect(await executed(() => updateEnv(env, 'owned'), [f1, f2], [1, 1])).toBe(2);
  });
});

describe('a selection with a field that depends on who asks', () => {
  test('is executed per identity even for equal grants', async () => {
    const env = build(Env, { name: 'portal' });
    const cluster = build(K8sCluster, { env, providerId: 'sharing:1', name: 'sharing-1' });
    const [ns1, ns2] = [build(K8sNamespace, { cluster, name: 'team-one' }), build(K8sNamespace, { cluster, name: 'team-two' })];
    const [sa1, sa2] = [build(K8sServiceAccount, { namespace: ns1, name: 'one-sa' }), build(K8sServiceAccount, { namespace: ns2, name: 'two-sa' })];
    await persist(server, env, cluster, ns1, ns2, sa1, sa2);
    const approved = { approvalState: UserApprovalState.ACCESS_APPROVED };
    const [p, q] = [await createUser(server, { ...approved, serviceAccount: sa1 }), await createUser(server, { ...approved, serviceAccount: sa2 })];
    const group = (await gql<{ createGroup: { id: string } }>('mutation { createGroup(input: { name: "portal users" }) { id } }')).createGroup.id;
    const input = { name: 'Dashboard', linkUrl: 'https://apps.example.com/{{namespace}}/{{serviceaccount}}', linkShow: true };
    const app = (await gql<{ createWebApp: { id: string } }>('mutation($i: CreateWebAppInput!) { createWebApp(input: $i) { id } }', { i: input })).createWebApp.id;
    await gql('mutation($g: ID!, $w: ID!) { addGroupWebApp(groupId: $g, webAppId: $w) { id } }', { g: group, w: app });
    for (const who of [p, q]) await gql('mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }', { g: group, u: who.id });
    await settleEvents(server);
    // the same grants: no env roles, the same group and web app
    const grants = await server.sql<{ identity: string; grants: unknown }>(
      `select distinct on (identity) identity, grants from grant_versions where identity in (?, ?) order by identity, cursor desc`,
      [`user:${p.id}`, `user:${q.id}`],
    );
    expect(grants).toHaveLength(2);
    expect(grants[0].grants).toEqual(grants[1].grants);
    const rename = (name: string) => gql('mutation($id: ID!, $i: UpdateWebAppInput!) { updateWebApp(id: $id, input: $i) { id } }', { id: app, i: { name } });

    // linkUrl is filled from the caller's service account
    const [fp, fq] = await subscribe('subscription { events(types: [WEB_APP]) { operation id node { ... on WebApp { name linkUrl } } } }', p, q);
    expect(await executed(() => rename('Dash'), [fp, fq], [1, 1])).toBe(2);
    expect(nodeOf(fp.changes[0]).linkUrl).toBe('https://apps.example.com/team-one/one-sa');
    expect(nodeOf(fq.changes[0]).linkUrl).toBe('https://apps.example.com/team-two/two-sa');

    // the template itself is the same for both
    const [tp, tq] = await subscribe('subscription { events(types: [WEB_APP]) { operation id node { ... on WebApp { name linkUrlTemplate } } } }', p, q);
    expect(await executed(() => rename('Dashboard'), [fp, fq, tp, tq], [1, 1, 1, 1])).toBe(3);
    expect(tp.changes[0]).toEqual(tq.changes[0]);
  });
});
