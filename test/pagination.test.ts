import { Deployment, DeploymentTask, Env, K8sCluster } from '../src/entities/index.js';
import { DeploymentTaskStatus } from '../src/entities/enums.js';
import { build, persist, seedFleet, type Fleet } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const DEPLOYMENTS = `query($first: Int, $after: String, $last: Int, $before: String, $filter: DeploymentFilter) {
  deployments(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    edges { cursor node { id name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}`;

const TASKS = `query($first: Int, $after: String, $last: Int, $before: String, $filter: DeploymentTaskFilter) {
  deploymentTasks(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    edges { cursor node { id executeAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}`;

type PageVars = { first?: number; after?: string; last?: number; before?: string; filter?: object };

let auth: Record<string, string>;
let fleet: Fleet;
/** the seeded deployments in created order */
let createdOrder: string[];
/** every seeded task, latest executeAt first (id descending on ties) */
let taskOrder: string[];

beforeAll(async () => {
  auth = await server.adminAuth();
  fleet = await seedFleet(server.em, { deployments: 23, clusters: 3, kinds: 2, tasksPerDeployment: 3, prefix: 'page' });
  createdOrder = fleet.deployments.map((d) => d.id);
  const tasks = await server.em.fork().find(DeploymentTask, {});
  taskOrder = tasks
    .sort((a, b) => b.executeAt.getTime() - a.executeAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .map((t) => t.id);
});

async function page(query: string, field: string, vars: PageVars): Promise<any> {
  const res = await server.gql<any, PageVars>(query, vars, auth);
  expect(res.errors).toBeUndefined();
  return res.data[field];
}

/** Checks startCursor/endCursor against the edges and returns the page's ids. */
function idsOf(connection: any): string[] {
  const edges = connection.edges as { cursor: string; node: { id: string } }[];
  expect(connection.pageInfo.startCursor).toBe(edges[0]?.cursor ?? null);
  expect(connection.pageInfo.endCursor).toBe(edges.at(-1)?.cursor ?? null);
  return edges.map((e) => e.node.id);
}

/** Walks first/after to the end, checking the page flags on the way; returns the pages' ids. */
async function walkForward(query: string, field: string, size: number, filter?: object): Promise<string[][]> {
  const pages: string[][] = [];
  let after: string | undefined;
  for (;;) {
    const conn = await page(query, field, { first: size, after, filter });
    const ids = idsOf(conn);
    pages.push(ids);
    expect(conn.pageInfo.hasPreviousPage).toBe(pages.length > 1);
    if (!conn.pageInfo.hasNextPage) break;
    expect(ids).toHaveLength(size);
    after = conn.pageInfo.endCursor;
    if (pages.length > 1000) throw new Error('does not end');
  }
  return pages;
}

/** Walks last/before to the start; returns the pages in the order fetched (last page first). */
async function walkBackward(query: string, field: string, size: number, filter?: object): Promise<string[][]> {
  const pages: string[][] = [];
  let before: string | undefined;
  for (;;) {
    const conn = await page(query, field, { last: size, before, filter });
    const ids = idsOf(conn);
    pages.push(ids);
    expect(conn.pageInfo.hasNextPage).toBe(pages.length > 1);
    if (!conn.pageInfo.hasPreviousPage) break;
    expect(ids).toHaveLength(size);
    before = conn.pageInfo.startCursor;
    if (pages.length > 1000) throw new Error('does not end');
  }
  return pages;
}

const chunks = <T>(list: T[], size: number) => Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, i * size + size));

async function expectBadInput(query: string, vars: PageVars, field: string): Promise<void> {
  const res = await server.gql<any, PageVars>(query, vars, auth);
  expect(res.data ?? null).toBeNull();
  expect(res.errors).toHaveLength(1);
  expect(res.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field });
}

const cursorOf = (values: unknown) => Buffer.from(JSON.stringify(values)).toString('base64url');

