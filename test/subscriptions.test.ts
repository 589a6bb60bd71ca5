import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { EnvUserRole } from '../src/entities/enums.js';
import { startWorld, type World } from './support/deployment-world.js';
import { createUser } from './support/identities.js';
import type { TestServer } from './support/server.js';
import { Feed, waitFor } from './support/subscriptions.js';

let server: TestServer;
let w: World;
let admin: Record<string, string>;
const feeds: Feed[] = [];

beforeAll(async () => {
  // pruning runs on its own timer every second here (events are pruned only once past the 24 h retention)
  ({ server, w } = await startWorld({ EVENT_PRUNE_SECONDS: '1' }));
  admin = await server.adminAuth();
});

afterAll(async () => {
  await Promise.all(feeds.map((f) => f.dispose()));
  await server.stop();
});

function feed(headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}): Feed {
  const f = new Feed(server.berth.wsUrl, headers, query, variables);
  feeds.push(f);
  return f;
}

const DEPLOYMENT_EVENTS = `subscription($env: ID, $since: String) {
  deploymentEvents(env: $env, since: $since) { operation cursor id deployment { id name enabled } }
}`;

async function createDeployment(name: string, clusterId = w.cluster.id) {
  const res = await server.gql<{ createDeployment: { id: string } }, object>(
    `mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { id } }`,
    { input: { name, kindId: w.app.id, clusterId, helmChartId: w.appChart.id, config: { replicas: 1 } } },
    admin,
  );
  expect(res.errors).toBeUndefined();
  return res.data!.createDeployment.id;
}

describe('deploymentEvents', () => {
  test('opens with a snapshot of the current deployments, then the LIVE marker, then changes', async () => {
    const before = await createDeployment('snap-before');
    const f = feed(admin, DEPLOYMENT_EVENTS, { env: w.env.id });
    await f.live();
    const live = f.messages.findIndex((m) => m.operation === 'LIVE');
    expect(f.messages.slice(0, live).map((m) => [m.operation, m.id])).toContainEqual(['SNAPSHOT', before]);
    const after = await createDeployment('snap-after');
    await f.until((x) => x.changes.some((m) => m.id === after));
    expect(f.changes.find((m) => m.id === after)).toMatchObject({ operation: 'INSERT', deployment: { id: after, name: 'snap-after' } });
    expect(Number(f.changes[0].cursor)).toBeGreaterThan(Number(f.messages[live].cursor));
  });
});

async function grantEnvUser(envId: string, userId: string): Promise<string> {
  const res = await server.gql<{ createEnvUserPermission: { id: string } }, object>(
    `mutation($input: CreateEnvUserPermissionInput!) { createEnvUserPermission(input: $input) { id } }`,
    { input: { envId, userId, role: EnvUserRole.User } },
    admin,
  );
  expect(res.errors).toBeUndefined();
  return res.data!.createEnvUserPermission.id;
}

