import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { EnvUserRole } from '../src/entities/enums.js';
import { startWorld, type World } from './support/deployment-world.js';
import { createUser } from './support/identities.js';
import type { TestServer } from './support/server.js';
import { Feed } from './support/subscriptions.js';

let server: TestServer;
let w: World;
let admin: Record<string, string>;
const feeds: Feed[] = [];

beforeAll(async () => {
  ({ server, w } = await startWorld());
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
