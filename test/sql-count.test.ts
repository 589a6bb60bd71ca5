import { EnvUserRole, UserDeploymentRole } from '../src/entities/enums.js';
import { DeploymentsWithRelationsDocument, type DeploymentsWithRelationsQuery } from './generated/graphql.js';
import { seedFleet, type Fleet } from './support/fixtures.js';
import { createUser, grantEnvRole, grantKindRole, type Caller } from './support/identities.js';
import type { GraphQLResponse } from './support/server.js';
import { startTestServer, type TestServer } from './support/server.js';
import { sqlLog } from './support/sql-log.js';
import { engineName } from './support/database.js';

/** Every SQL statement the server runs but the event hub's polls (see sqlLog). */
const log = sqlLog();
let server: TestServer;
let fleet: Fleet;
let envUser: Caller;
let maintainer: Caller;

beforeAll(async () => {
  server = await startTestServer({}, { ormOverrides: log.ormOverrides });
  fleet = await seedFleet(server.em, { deployments: 60, clusters: 7, kinds: 4, tasksPerDeployment: 3 });
  [envUser, maintainer] = await Promise.all([createUser(server), createUser(server)]);
  await grantEnvRole(server, fleet.env.id, { userId: envUser.id }, EnvUserRole.User);
  // a kind role alone shows every deployment of its env
  await grantKindRole(server, fleet.env.id, fleet.kinds[0].id, { userId: maintainer.id }, UserDeploymentRole.Maintainer);
});
afterAll(() => server?.stop());

/**
 * Runs a request and returns the statements it caused, each reduced to the table it reads first
 * ("berth_grants" for the caller's grants).
 */
