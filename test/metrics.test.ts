import { afterAll, beforeAll, expect, test } from '@jest/globals';
import WebSocket from 'ws';
import { createDeployment, watchedCluster } from './support/deployments.js';
import { startKubeApiDouble, type KubeApiDouble } from './support/kube-api/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { Feed, waitFor } from './support/subscriptions.js';

/**
 * GET /metrics, scraped as Prometheus would: a server watching a cluster (the API server double), running a
 * deployment's task, answering GraphQL over HTTP and holding WebSockets; every series the issue names appears.
 */
const TOKEN = 'a-metrics-token-for-tests';
let server: TestServer;
let double: KubeApiDouble;
let admin: Record<string, string>;
let clusterName: string;
let kindName: string;
let feed: Feed;
let platzSocket: WebSocket;

type Sample = { name: string; labels: Record<string, string>; value: number };

/** Prometheus text to samples: `name{label="value",…} number`, comments skipped. */
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k, v]));
      return { name: match[1], labels, value: Number(match[3]) };
    });
}

const scrape = (headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) => fetch(new URL('/metrics', server.berth.url), { headers });

async function samples(): Promise<Sample[]> {
  const res = await scrape();
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

/** The samples of `name` whose labels include `labels`. */
const find = (all: Sample[], name: string, labels: Record<string, string> = {}) =>
  all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const value = (all: Sample[], name: string, labels: Record<string, string> = {}) => {
  const found = find(all, name, labels);
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0].value;
};

beforeAll(async () => {
  double = await startKubeApiDouble({ helmController: { delayMs: 30 } });
  server = await startTestServer({ K8S_WATCH: 'true', TASK_WORKER: 'true', TASK_POLL_MS: '200', METRICS_TOKEN: TOKEN });
  admin = await server.adminAuth();
  const { clusterId } = await watchedCluster(server, admin, double, 'metrics');
  [{ name: clusterName }] = await server.sql<{ name: string }>('select name from k8s_clusters where id = ?', [clusterId]);

  feed = new Feed(server.berth.wsUrl, admin, 'subscription { deploymentEvents { operation deployment { status } } }');
  await feed.live();
  platzSocket = new WebSocket(new URL('/api/v2/ws', server.berth.wsUrl), { headers: admin });
  await new Promise((resolve, reject) => platzSocket.once('open', resolve).once('error', reject));

  const { id } = await createDeployment(server, admin, clusterId, 'web');
  [{ name: kindName }] = await server.sql<{ name: string }>('select k.name from deployments d join deployment_kinds k on k.id = d.kind_id where d.id = ?', [id]);
  await waitFor(async () => (await server.sql<{ status: string }>('select status from deployments where id = ?', [id]))[0].status === 'Running', 'the deployment Running');
  await waitFor(async () => (await server.sql('select 1 from k8s_resources where deployment_id = ?', [id])).length > 0, 'its objects mirrored');
  await feed.until((f) => f.changes.some((c: any) => c.deployment?.status === 'Running'), 'Running streamed');
});

afterAll(async () => {
  platzSocket?.terminate();
  await feed?.dispose();
  await server?.stop();
  await double?.close();
});