describe('keyset pagination of deployments (createdAt ascending)', () => {
  test('first/after walks every deployment exactly once, in created order, with correct page flags', async () => {
    const pages = await walkForward(DEPLOYMENTS, 'deployments', 5);
    expect(pages).toEqual(chunks(createdOrder, 5));
    expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
  });

  test('last/before walks the same pages from the end, each page in list order', async () => {
    const pages = await walkBackward(DEPLOYMENTS, 'deployments', 5);
    // from the end: 18-22, 13-17, 8-12, 3-7, 0-2
    const expected = [createdOrder.slice(18), createdOrder.slice(13, 18), createdOrder.slice(8, 13), createdOrder.slice(3, 8), createdOrder.slice(0, 3)];
    expect(pages).toEqual(expected);
    expect(pages.slice().reverse().flat()).toEqual(createdOrder);
  });

  test('hasNextPage is exact at the boundary: a page ending on the last row has no next page', async () => {
    const all = await page(DEPLOYMENTS, 'deployments', { first: 23 });
    expect(idsOf(all)).toEqual(createdOrder);
    expect(all.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    const short = await page(DEPLOYMENTS, 'deployments', { first: 22 });
    expect(short.pageInfo.hasNextPage).toBe(true);
    const rest = await page(DEPLOYMENTS, 'deployments', { first: 5, after: short.pageInfo.endCursor });
    expect(idsOf(rest)).toEqual([createdOrder[22]]);
    expect(rest.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const beyond = await page(DEPLOYMENTS, 'deployments', { first: 5, after: rest.pageInfo.endCursor });
    expect(beyond.edges).toEqual([]);
    expect(beyond.pageInfo).toMatchObject({ hasNextPage: false, startCursor: null, endCursor: null });

    const lastAll = await page(DEPLOYMENTS, 'deployments', { last: 23 });
    expect(idsOf(lastAll)).toEqual(createdOrder);
    expect(lastAll.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    const lastShort = await page(DEPLOYMENTS, 'deployments', { last: 22 });
    expect(idsOf(lastShort)).toEqual(createdOrder.slice(1));
    expect(lastShort.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });

  test('a cursor from the middle pages both ways around it, and before without last uses the default size', async () => {
    const head = await page(DEPLOYMENTS, 'deployments', { first: 10 });
    const cursor = head.edges[9].cursor; // row 9
    expect(idsOf(await page(DEPLOYMENTS, 'deployments', { first: 4, after: cursor }))).toEqual(createdOrder.slice(10, 14));
    const back = await page(DEPLOYMENTS, 'deployments', { last: 4, before: cursor });
    expect(idsOf(back)).toEqual(createdOrder.slice(5, 9));
    expect(back.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const allBefore = await page(DEPLOYMENTS, 'deployments', { before: cursor });
    expect(idsOf(allBefore)).toEqual(createdOrder.slice(0, 9));
    expect(allBefore.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    // after and before together: the rows strictly between
    const between = await page(DEPLOYMENTS, 'deployments', { first: 50, after: head.edges[2].cursor, before: cursor });
    expect(idsOf(between)).toEqual(createdOrder.slice(3, 9));
  });

  test('totalCount counts every matching row whatever the page, and respects the filter', async () => {
    expect((await page(DEPLOYMENTS, 'deployments', { first: 5 })).totalCount).toBe(23);
    const second = await page(DEPLOYMENTS, 'deployments', { first: 5 });
    expect((await page(DEPLOYMENTS, 'deployments', { first: 5, after: second.pageInfo.endCursor })).totalCount).toBe(23);
    expect((await page(DEPLOYMENTS, 'deployments', { last: 2 })).totalCount).toBe(23);

    const cluster0 = fleet.clusters[0].id;
    const inCluster0 = fleet.deployments.filter((d) => d.cluster.id === cluster0).map((d) => d.id);
    expect(inCluster0).toHaveLength(8);
    const filtered = await page(DEPLOYMENTS, 'deployments', { first: 3, filter: { clusterId: cluster0 } });
    expect(filtered.totalCount).toBe(8);
    const filteredPages = await walkForward(DEPLOYMENTS, 'deployments', 3, { clusterId: cluster0 });
    expect(filteredPages.flat()).toEqual(inCluster0);
    const backPages = await walkBackward(DEPLOYMENTS, 'deployments', 3, { clusterId: cluster0 });
    expect(backPages.reverse().flat()).toEqual(inCluster0);

    // app-1, app-10 … app-19
    const named = await page(DEPLOYMENTS, 'deployments', { first: 2, filter: { name: 'app-1' } });
    expect(named.totalCount).toBe(11);
    expect((await page(DEPLOYMENTS, 'deployments', { first: 2, filter: { name: 'nothing-like-this' } })).totalCount).toBe(0);
  });

  test('first: 0 returns no edges but still reports what follows and the count', async () => {
    const empty = await page(DEPLOYMENTS, 'deployments', { first: 0 });
    expect(empty.edges).toEqual([]);
    expect(empty.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null });
    expect(empty.totalCount).toBe(23);
    const lastEmpty = await page(DEPLOYMENTS, 'deployments', { last: 0 });
    expect(lastEmpty.edges).toEqual([]);
    expect(lastEmpty.pageInfo).toMatchObject({ hasPreviousPage: true, startCursor: null, endCursor: null });
  });

  test('the maximum page size (500) is accepted', async () => {
    const conn = await page(DEPLOYMENTS, 'deployments', { first: 500 });
    expect(idsOf(conn)).toEqual(createdOrder);
    expect(idsOf(await page(DEPLOYMENTS, 'deployments', { last: 500 }))).toEqual(createdOrder);
  });
});

describe('page arguments are validated', () => {
  test('first or last above 500 or negative is BAD_USER_INPUT naming the argument', async () => {
    await expectBadInput(DEPLOYMENTS, { first: 501 }, 'first');
    await expectBadInput(DEPLOYMENTS, { first: -1 }, 'first');
    await expectBadInput(DEPLOYMENTS, { last: 501 }, 'last');
    await expectBadInput(DEPLOYMENTS, { last: -5 }, 'last');
    await expectBadInput(TASKS, { first: 100_000 }, 'first');
  });

  test('first and last together are refused', async () => {
    const res = await server.gql<any, PageVars>(DEPLOYMENTS, { first: 5, last: 5 }, auth);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(['first', 'last']).toContain(res.errors?.[0]?.extensions?.field);
    expect(res.errors?.[0]?.message).toMatch(/first.*last|last.*first/);
  });

  test('a malformed cursor is BAD_USER_INPUT naming after or before, never an internal error', async () => {
    const realCursor = (await page(DEPLOYMENTS, 'deployments', { first: 1 })).edges[0].cursor as string;
    const malformed = [
      'not-a-cursor',
      '',
      '!!!',
      realCursor.slice(0, -4),
      cursorOf({ createdAt: 1 }),
      cursorOf(['only-one-value']),
      cursorOf([{ $date: '2024-01-01T00:00:00.000Z' }, fleet.deployments[0].id, 'extra']),
      cursorOf([{ $date: 'not a date' }, fleet.deployments[0].id]),
      cursorOf([{ $date: '-271821-04-20T00:00:00.000Z' }, fleet.deployments[0].id]),
      cursorOf(['not a date', fleet.deployments[0].id]),
      cursorOf([{ $date: '2024-01-01T00:00:00.000Z' }, 'not-a-uuid']),
      cursorOf([12, 34]),
      cursorOf([null, null]),
      cursorOf([{ nested: true }, fleet.deployments[0].id]),
    ];
    const outcome = async (query: string, vars: PageVars) => (await server.gql<any, PageVars>(query, vars, auth)).errors?.map((e) => e.extensions);
    const results: unknown[] = [];
    const expected: unknown[] = [];
    for (const cursor of malformed) {
      // the empty string is "no cursor"
      if (cursor === '') continue;
      const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
      results.push({ decoded, errors: await outcome(DEPLOYMENTS, { first: 5, after: cursor }) });
      results.push({ decoded, errors: await outcome(DEPLOYMENTS, { last: 5, before: cursor }) });
      results.push({ decoded, errors: await outcome(TASKS, { first: 5, after: cursor }) });
      expected.push(
        { decoded, errors: [{ code: 'BAD_USER_INPUT', field: 'after' }] },
        { decoded, errors: [{ code: 'BAD_USER_INPUT', field: 'before' }] },
        { decoded, errors: [{ code: 'BAD_USER_INPUT', field: 'after' }] },
      );
    }
    expect(results).toEqual(expected);
  });
});

describe('rows with identical sort keys', () => {
  let cluster: K8sCluster;
  let sameTimeIds: string[];

  beforeAll(async () => {
    const env = build(Env, { name: 'twins-env' });
    cluster = build(K8sCluster, { env, providerId: 'twins:cluster', name: 'twins-cluster', ignore: false, isOk: true });
    const at = new Date(Date.now() - 7_200_000);
    const earlier = new Date(at.getTime() - 1000);
    const later = new Date(at.getTime() + 1000);
    const twins = Array.from({ length: 9 }, (_, i) =>
      build(Deployment, { name: `twin-${i}`, cluster, kind: fleet.kinds[0], helmChart: fleet.charts[0], createdAt: new Date(at) }),
    );
    const first = build(Deployment, { name: 'twin-first', cluster, kind: fleet.kinds[0], helmChart: fleet.charts[0], createdAt: earlier });
    const last = build(Deployment, { name: 'twin-last', cluster, kind: fleet.kinds[0], helmChart: fleet.charts[0], createdAt: later });
    await persist(server, env, cluster, first, ...twins, last);
    sameTimeIds = [first.id, ...twins.map((t) => t.id).sort(), last.id];
  });

  test('deployments created in the same millisecond are paged by id, none skipped or repeated', async () => {
    const filter = { clusterId: cluster.id };
    for (const size of [1, 2, 3, 4]) {
      expect((await walkForward(DEPLOYMENTS, 'deployments', size, filter)).flat()).toEqual(sameTimeIds);
      expect((await walkBackward(DEPLOYMENTS, 'deployments', size, filter)).reverse().flat()).toEqual(sameTimeIds);
    }
    expect((await page(DEPLOYMENTS, 'deployments', { first: 1, filter })).totalCount).toBe(11);
  });

  test('tasks due at the same instant are paged newest first, id descending on ties', async () => {
    const deployment = await server.em.fork().findOneOrFail(Deployment, { name: 'twin-first' });
    const due = new Date(Date.now() - 600_000);
    const tasks = Array.from({ length: 7 }, (_, i) =>
      build(DeploymentTask, {
        deployment,
        cluster: deployment.cluster,
        operation: { Reinstall: { reason: `twin ${i}` } },
        status: DeploymentTaskStatus.Done,
        executeAt: new Date(due),
      }),
    );
    const newer = build(DeploymentTask, {
      deployment,
      cluster: deployment.cluster,
      operation: { Uninstall: {} },
      executeAt: new Date(due.getTime() + 5),
    });
    const older = build(DeploymentTask, {
      deployment,
      cluster: deployment.cluster,
      operation: { Uninstall: {} },
      executeAt: new Date(due.getTime() - 5),
    });
    await persist(server, older, ...tasks, newer);
    const expected = [newer.id, ...tasks.map((t) => t.id).sort().reverse(), older.id];
    const filter = { deploymentId: deployment.id };
    for (const size of [1, 2, 4]) {
      expect((await walkForward(TASKS, 'deploymentTasks', size, filter)).flat()).toEqual(expected);
      expect((await walkBackward(TASKS, 'deploymentTasks', size, filter)).reverse().flat()).toEqual(expected);
    }
  });
});

describe('descending order: deployment tasks by executeAt', () => {
  test('forward and backward walks agree with executeAt descending', async () => {
    const forward = (await walkForward(TASKS, 'deploymentTasks', 7, { clusterId: fleet.clusters[1].id })).flat();
    const inCluster = new Set((await server.em.fork().find(DeploymentTask, { cluster: fleet.clusters[1].id })).map((t) => t.id));
    expect(forward).toEqual(taskOrder.filter((id) => inCluster.has(id)));
    const backward = (await walkBackward(TASKS, 'deploymentTasks', 7, { clusterId: fleet.clusters[1].id })).reverse().flat();
    expect(backward).toEqual(forward);
  });

  test('executeAt values on each page are non-increasing across the whole walk', async () => {
    const seen: number[] = [];
    let after: string | undefined;
    for (;;) {
      const conn = await page(TASKS, 'deploymentTasks', { first: 13, after, filter: { envId: fleet.env.id } });
      seen.push(...conn.edges.map((e: any) => new Date(e.node.executeAt).getTime()));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(69);
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
  });

  test('without first or last a page holds 50 rows (the default)', async () => {
    const conn = await page(TASKS, 'deploymentTasks', { filter: { envId: fleet.env.id } });
    expect(conn.totalCount).toBe(69);
    expect(idsOf(conn)).toEqual(taskOrder.slice(0, 50));
    expect(conn.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const rest = await page(TASKS, 'deploymentTasks', { after: conn.pageInfo.endCursor, filter: { envId: fleet.env.id } });
    expect(idsOf(rest)).toEqual(taskOrder.slice(50, 69));
    expect(rest.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const deployments = await page(DEPLOYMENTS, 'deployments', { filter: { envId: fleet.env.id } });
    expect(deployments.edges).toHaveLength(23);
    expect(deployments.pageInfo.hasNextPage).toBe(false);
  });
});

describe('rows written outside the ORM', () => {
  test('timestamps with sub-millisecond digits (SQL defaults, imported data) are paged without repeats', async () => {
    for (let i = 0; i < 4; i++) {
      await server.sql(`insert into bots (id, display_name, created_at) values (?, ?, ?::timestamptz)`, [
        crypto.randomUUID(),
        `micro-bot-${i}`,
        `2024-05-01T10:00:00.12345${i}Z`,
      ]);
    }
    await server.sql(`insert into bots (id, display_name) values (?, 'micro-bot-now')`, [crypto.randomUUID()]);
    const BOTS = `query($first: Int, $after: String, $last: Int, $before: String, $filter: BotFilter) {
      bots(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
        edges { cursor node { id displayName } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } }`;
    const all = idsOf(await page(BOTS, 'bots', { first: 50, filter: { displayName: 'micro-bot' } }));
    expect(all).toHaveLength(5);
    expect((await walkForward(BOTS, 'bots', 1, { displayName: 'micro-bot' })).flat()).toEqual(all);
    expect((await walkBackward(BOTS, 'bots', 1, { displayName: 'micro-bot' })).reverse().flat()).toEqual(all);
  });
});
