import { DeploymentsWithRelationsDocument, type DeploymentsWithRelationsQuery } from './generated/graphql.js';
import { seedFleet } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/server.js';

/** Every SQL statement the server runs, as MikroORM logs it. */
const statements: string[] = [];
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({}, { ormOverrides: { debug: ['query'], logger: (message: string) => statements.push(message) } });
  await seedFleet(server.em, { deployments: 60, clusters: 7, kinds: 4, tasksPerDeployment: 3 });
});
afterAll(() => server?.stop());

/** Runs a request and returns the statements it caused, each reduced to the table it reads first. */
async function tablesRead(run: () => Promise<unknown>): Promise<string[]> {
  // log in and use the token once first, so neither the login nor resolving the caller is counted
  await server.gql('{ serverInfo { version } }', {}, await server.adminAuth());
  statements.length = 0;
  await run();
  return statements
    .filter((s) => /\bselect\b/i.test(s))
    .map((s) => /\bfrom\s+"(\w+)"/i.exec(s)?.[1] ?? s)
    .sort();
}

test('50 deployments with cluster, env, kind, chart and latest task: one statement per list level', async () => {
  const auth = await server.adminAuth();
  let body: Awaited<ReturnType<typeof server.gql<DeploymentsWithRelationsQuery, unknown>>> | undefined;
  const tables = await tablesRead(async () => {
    body = await server.gql(DeploymentsWithRelationsDocument, { first: 50 }, auth);
  });
  expect(body?.errors).toBeUndefined();
  const nodes = body!.data!.deployments.edges.map((e) => e.node);
  expect(nodes).toHaveLength(50);
  expect(nodes.every((n) => n.cluster.env?.name === 'fleet-env' && n.env?.id && n.kind.name && n.helmChart.imageTag && n.latestTask?.status === 'Pending')).toBe(true);
  // exactly one statement per level
  expect(tables).toEqual(['deployment_kinds', 'deployment_tasks', 'deployments', 'envs', 'helm_charts', 'k8s_clusters']);
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
