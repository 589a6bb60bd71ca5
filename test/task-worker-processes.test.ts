import { DeploymentKind, HelmChart, HelmRegistry } from '../src/entities/index.js';
import { HelmRegistryProvider } from '../src/entities/enums.js';
import { startBerth, type Berth } from '../src/server/app.js';
import { jsonLines, spawnBerth, type BerthProcess } from './support/berth-process.js';
import { ensureBuilt } from './support/build.js';
import { createTestDatabase, engineName, type TestDatabase } from './support/database.js';
import { build, unique } from './support/fixtures.js';
import { kubeconfigFor, startKubeApiDouble, type KubeApiDouble } from './support/kube-api/index.js';
import { ADMIN_PASSWORD, postGraphQL, testConfig } from './support/server.js';
import { waitFor } from './support/subscriptions.js';

/**
 * `berth worker` processes on one PostgreSQL database: every task runs exactly once however the workers race, and a
 * worker killed mid-task has its task finished by another once its lease runs out. The server here takes no task.
 */
const onPostgres = engineName() === 'postgres' ? describe : describe.skip;

/** One `berth worker` process. */
class WorkerProcess {
  private readonly process: BerthProcess;

  constructor(databaseUrl: string) {
    this.process = spawnBerth(
      {
        DATABASE_URL: databaseUrl,
        LOG_LEVEL: 'info',
        K8S_WATCH: 'false',
        CHART_DISCOVERY: 'false',
        TASK_WORKER_CONCURRENCY: '16',
        // long enough that a heartbeat late on a busy machine does not lose it (at 4 s, a loaded 2-core machine lost
        // leases mid-release and five releases were applied twice); short enough for the kill test
        TASK_LEASE_SECONDS: '8',
        TASK_POLL_MS: '200',
      },
      ['worker'],
    );
  }

  get child() {
    return this.process.child;
  }

  get exited() {
    return this.process.exited;
  }

  started(): boolean {
    return this.process.stdout.lines.some((l) => l.startsWith('Berth worker started'));
  }

  done(): string[] {
    return jsonLines(this.process.stdout.lines)
      .filter((l) => l.msg === 'deployment task done')
      .map((l) => l.task as string);
  }
}