async function tablesRead(run: () => Promise<unknown>, headers?: Record<string, string>): Promise<string[]> {
  // log in and use the credential once first, so neither the login nor resolving the caller is counted
  await server.gql('{ serverInfo { version } }', {}, headers ?? (await server.adminAuth()));
  log.clear();
  await run();
  return log
    .statements()
    .filter((s) => /\bselect\b/i.test(s))
    .map((s) => (/\bberth_grants\(/.test(s) ? 'berth_grants' : (/\bfrom\s+"?(\w+)"?/i.exec(s)?.[1] ?? s)))
    .sort();
}

test('50 deployments with cluster, env, kind, chart and latest task: one statement per list level, the to-one relations joined', async () => {
  const auth = await server.adminAuth();
  let body: Awaited<ReturnType<typeof server.gql<DeploymentsWithRelationsQuery, unknown>>> | undefined;
  const tables = await tablesRead(async () => {
    body = await server.gql(DeploymentsWithRelationsDocument, { first: 50 }, auth);
  });
  expect(body?.errors).toBeUndefined();
  const nodes = body!.data!.deployments.edges.map((e) => e.node);
  expect(nodes).toHaveLength(50);
  expect(nodes.every((n) => n.cluster.env?.name === 'fleet-env' && n.env?.id && n.kind.name && n.helmChart.imageTag && n.latestTask?.status === 'Pending')).toBe(true);
  // one statement per list level: the to-one relations and the latest task are read with the deployments
  expect(tables).toEqual(['deployments']);
});

test('nested lists stay batched: clusters → deployments → tasks(first: 2) → acting user', async () => {
  const auth = await server.adminAuth();
  let body: any;
  const tables = await tablesRead(async () => {
    body = await server.gql(`{ k8sClusters { edges { node { name deployments { name tasks(first: 2) { id actingUser { id } } } } } } }`, undefined, auth);
  });
  expect(body.errors).toBeUndefined();
  const deployments = body.data.k8sClusters.edges.flatMap((e: any) => e.node.deployments);
  expect(deployments).toHaveLength(60);
  expect(deployments.every((d: any) => d.tasks.length === 2)).toBe(true);
  // no acting users in the fleet, so that loader never runs
  expect(tables).toEqual(['deployment_tasks', 'deployments', 'k8s_clusters']);
});

describe.each([
  ['an env User', () => envUser],
  ['a kind Maintainer', () => maintainer],
])('%s listing deployments with relations', (_, caller) => {
  test.each([5, 50])('%i deployments: one statement per list level, plus the caller\'s grants unless cached', async (first) => {
    const { headers } = caller();
    let body: GraphQLResponse<DeploymentsWithRelationsQuery> | undefined;
    const tables = await tablesRead(async () => {
      body = await server.gql(DeploymentsWithRelationsDocument, { first }, headers);
    }, headers);
    expect(body?.errors).toBeUndefined();
    const nodes = body!.data!.deployments.edges.map((e) => e.node);
    expect(nodes).toHaveLength(first);
    expect(nodes.every((n) => n.cluster.env?.name === 'fleet-env' && n.env?.id === fleet.env.id && n.kind.name && n.helmChart.imageTag && n.latestTask?.status === 'Pending')).toBe(true);
    // every level is scoped in SQL: the same statements for 5 rows as for 50, and as for a site admin
    expect(tables.filter((t) => t !== 'berth_grants')).toEqual(['deployments']);
    // the cluster and its env are in the visible deployment's env: only the latest task (whose cluster may be
    // another env's, after a move) is checked again, correlated to its row so a long task history costs nothing
    const [list] = log.statements().filter((s) => /\bfrom\s+"?deployments"?/i.test(s));
    expect(list.match(/\bexists \(select 1 from "(\w+)"/g)).toEqual(['exists (select 1 from "deployment_tasks"']);
    expect(list).toMatch(/"s"\."id" = r\d+\."id"/);
  });
});

test('a list reads only the columns its selection shows, at every level', async () => {
  const auth = await server.adminAuth();
  log.clear();
  const body = await server.gql<any, unknown>('{ deployments(first: 5) { edges { node { name kind { name } latestTask { status } } } } }', {}, auth);
  expect(body.errors).toBeUndefined();
  expect(body.data.deployments.edges.every((e: any) => e.node.kind.name && e.node.latestTask.status === 'Pending')).toBe(true);
  const [list, ...others] = log.statements().filter((s) => /\bfrom\s+"?deployments"?/i.test(s));
  expect(others).toEqual([]);
  // p, the page, holds only the columns chosen for it
  expect(list.replace('select p.*', '')).not.toMatch(/\*/);
  // what is not selected stays in the database: the deployment's config, the kind's and the task's other columns
  for (const column of ['config', 'values_override', 'reported_status', 'description_md', 'operation', 'cluster_id']) expect(list).not.toContain(`"${column}"`);
});

test('a field with a resolver of its own reads whole rows below it: a deployment\'s env beside its cluster\'s', async () => {
  const auth = await server.adminAuth();
  const body = await server.gql<any, unknown>('{ deployments(first: 3) { edges { node { env { id name } cluster { env { id } } } } } }', {}, auth);
  expect(body.errors).toBeUndefined();
  for (const { node } of body.data.deployments.edges) {
    expect(node.env).toEqual({ id: fleet.env.id, name: 'fleet-env' });
    expect(node.cluster.env).toEqual({ id: fleet.env.id });
  }
});

// PostgreSQL plans a prepared statement once per connection; the embedded engine has no pool to prepare on
(engineName() === 'postgres' ? test : test.skip)('a table changed under a prepared read statement (a newer replica\'s migration) does not break the read', async () => {
  const auth = await server.adminAuth();
  // tasks per deployment: a statement selecting every column of deployment_tasks, prepared on the pool's connections
  const query = '{ deployments(first: 3) { edges { node { id tasks(first: 1) { id status } } } } }';
  const first = await server.gql<any, unknown>(query, {}, auth);
  expect(first.errors).toBeUndefined();
  for (let i = 0; i < 5; i++) await server.gql(query, {}, auth);
  await server.em.getConnection().execute('alter table deployment_tasks add column read_sql_probe text');
  try {
    for (let i = 0; i < 12; i++) {
      const again = await server.gql<any, unknown>(query, {}, auth);
      expect(again.errors).toBeUndefined();
      expect(again.data).toEqual(first.data);
    }
  } finally {
    await server.em.getConnection().execute('alter table deployment_tasks drop column read_sql_probe');
  }
});

test("an env User's grants are read once, kept with the credential, and read again after a grant changes", async () => {
  const caller = await createUser(server);
  await grantEnvRole(server, fleet.env.id, { userId: caller.id }, EnvUserRole.User);
  const list = () => server.gql(DeploymentsWithRelationsDocument, { first: 5 }, caller.headers);
  expect(await tablesRead(list, caller.headers)).toContain('berth_grants');
  expect(await tablesRead(list, caller.headers)).not.toContain('berth_grants');
  // a write through Berth empties the cache at its commit
  const created = await server.gql<{ createEnv: { id: string } }, unknown>('mutation { createEnv(input: { name: "sql-count-env" }) { id } }', {}, await server.adminAuth());
  expect(created.errors).toBeUndefined();
  expect(await tablesRead(list, caller.headers)).toContain('berth_grants');
});