describe('scope', () => {
  test('a user without a role in the env receives nothing of it; a grant brings the env in (ENTER), a revocation takes it out (LEAVE)', async () => {
    const newcomer = await createUser(server);
    const f = feed(newcomer.headers, DEPLOYMENT_EVENTS);
    await f.live();
    expect(f.messages).toEqual([expect.objectContaining({ operation: 'LIVE' })]);

    const unseen = await createDeployment('scope-unseen');
    // a change in an env the newcomer sees nothing of, then the grant itself
    const permission = await grantEnvUser(w.env.id, newcomer.id);
    const seen = await createDeployment('scope-seen');
    await f.until((x) => x.changes.some((m) => m.id === seen));
    const [{ count }] = await server.sql<{ count: number }>(
      'select count(*)::int as count from deployments d join k8s_clusters c on c.id = d.cluster_id where c.env_id = ? and d.id <> ?',
      [w.env.id, seen],
    );
    // what the env held at the grant enters, at the grant's cursor; the change before it is not sent
    const entered = f.changes.slice(0, -1);
    expect(entered.map((m) => m.operation)).toEqual(Array(count).fill('ENTER'));
    expect(new Set(entered.map((m) => m.cursor.split('.')[0])).size).toBe(1);
    expect(entered.find((m) => m.id === unseen)).toMatchObject({ deployment: { id: unseen, name: 'scope-unseen' } });
    expect(f.changes.at(-1)).toMatchObject({ operation: 'INSERT', deployment: { id: seen, name: 'scope-seen' } });

    // and stops again when the role is taken away: everything it held leaves
    const revoke = await server.gql(`mutation($id: ID!) { deleteEnvUserPermission(id: $id) }`, { id: permission }, admin);
    expect(revoke.errors).toBeUndefined();
    await f.until((x) => x.changes.filter((m) => m.operation === 'LEAVE').length === count + 1);
    expect(f.changes.slice(count + 1).map((m) => [m.operation, m.deployment])).toEqual(f.changes.slice(0, count + 1).map(() => ['LEAVE', null]));
    const hidden = await createDeployment('scope-hidden');
    // a change the newcomer does see, in another env: events reach a stream in order, so `hidden` would have come first
    await grantEnvUser(w.otherEnv.id, newcomer.id);
    const elsewhere = await createDeployment('scope-elsewhere', w.otherCluster.id);
    await f.until((x) => x.changes.some((m) => m.id === elsewhere));
    expect(f.changes.map((m) => m.id)).not.toContain(hidden);
    expect(f.changes.at(-1)).toMatchObject({ operation: 'INSERT', id: elsewhere });
  });

  test('an env User of another env gets none of this env, in the snapshot or live; filters narrow what is visible', async () => {
    const outsider = w.callers.outsider;
    const inProd = await createDeployment('scope-prod');
    const inStaging = await createDeployment('scope-staging', w.otherCluster.id);
    const f = feed(outsider.headers, DEPLOYMENT_EVENTS);
    await f.live();
    const snapshot = f.messages.filter((m) => m.operation === 'SNAPSHOT').map((m) => m.id);
    expect(snapshot).toContain(inStaging);
    expect(snapshot).not.toContain(inProd);
    // asking for prod by filter does not widen anything
    const narrowed = feed(outsider.headers, DEPLOYMENT_EVENTS, { env: w.env.id });
    await narrowed.live();
    expect(narrowed.messages.map((m) => m.operation)).toEqual(['LIVE']);
  });

  test('the general feed follows the chosen types; a DELETE carries the id alone', async () => {
    const f = feed(admin, `subscription { events(types: [ENV]) { operation cursor type id node { __typename ... on Env { name } } } }`);
    await f.live();
    const created = await server.gql<{ createEnv: { id: string } }, object>(`mutation { createEnv(input: { name: "feed-env" }) { id } }`, {}, admin);
    const envId = created.data!.createEnv.id;
    await createDeployment('feed-ignored');
    await server.gql(`mutation($id: ID!) { deleteEnv(id: $id) }`, { id: envId }, admin);
    await f.until((x) => x.changes.some((m) => m.operation === 'DELETE' && m.id === envId));
    expect(f.changes.filter((m) => m.id === envId).map(({ operation, type, node }) => ({ operation, type, node }))).toEqual([
      { operation: 'INSERT', type: 'ENV', node: expect.objectContaining({ __typename: 'Env' }) },
      { operation: 'DELETE', type: 'ENV', node: null },
    ]);
    expect(f.changes.every((m) => m.type === 'ENV')).toBe(true);
  });
});