test('every series: requests, operations, sockets, subscriptions, events, pool, clusters, tasks, deployments', async () => {
  expect((await server.gql('query Viewer { me { ... on User { id } } }', {}, admin)).errors).toBeUndefined();
  expect((await server.gql('mutation Refused { createEnv(input: { name: "nope" }) { id } }')).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  expect((await server.gql('query { nope }', {}, { accept: 'application/graphql-response+json' })).errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  expect((await server.gql(`query ${'N'.repeat(65)} { __typename }`)).errors).toBeUndefined();
  expect((await fetch(new URL('/healthz', server.berth.url))).status).toBe(200);
  expect((await fetch(new URL('/nowhere/9f1c2b7e-0000-4000-8000-000000000000', server.berth.url))).status).toBe(404);
  const missingEnv = '/api/v2/envs/9f1c2b7e-0000-4000-8000-000000000000';
  expect((await fetch(new URL(missingEnv, server.berth.url), { headers: admin })).status).toBe(404);
  expect((await fetch(new URL(missingEnv.replace('envs', 'k8s-clusters'), server.berth.url), { headers: admin })).status).toBe(404);
  expect((await fetch(new URL('/api/v2/envs/not-an-id', server.berth.url), { headers: admin })).status).toBe(400);
  expect((await fetch(new URL('/api/v2/envs?per_page=5', server.berth.url), { headers: admin })).status).toBe(200);
  expect((await fetch(new URL('/api/v2/envs', server.berth.url), { method: 'POST', body: '{"name":"metrics"}', headers: { 'content-type': 'application/json' } })).status).toBe(401);
  expect((await fetch(new URL('/api/v2/nowhere/9f1c2b7e-0000-4000-8000-000000000000', server.berth.url), { method: 'POST' })).status).toBe(404);

  const all = await samples();
  const graphql = { method: 'POST', route: '/graphql' };
  expect(value(all, 'berth_http_request_duration_seconds_count', { ...graphql, status: '200' })).toBeGreaterThanOrEqual(1);
  expect(value(all, 'berth_http_request_duration_seconds_count', { ...graphql, status: '400' })).toBeGreaterThanOrEqual(1);
  expect(value(all, 'berth_http_request_duration_seconds_count', { method: 'GET', route: '/healthz', status: '200' })).toBe(1);
  expect(value(all, 'berth_http_request_duration_seconds_count', { method: 'GET', route: 'other', status: '404' })).toBe(1);
  expect(value(all, 'berth_http_request_duration_seconds_bucket', { ...graphql, status: '200', le: '+Inf' })).toBeGreaterThanOrEqual(1);
  // REST routes by their template, whatever the id or query; a 400 or 401 is its route's too; a path no route matches stays other
  const rest = (method: string, route: string, status: string) => value(all, 'berth_http_request_duration_seconds_count', { method, route, status });
  expect(rest('GET', '/api/v2/envs/:id', '404')).toBe(1);
  expect(rest('GET', '/api/v2/k8s-clusters/:id', '404')).toBe(1);
  expect(rest('GET', '/api/v2/envs/:id', '400')).toBe(1);
  expect(rest('GET', '/api/v2/envs', '200')).toBe(1);
  expect(rest('POST', '/api/v2/envs', '401')).toBe(1);
  expect(rest('POST', 'other', '404')).toBe(1);

  const operation = (labels: Record<string, string>) => value(all, 'berth_graphql_operation_duration_seconds_count', labels);
  expect(operation({ operation: 'Viewer', type: 'query', outcome: 'ok' })).toBe(1);
  expect(operation({ operation: 'Refused', type: 'mutation', outcome: 'client_error' })).toBe(1);
  expect(operation({ operation: 'unknown', type: 'unknown', outcome: 'client_error' })).toBe(1);
  expect(operation({ operation: 'other', type: 'query', outcome: 'ok' })).toBe(1);

  expect(value(all, 'berth_websocket_connections', { endpoint: '/graphql' })).toBe(1);
  expect(value(all, 'berth_websocket_connections', { endpoint: '/api/v2/ws' })).toBe(1);
  expect(value(all, 'berth_graphql_subscriptions', { field: 'deploymentEvents' })).toBe(1);
  expect(value(all, 'berth_event_hub_subscribers')).toBe(2);
  expect(value(all, 'berth_events_delivered_total')).toBeGreaterThan(0);
  expect(value(all, 'berth_event_hub_lag')).toBeGreaterThanOrEqual(0);

  expect(value(all, 'platz_db_pool_connections')).toBeGreaterThanOrEqual(1);
  expect(value(all, 'berth_db_pool_max_connections')).toBeGreaterThanOrEqual(1);
  if (process.env.TEST_DATABASE_URL) {
    expect(value(all, 'platz_db_pool_idle_connections')).toBeGreaterThanOrEqual(0);
    expect(value(all, 'berth_db_pool_waiting_requests')).toBeGreaterThanOrEqual(0);
  }

  expect(value(all, 'berth_cluster_watch_healthy', { cluster_name: clusterName })).toBe(1);
  expect(value(all, 'berth_cluster_mirrored_objects', { cluster_name: clusterName, kind: 'Deployment' })).toBeGreaterThan(0);

  for (const state of ['due', 'scheduled', 'running']) expect(value(all, 'berth_task_queue_depth', { state })).toBe(0);
  expect(value(all, 'berth_task_outcomes_total', { outcome: 'done' })).toBe(1);
  expect(value(all, 'berth_task_outcomes_total', { outcome: 'failed' })).toBe(0);
  expect(value(all, 'platz_deployment_task_status_counter', { task_status: 'Done' })).toBe(1);
  expect(value(all, 'platz_deployment_task_status_counter', { task_status: 'Pending' })).toBe(0);
  const deployments = { deployment_kind: kindName, cluster_name: clusterName };
  expect(value(all, 'platz_deployment_status_counter', { ...deployments, deployment_status: 'Running' })).toBe(1);
  expect(value(all, 'platz_deployment_status_counter', { ...deployments, deployment_status: 'Error' })).toBe(0);

  expect(find(all, 'process_cpu_user_seconds_total')).toHaveLength(1);
  expect(find(all, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
});

test('no label value carries an id', async () => {
  const all = await samples();
  const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
  expect(all.flatMap((s) => Object.values(s.labels)).filter((v) => uuid.test(v))).toEqual([]);
});

test('a task waiting shows in the queue; a subscription that ends leaves the count', async () => {
  const [resource] = await server.sql<{ id: string; name: string; deployment_id: string }>("select id, name, deployment_id from k8s_resources where kind = 'Deployment' limit 1");
  const res = await server.gql<any, object>(
    `mutation($input: CreateDeploymentTaskInput!) { createDeploymentTask(input: $input) { id } }`,
    {
      input: {
        deploymentId: resource.deployment_id,
        executeAt: new Date(Date.now() + 3_600_000).toISOString(),
        restartK8sResource: { resourceId: resource.id, resourceName: resource.name },
      },
    },
    admin,
  );
  expect(res.errors).toBeUndefined();
  await feed.dispose();
  await waitFor(async () => value(await samples(), 'berth_graphql_subscriptions', { field: 'deploymentEvents' }) === 0, 'the subscription uncounted');
  const all = await samples();
  expect(value(all, 'berth_task_queue_depth', { state: 'scheduled' })).toBe(1);
  expect(value(all, 'platz_deployment_task_status_counter', { task_status: 'Pending' })).toBe(1);
  expect(value(all, 'berth_websocket_connections', { endpoint: '/graphql' })).toBe(0);
});

test('with METRICS_TOKEN set, only its bearer may scrape', async () => {
  expect((await scrape({})).status).toBe(401);
  expect((await scrape({ authorization: 'Bearer wrong' })).status).toBe(401);
  expect((await scrape({ authorization: TOKEN })).status).toBe(401);
  expect((await scrape()).status).toBe(200);
});

test('a database that fails leaves its series out of the scrape, not the scrape itself', async () => {
  await server.sql('alter table deployment_kinds rename to deployment_kinds_away');
  try {
    const all = await samples();
    expect(find(all, 'platz_deployment_status_counter')).toEqual([]);
    expect(find(all, 'berth_cluster_watch_healthy')).toEqual([]);
    expect(find(all, 'platz_db_pool_connections')).toHaveLength(1);
    expect(find(all, 'berth_http_request_duration_seconds_count').length).toBeGreaterThan(0);
  } finally {
    await server.sql('alter table deployment_kinds_away rename to deployment_kinds');
  }
  expect(find(await samples(), 'platz_deployment_status_counter').length).toBeGreaterThan(0);
});
