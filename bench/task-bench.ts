/**
 * `npm run bench:k8s` (after the watch) or `node dist/bench/task-bench.js -- [--tasks 5000] [--deployments 1000]`:
 * the task worker's claim loop alone. Two task workers (on PostgreSQL, two Berth replicas each with its own
 * connections; on the embedded engine, one process holding both) run `--tasks` due tasks spread over
 * `--deployments` deployments (up to CONCURRENCY at once each) with an executor that does nothing but count: how many tasks are claimed and finished
 * per second, how many ran twice, and how often two tasks of one deployment overlapped. Target: 500 tasks/s, none
 * twice.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.js';
import { Deployment, DeploymentKind, DeploymentTask, HelmChart, HelmRegistry, K8sCluster } from '../src/entities/index.js';
import { HelmRegistryProvider } from '../src/entities/enums.js';
import { createLogger } from '../src/logging/logger.js';
import { startBerth, type Berth } from '../src/server/app.js';
import { TaskWorker } from '../src/workers/task-worker.js';
import type { TaskExecutor } from '../src/workers/task-executor.js';
import { createStorage, positiveNumber, round, run, withCleanup, type CleanupStep } from './support.js';

const USAGE = 'usage: node dist/bench/task-bench.js [--tasks 5000 (embedded: 500)] [--deployments tasks/5]';
const TARGET_PER_SECOND = 500;
/** tasks each worker runs at once: with tasks this short, claims and ends are what costs, and more at once means more per transaction */
const CONCURRENCY = 128;

/** Counts each task's runs, and runs of one deployment that overlap. */
class CountingExecutor implements TaskExecutor {
  readonly runs = new Map<string, number>();
  private readonly busy = new Set<string>();
  overlaps = 0;

  async execute(_ctx: unknown, task: DeploymentTask): Promise<string> {
    this.runs.set(task.id, (this.runs.get(task.id) ?? 0) + 1);
    const deployment = task.deployment.id;
    if (this.busy.has(deployment)) this.overlaps++;
    this.busy.add(deployment);
    await sleep(0);
    this.busy.delete(deployment);
    return '';
  }
}

async function seed(berth: Berth, tasks: number, deployments: number): Promise<void> {
  const em = berth.orm.em.fork();
  const cluster = Object.assign(new K8sCluster(), { providerId: 'bench:tasks', name: 'bench', isOk: true, ignore: false });
  const kind = Object.assign(new DeploymentKind(), { name: 'Bench' });
  const registry = Object.assign(new HelmRegistry(), { domainName: 'registry.example.com', repoName: 'bench', kind, provider: HelmRegistryProvider.Oci });
  const chart = Object.assign(new HelmChart(), { helmRegistry: registry, imageDigest: 'sha256:bench', imageTag: '1.0.0' });
  em.persist([cluster, kind, registry, chart]);
  const rows = Array.from({ length: deployments }, (_, i) => Object.assign(new Deployment(), { name: `d${i}`, kind, cluster, helmChart: chart }));
  em.persist(rows);
  await em.flush();
  const start = Date.now() - 60_000;
  for (let i = 0; i < tasks; i += 1000) {
    const batch = em.fork();
    for (let j = i; j < Math.min(tasks, i + 1000); j++) {
      batch.persist(
        Object.assign(new DeploymentTask(), {
          deployment: batch.getReference(Deployment, rows[j % deployments].id),
          cluster: batch.getReference(K8sCluster, cluster.id),
          operation: { RestartK8sResource: { resource_id: '00000000-0000-4000-8000-000000000000', resource_name: 'bench' } },
          // in creation order, all due
          createdAt: new Date(start + j),
          executeAt: new Date(start + j),
        }),
      );
    }
    await batch.flush();
  }
}

async function main(): Promise<boolean> {
  const { values } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options: { tasks: { type: 'string' }, deployments: { type: 'string' } } });
  const adminUrl = process.env.BENCH_DATABASE_URL || undefined;
  // the embedded engine runs tens of tasks a second here: 5,000 would take minutes
  const tasks = positiveNumber('--tasks', values.tasks, adminUrl ? 5000 : 500, { integer: true, usage: USAGE });
  const deployments = positiveNumber('--deployments', values.deployments, Math.max(1, Math.round(tasks / 5)), { integer: true, usage: USAGE });
  const storage = await createStorage(adminUrl, 'tasks');
  const replicas: Berth[] = [];
  const workers: TaskWorker[] = [];
  const cleanup = async (step: CleanupStep) => {
    for (const w of workers) await step('stopping a task worker', () => w.stop());
    for (const r of replicas) await step('stopping Berth', () => r.stop());
    await step(`removing the ${storage.label}`, storage.remove);
  };
  return withCleanup('stopping the workers and removing the database', cleanup, async () => {
    const config = loadConfig({ ...process.env, ...storage.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', K8S_WATCH: 'false', CHART_DISCOVERY: 'false', TASK_WORKER: 'false', DEPLOYMENT_CREDENTIALS: 'false' });
    const logger = createLogger('warn');
    // the embedded engine is one process: both workers share it
    for (let i = 0; i < (adminUrl ? 2 : 1); i++) replicas.push(await startBerth(config, { role: 'worker', logger, print: () => {} }));
    await seed(replicas[0], tasks, deployments);
    console.log(`seeded ${tasks} due tasks over ${deployments} deployments in ${storage.label}`);

    const executor = new CountingExecutor();
    const started = performance.now();
    for (let i = 0; i < 2; i++) {
      const berth = replicas[i % replicas.length];
      const worker = new TaskWorker(berth.orm.em as never, berth.services, berth.events, executor, { concurrency: CONCURRENCY, leaseMs: 30_000, pollMs: 200 }, logger);
      workers.push(worker);
      worker.start();
    }
    const em = replicas[0].orm.em.fork();
    for (;;) {
      const [{ n }] = await em.getConnection().execute<{ n: string }[]>(`select count(*) as n from deployment_tasks where status <> 'Done'`);
      if (Number(n) === 0) break;
      await sleep(20);
    }
    const seconds = (performance.now() - started) / 1000;
    const perSecond = round(tasks / seconds, 0);
    const twice = [...executor.runs.values()].filter((n) => n > 1).length;
    const never = tasks - executor.runs.size;
    console.log(
      [
        `\nBerth task worker, ${adminUrl ? 'PostgreSQL, two replicas' : 'embedded database, one process'} (node ${process.version}, ${os.cpus().length} CPUs), two workers of ${CONCURRENCY} tasks at once, a no-op executor`,
        `${tasks} tasks over ${deployments} deployments in ${round(seconds, 2)} s: ${perSecond} tasks/s; run twice: ${twice}; never run: ${never}; overlapping runs of one deployment: ${executor.overlaps}`,
        `${perSecond >= TARGET_PER_SECOND ? 'met' : 'MISSED'}: ${TARGET_PER_SECOND} tasks/s`,
        twice || never || executor.overlaps ? 'FAILED: a task ran twice, never, or alongside another of its deployment' : 'every task ran once, one at a time per deployment',
      ].join('\n'),
    );
    console.log(JSON.stringify({ database: adminUrl ? 'postgres' : 'embedded', tasks, deployments, seconds: round(seconds, 2), perSecond, twice, never, overlaps: executor.overlaps }));
    return twice === 0 && never === 0 && executor.overlaps === 0;
  });
}

run(main);