onPostgres('berth worker processes', () => {
  let db: TestDatabase;
  let server: Berth;
  let auth: Record<string, string>;
  let fast: KubeApiDouble;
  let slow: KubeApiDouble;
  const workers: WorkerProcess[] = [];
  const clusters: Record<string, string> = {};

  const gql = async <T = any>(query: string, variables: object) => {
    const res = await postGraphQL<T>(server.url, query, variables, auth);
    expect(res.errors).toBeUndefined();
    return res.data!;
  };
  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => server.orm.em.getConnection().execute(query, params) as Promise<T[]>;

  beforeAll(async () => {
    await ensureBuilt();
    fast = await startKubeApiDouble({ helmController: { delayMs: 20 } });
    // a release that takes longer than a lease: its worker can be killed while it waits
    slow = await startKubeApiDouble({ helmController: { delayMs: 8000 } });
    db = await createTestDatabase();
    server = await startBerth(testConfig({ K8S_WATCH: 'true' }), { database: db.target, print: () => {} });
    const login = await postGraphQL<any>(server.url, `mutation($p: String!) { login(usernameOrEmail: "admin", password: $p) { accessToken } }`, { p: ADMIN_PASSWORD });
    auth = { authorization: `Bearer ${login.data.login.accessToken}` };
    for (const [name, d] of [['fast', fast], ['slow', slow]] as const) {
      const imported = await gql(`mutation($input: CreateClustersFromKubeconfigInput!) { createClustersFromKubeconfig(input: $input) { id } }`, {
        input: { kubeconfig: kubeconfigFor(d, { contexts: [name] }), contexts: [name] },
      });
      clusters[name] = imported.createClustersFromKubeconfig[0].id;
      await gql(`mutation($id: ID!) { updateCluster(id: $id, input: { ignore: false }) { id } }`, { id: clusters[name] });
    }
    await waitFor(async () => (await sql<{ n: string }>('select count(*) as n from k8s_clusters where is_ok'))[0].n === '2', 'both clusters healthy');
    const url = db.target.kind === 'postgres' ? db.target.url : '';
    workers.push(new WorkerProcess(url), new WorkerProcess(url));
    await waitFor(() => workers.every((w) => w.started()), 'both workers started', 30_000);
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await server?.stop();
    await db?.drop();
    await Promise.all([fast?.close(), slow?.close()]);
  });

  async function chart(): Promise<{ kindId: string; chartId: string; kindName: string }> {
    const em = server.orm.em.fork();
    const kind = build(DeploymentKind, { name: `Batch${unique()}` });
    const registry = build(HelmRegistry, { domainName: 'registry.example.com', repoName: `charts/${kind.name.toLowerCase()}`, kind, provider: HelmRegistryProvider.Oci });
    const helmChart = build(HelmChart, { helmRegistry: registry, imageDigest: `sha256:${unique()}`, imageTag: '1.0.0' });
    await em.persist([kind, registry, helmChart]).flush();
    return { kindId: kind.id, chartId: helmChart.id, kindName: kind.name };
  }

  const createDeployment = (clusterId: string, kindId: string, chartId: string, name: string) =>
    gql(`mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { id } }`, { input: { clusterId, kindId, helmChartId: chartId, name } });

  test('200 tasks on two workers: each runs exactly once, and both workers take part', async () => {
    const { kindId, chartId } = await chart();
    for (let i = 0; i < 200; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => createDeployment(clusters.fast, kindId, chartId, `d${i + j}`)));
    }
    const counts = () => sql<{ status: string; n: string }>(`select status, count(*) as n from deployment_tasks where cluster_id = ? group by status`, [clusters.fast]);
    await waitFor(async () => JSON.stringify(await counts()) === JSON.stringify([{ status: 'Done', n: '200' }]), 'all 200 tasks done', 60_000);

    // each release applied once, and installed once
    const applies = new Map<string, number>();
    for (const r of fast.requests.filter((r) => r.method === 'PATCH' && r.path.includes('/helmreleases/'))) applies.set(r.path, (applies.get(r.path) ?? 0) + 1);
    expect(applies.size).toBe(200);
    expect([...applies].filter(([, n]) => n !== 1)).toEqual([]);
    // a worker logs a task's end after its commit: the lines may trail the rows
    await waitFor(() => workers.flatMap((w) => w.done()).length >= 200, 'every end logged', 10_000);
    const done = workers.flatMap((w) => w.done());
    expect(done).toHaveLength(200);
    expect(new Set(done).size).toBe(200);
    expect(workers.map((w) => w.done().length > 0)).toEqual([true, true]);
  }, 120_000);

  test('a worker killed mid-task: another takes the task over once its lease runs out, keeps its first attempt, and finishes it once', async () => {
    const { kindId, chartId, kindName } = await chart();
    const { createDeployment: created } = await createDeployment(clusters.slow, kindId, chartId, 'slow');
    const task = async () =>
      (await sql<{ id: string; status: string; claimed_by: string | null; first_attempted_at: Date | null }>('select id, status, claimed_by, first_attempted_at from deployment_tasks where deployment_id = ?', [created.id]))[0];
    await waitFor(async () => (await task()).claimed_by !== null, 'the task claimed');
    const first = await task();
    const holder = workers.find((w) => first.claimed_by!.includes(`:${w.child.pid}:`))!;
    holder.child.kill('SIGKILL');
    await holder.exited;

    const other = workers.find((w) => w !== holder)!;
    await waitFor(async () => (await task()).status === 'Done', 'the task done by the other worker', 30_000);
    await waitFor(() => other.done().includes(first.id), 'its end logged by the other worker');
    expect(new Date((await task()).first_attempted_at!).getTime()).toBe(new Date(first.first_attempted_at!).getTime());
    const [{ status }] = await sql<{ status: string }>('select status from deployments where id = ?', [created.id]);
    expect(status).toBe('Running');
    const namespace = `${kindName.toLowerCase()}-slow`;
    expect(slow.helmController.history(namespace, namespace).map((r) => r.action)).toEqual(['install']);
  }, 60_000);
});
