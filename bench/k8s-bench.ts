/**
 * `npm run bench:k8s -- [--rates 100,1000,5000] [--seconds 10] [--namespaces 10] [--pool 5000]`: Berth's
 * cluster watch under a stream of Kubernetes changes.
 *
 * 1. starts the Kubernetes API server double (test/support/kube-api/) in this process, with `--namespaces`
 *    namespaces labelled platz=yes, and Berth (dist/src/main.js) as a child process on an embedded database in a
 *    temporary directory, or on a fresh PostgreSQL database when BENCH_DATABASE_URL is set;
 * 2. imports the double as a cluster over GraphQL, clears `ignore`, and waits until it is healthy;
 * 3. opens one graphql-ws subscriber to `k8sResourceEvents` of the cluster;
 * 4. a burst: creates `--pool` Deployments at once, and times until every one reached the subscriber;
 * 5. for each rate: changes the pool's Deployments round robin (their available replicas, so each change is a
 *    new status colour) at that rate for `--seconds`; each change is timed from the double emitting it to the
 *    subscriber receiving it (one clock: both are this process), matched by resourceVersion;
 * 6. prints a table against the targets and a one-line JSON summary; exits non-zero when a change was
 *    never delivered.
 *
 * The double and the subscriber run on the same machine as Berth and take CPU from it: figures are for
 * comparing versions of Berth, and a lower bound on what it would do alone.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { kubeconfigFor, startKubeApiDouble, type KubeApiDouble } from '../test/support/kube-api/index.js';
import { BerthProcess, type CleanupStep, createStorage, freePort, gql, loginAdmin, percentile, positiveNumber, refuse, round, run, withCleanup } from './support.js';

const READY_TIMEOUT_MS = 60_000;
/** a rate's changes all arrived, or none has for this long */
const DRAIN_IDLE_MS = 10_000;
/** changes are made every tick, as many as the rate asks for since the start */
const TICK_MS = 10;

/** the targets, on a 2-core machine */
const TARGETS = { sustainedRate: 5_000, p99AtSustainedMs: 250, lowRate: 100, p99AtLowMs: 50 } as const;

const USAGE = 'usage: npm run bench:k8s -- [--rates 100,1000,5000] [--seconds 10] [--namespaces 10] [--pool 5000]';

function readSettings() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { rates: { type: 'string' }, seconds: { type: 'string' }, namespaces: { type: 'string' }, pool: { type: 'string' } },
  });
  const rates = (values.rates ?? '100,1000,5000').split(',').map((r) => positiveNumber('--rates', r, NaN, { integer: true, usage: USAGE }));
  const seconds = positiveNumber('--seconds', values.seconds, 10, { usage: USAGE });
  const namespaces = positiveNumber('--namespaces', values.namespaces, 10, { integer: true, usage: USAGE });
  const pool = positiveNumber('--pool', values.pool, 5_000, { integer: true, usage: USAGE });
  if (pool < Math.max(...rates) / 2) refuse(`--pool ${pool} is too small for the rate ${Math.max(...rates)}: each Deployment would change more than twice a second`, USAGE);
  return { rates, seconds, namespaces, pool, adminUrl: process.env.BENCH_DATABASE_URL || undefined };
}

/** When each change was emitted, by resourceVersion, and when it arrived. */
class Deliveries {
  readonly emitted = new Map<string, number>();
  readonly latencies: number[] = [];
  lastArrival = 0;

  arrived(resourceVersion: string | undefined): void {
    const at = resourceVersion ? this.emitted.get(resourceVersion) : undefined;
    if (at === undefined) return;
    this.emitted.delete(resourceVersion!);
    this.lastArrival = performance.now();
    this.latencies.push(this.lastArrival - at);
  }

  /** Waits until every emitted change arrived, or none has for DRAIN_IDLE_MS. */
  async drain(): Promise<void> {
    let last = this.latencies.length;
    let idleSince = performance.now();
    while (this.emitted.size) {
      await sleep(50);
      if (this.latencies.length !== last) [last, idleSince] = [this.latencies.length, performance.now()];
      else if (performance.now() - idleSince > DRAIN_IDLE_MS) return;
    }
  }
}