describe('resume', () => {
  test('reconnecting with the last cursor after a forced disconnect delivers every change made meanwhile, exactly once', async () => {
    const first = feed(admin, DEPLOYMENT_EVENTS, { env: w.env.id });
    await first.live();
    const before = await createDeployment('resume-before');
    await first.until((x) => x.changes.some((m) => m.id === before));
    const cursor = first.lastCursor;
    await first.dispose(); // the connection drops

    const missed = [];
    for (const name of ['resume-1', 'resume-2', 'resume-3']) missed.push(await createDeployment(name));
    await server.gql(`mutation($id: ID!) { updateDeployment(id: $id, input: { enabled: false }) { id } }`, { id: missed[0] }, admin);

    const resumed = feed(admin, DEPLOYMENT_EVENTS, { env: w.env.id, since: cursor });
    await resumed.live();
    const later = await createDeployment('resume-later');
    await resumed.until((x) => x.changes.some((m) => m.id === later));
    const replayed = resumed.messages.filter((m) => m.operation !== 'LIVE');
    // the deployment's own events, in commit order: three inserts, one update, then the live one; no SNAPSHOT, nothing twice
    expect(replayed.map((m) => [m.operation, m.id])).toEqual([
      ['INSERT', missed[0]],
      ['INSERT', missed[1]],
      ['INSERT', missed[2]],
      ['UPDATE', missed[0]],
      ['INSERT', later],
    ]);
    const cursors = replayed.map((m) => Number(m.cursor));
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(cursors[0]).toBeGreaterThan(Number(cursor));
  });

  test('a malformed cursor or one ahead of the log is BAD_USER_INPUT; an anonymous subscriber is UNAUTHENTICATED', async () => {
    for (const since of ['abc', '-1', '99999999999']) {
      const f = feed(admin, DEPLOYMENT_EVENTS, { since });
      await f.until((x) => x.errors.length > 0, `an error for since=${since}`);
      expect(f.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'since' }) })]);
    }
    const anonymous = feed({}, DEPLOYMENT_EVENTS);
    await anonymous.until((x) => x.errors.length > 0, 'an error');
    expect(anonymous.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })]);
  });

  test('pruning, on its timer, drops events past the retention window; resuming from before them is CURSOR_EXPIRED, from after them works', async () => {
    const old = await createDeployment('prune-old');
    const [{ cutoff }] = await server.sql<{ cutoff: number }>('select max(cursor)::int as cutoff from events');
    const kept = await createDeployment('prune-kept');
    await server.sql(`update events set created_at = now() - interval '25 hours' where cursor <= ?`, [cutoff]);
    // the hub's next pruning round takes them
    await waitFor(async () => (await server.sql('select 1 from events where cursor <= ? limit 1', [cutoff])).length === 0, 'the pruning round');
    await waitFor(async () => (await server.sql("select 1 from settings where key = 'events_pruned_through' and value::bigint >= ?", [cutoff])).length === 1, 'the pruned cursor');

    const expired = feed(admin, DEPLOYMENT_EVENTS, { since: String(cutoff - 1) });
    await expired.until((x) => x.errors.length > 0, 'an error');
    expect(expired.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'CURSOR_EXPIRED', field: 'since' }) })]);

    const resumed = feed(admin, DEPLOYMENT_EVENTS, { since: String(cutoff) });
    await resumed.live();
    expect(resumed.messages.map((m) => m.id)).toContain(kept);
    expect(resumed.messages.map((m) => m.id)).not.toContain(old);
  });
});

describe('shared execution', () => {
  test('subscribers with the same document share results only within one identity: relations stay as each may see them', async () => {
    const grantee = await createUser(server);
    const query = `subscription { events(types: [ENV_USER_PERMISSION]) { operation id node { ... on EnvUserPermission { user { id } } } } }`;
    // env Admins see every user; an env User sees itself and lower auth levels only, so not the grantee
    const admins = [feed(w.callers.envAdmin.headers, query), feed(w.callers.envAdmin.headers, query)];
    const user = feed(w.callers.envUser.headers, query);
    await Promise.all([...admins, user].map((f) => f.live()));
    const permission = await grantEnvUser(w.env.id, grantee.id);
    await Promise.all([...admins, user].map((f) => f.until((x) => x.changes.some((m) => m.id === permission))));
    for (const f of admins) expect(f.changes.find((m) => m.id === permission)).toMatchObject({ operation: 'INSERT', node: { user: { id: grantee.id } } });
    expect(user.changes.find((m) => m.id === permission)).toMatchObject({ operation: 'INSERT', node: { user: null } });
  });
});