const deployment = (namespace: string, name: string, available: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: { replicas: 3 },
  status: { availableReplicas: available, unavailableReplicas: 3 - available },
});

interface Phase {
  name: string;
  rate: number | null;
  changes: number;
  /** emitted per second, as the double managed */
  emittedPerSecond: number;
  /** delivered per second: changes over the time from the first emission to the last arrival */
  ingestedPerSecond: number;
  lost: number;
  p50: number;
  p99: number;
  max: number;
}

function phaseOf(name: string, rate: number | null, d: Deliveries, started: number, emittedFor: number): Phase {
  const sorted = [...d.latencies].sort((a, b) => a - b);
  return {
    name,
    rate,
    changes: d.latencies.length + d.emitted.size,
    emittedPerSecond: round((d.latencies.length + d.emitted.size) / (emittedFor / 1000), 0),
    ingestedPerSecond: round(d.latencies.length / ((d.lastArrival - started) / 1000), 0),
    lost: d.emitted.size,
    p50: round(percentile(sorted, 0.5), 1),
    p99: round(percentile(sorted, 0.99), 1),
    max: round(sorted.at(-1) ?? NaN, 1),
  };
}

async function main(): Promise<boolean> {
  const settings = readSettings();
  const storage = await createStorage(settings.adminUrl, 'k8s');
  console.log(`created ${storage.label}`);
  let server: BerthProcess | undefined;
  let double: KubeApiDouble | undefined;
  let client: Client | undefined;
  const cleanup = async (step: CleanupStep) => {
    if (client) await step('closing the subscriber', async () => void (await client!.dispose()));
    if (server) await step('stopping the server', () => server!.stop());
    if (double) await step('stopping the API server double', async () => void (await double!.close()));
    await step(`removing the ${storage.label}`, storage.remove);
  };

  return withCleanup('stopping the server and removing the database', cleanup, async () => {
    double = await startKubeApiDouble({ historyLimit: 100_000 });
    const namespaces = Array.from({ length: settings.namespaces }, (_, i) => `bench-${i}`);
    for (const name of namespaces) double.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { platz: 'yes' } } });

    const port = await freePort();
    server = new BerthProcess('the server', port, {
      ...storage.env,
      BERTH_ADMIN_EMAIL: 'bench-admin@example.com',
      SUBSCRIPTION_QUEUE_LIMIT: '1000000',
      K8S_WATCH_POLL_MS: '500',
    });
    await server.waitReady(READY_TIMEOUT_MS);
    const url = `${server.origin}/graphql`;
    const headers = { authorization: `Bearer ${await loginAdmin(url)}` };
    const { createClustersFromKubeconfig } = await gql<{ createClustersFromKubeconfig: { id: string }[] }>(
      url,
      'mutation($input: CreateClustersFromKubeconfigInput!) { createClustersFromKubeconfig(input: $input) { id } }',
      { input: { kubeconfig: kubeconfigFor(double, { contexts: ['bench'] }), contexts: ['bench'] } },
      headers,
    );
    const clusterId = createClustersFromKubeconfig[0].id;
    await gql(url, 'mutation($id: ID!) { updateCluster(id: $id, input: { ignore: false }) { id } }', { id: clusterId }, headers);
    for (;;) {
      const { k8sCluster } = await gql<{ k8sCluster: { isOk: boolean } }>(url, 'query($id: ID!) { k8sCluster(id: $id) { isOk } }', { id: clusterId }, headers);
      if (k8sCluster.isOk) break;
      await sleep(100);
    }
    console.log(`server ready on port ${port} (pid ${server.pid}); watching the double`);

    let deliveries = new Deliveries();
    client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, connectionParams: headers, retryAttempts: 0 });
    await new Promise<void>((resolve, reject) => {
      client!.subscribe<{ k8sResourceEvents: { operation: string; resource: { metadata: { resourceVersion?: string } } | null } }>(
        { query: 'subscription($c: ID) { k8sResourceEvents(cluster: $c) { operation resource { metadata } } }', variables: { c: clusterId } },
        {
          next: ({ data, errors }) => {
            if (errors?.length) return reject(new Error(errors.map((e) => e.message).join('; ')));
            if (data?.k8sResourceEvents.operation === 'LIVE') return resolve();
            deliveries.arrived(data?.k8sResourceEvents.resource?.metadata.resourceVersion);
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });

    const phases: Phase[] = [];
    const names = Array.from({ length: settings.pool }, (_, i) => ({ namespace: namespaces[i % namespaces.length], name: `d-${i}` }));
    console.log(`burst: creating ${settings.pool} Deployments at once…`);
    let started = performance.now();
    for (const { namespace, name } of names) deliveries.emitted.set(double.create(deployment(namespace, name, 0)).metadata.resourceVersion, performance.now());
    let emittedFor = performance.now() - started;
    await deliveries.drain();
    phases.push(phaseOf(`burst of ${settings.pool}`, null, deliveries, started, emittedFor));

    let turn = 0;
    for (const rate of settings.rates) {
      console.log(`${rate} changes/s for ${settings.seconds} s…`);
      deliveries = new Deliveries();
      const total = Math.round(rate * settings.seconds);
      started = performance.now();
      let made = 0;
      while (made < total) {
        const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
        for (; made < due; made++, turn++) {
          const { namespace, name } = names[turn % names.length];
          const stored = double.apply(deployment(namespace, name, 1 + (Math.floor(turn / names.length) % 2)));
          deliveries.emitted.set(stored.metadata.resourceVersion, performance.now());
        }
        await sleep(TICK_MS);
      }
      emittedFor = performance.now() - started;
      await deliveries.drain();
      phases.push(phaseOf(`${rate}/s`, rate, deliveries, started, emittedFor));
    }
    if (!server.running) throw new Error(`the server died during the run.\n${server.describe()}`);

    const at = (rate: number) => phases.find((p) => p.rate === rate);
    const checks = [
      at(TARGETS.sustainedRate) && {
        what: `${TARGETS.sustainedRate}/s sustained, p99 ≤ ${TARGETS.p99AtSustainedMs} ms`,
        ok: at(TARGETS.sustainedRate)!.ingestedPerSecond >= TARGETS.sustainedRate * 0.95 && at(TARGETS.sustainedRate)!.p99 <= TARGETS.p99AtSustainedMs,
      },
      at(TARGETS.lowRate) && { what: `p99 ≤ ${TARGETS.p99AtLowMs} ms at ${TARGETS.lowRate}/s`, ok: at(TARGETS.lowRate)!.p99 <= TARGETS.p99AtLowMs },
    ].filter((c): c is { what: string; ok: boolean } => !!c);
    const lost = phases.reduce((n, p) => n + p.lost, 0);
    console.log(
      [
        `\nBerth cluster watch, ${settings.adminUrl ? 'PostgreSQL' : 'embedded database'} (node ${process.version}, ${os.cpus().length} CPUs; the double and the subscriber in this process)`,
        'phase           changes  emitted/s  ingested/s   p50 ms   p99 ms   max ms  lost',
        ...phases.map((p) =>
          [p.name.padEnd(15), String(p.changes).padStart(7), String(p.emittedPerSecond).padStart(10), String(p.ingestedPerSecond).padStart(11), String(p.p50).padStart(8), String(p.p99).padStart(8), String(p.max).padStart(8), String(p.lost).padStart(5)].join(' '),
        ),
        ...checks.map((c) => `${c.ok ? 'met' : 'MISSED'}: ${c.what}`),
        lost ? `FAILED: ${lost} changes never arrived` : 'every change arrived',
      ].join('\n'),
    );
    console.log(JSON.stringify({ database: settings.adminUrl ? 'postgres' : 'embedded', phases, checks }));
    return lost === 0;
  });
}

run(main);
