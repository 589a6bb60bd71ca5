/**
 * `npm run bench`: Berth's GraphQL reads against a peer (PostGraphile 5) and a floor (a bare node:http + pg server).
 *
 * 1. creates a fresh database berth_bench_<random> (dropped at the end, also on failure);
 * 2. starts Berth (dist/src/main.js, its background workers off) as a child process, waits for /readyz (which means
 *    migrations ran), seeds a fleet of 50 deployments and logs in as the admin;
 * 3. starts PostGraphile 5 (dist/bench/postgraphile-server.js) on that database and data, and the baseline
 *    (dist/bench/baseline-server.js: node:http + pg, one prepared statement);
 * 4. checks the first answer of every run: Berth's rows (as site admin and as env User), PostGraphile's and the
 *    baseline's must be the same; the bench stops if not. Under load, every response body must equal that first one;
 * 5. measures each run with autocannon, in two interleaved rounds (each round: every run once, Berth before its
 *    peers), so that the machine's noise falls on both sides of a comparison;
 * 6. prints the runs and the comparisons against their targets, and writes them as JSON to bench/results/latest.json.
 *
 * Environment: BENCH_DATABASE_URL (admin connection, default postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_DURATION (seconds per run and round, default 10), BENCH_WARMUP (seconds before each, default 3),
 * BENCH_CONNECTIONS (default 50), BENCH_RUNS (a comma-separated subset of the run keys below, say
 * `berthUser,baselineUser,berthFloor`, to measure only those and the comparisons between them; default all).
 *
 * The load generator runs in this process, on the same machine as the servers: figures are for comparing runs
 * with each other, not absolute capacity. PostGraphile has no authorization: it reads every row as the role of its
 * connection, where Berth checks the caller's grants.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import autocannon from 'autocannon';
import { hashSecret, newOpaqueToken } from '../src/auth/opaque-token.js';
import { openOrm } from '../src/db/orm.js';
import { seedFleet } from '../test/support/fixtures.js';
import { NO_BACKGROUND_WORK } from '../test/support/background-work.js';
import { BerthProcess, type CleanupStep, createDatabase, freePort, loginAdmin, positiveNumber, post, REQUEST_TIMEOUT_MS, ROOT, round, run, ServerProcess, table, withCleanup } from './support.js';

const RESULTS_FILE = join(ROOT, 'bench/results/latest.json');

const READY_TIMEOUT_MS = 60_000;
const SEEDED_DEPLOYMENTS = 50;
const ROUNDS = 2;

const settings = {
  adminUrl: process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  durationSeconds: envNumber('BENCH_DURATION', 10),
  warmupSeconds: envNumber('BENCH_WARMUP', 3),
  connections: Math.floor(envNumber('BENCH_CONNECTIONS', 50)),
  pipelining: 1,
  only: process.env.BENCH_RUNS ? new Set(process.env.BENCH_RUNS.split(',').map((key) => key.trim())) : undefined,
};

/** an environment variable, where an empty value is an absent one */
function envNumber(name: string, fallback: number): number {
  return positiveNumber(name, process.env[name] || undefined, fallback);
}

// ---------------------------------------------------------------------------------------------
// runs: one server, one query, one caller

type RunKey = 'berthList' | 'postgraphileList' | 'berthListEnvUser' | 'berthUser' | 'postgraphileUser' | 'baselineUser' | 'berthFloor';

interface Run {
  key: RunKey;
  label: string;
  server: ServerProcess;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** what the first answer's data says, in a shape common to the servers that answer the same question */
  rows(data: Record<string, unknown>): unknown;
}

interface RoundResult {
  /** average requests per second over the measured run (warm-up excluded) */
  reqPerSec: number;
  latencyMs: { average: number; p50: number; p90: number; p99: number; max: number };
  requests: number;
  non2xx: number;
  /** socket errors and timeouts (autocannon's `errors`, which includes timeouts) */
  transportErrors: number;
  timeouts: number;
  /** 2xx responses whose body is not the first answer's */
  wrongBodies: number;
  statusCodes: Record<string, number>;
}

interface RunResult {
  label: string;
  rounds: RoundResult[];
  /** the rounds' means */
  mean: { reqPerSec: number; p50: number; p99: number };
}

/** The first answer of `run`, as its body and its rows; throws unless it is a 200 with data and no errors. */
async function firstAnswer(run: Run): Promise<{ text: string; rows: unknown }> {
  const { status, json, text } = await post(run.url, run.headers, run.body);
  const problem =
    status !== 200 ? `HTTP ${status}`
    : !json ? 'the body is not JSON'
    : json.errors?.length ? `GraphQL errors: ${json.errors.map((e) => e.message).join('; ')}`
    : !json.data ? 'no data'
    : undefined;
  if (problem) throw new Error(`${run.label}: the first answer is not usable (${problem}); aborting.\nbody: ${text.slice(0, 1000)}`);
  return { text, rows: run.rows(json!.data!) };
}

/**
 * Checks that the runs of a group answer with the same rows (the first run's), and that they are `expected` in
 * number when they are a list; returns each run's first body, which every later response must equal.
 */
async function checkSameRows(group: Run[], expected?: number): Promise<Map<RunKey, string>> {
  const bodies = new Map<RunKey, string>();
  let reference: { run: Run; json: string } | undefined;
  for (const r of group) {
    const { text, rows } = await firstAnswer(r);
    if (expected !== undefined && (!Array.isArray(rows) || rows.length !== expected)) {
      throw new Error(`${r.label}: expected ${expected} rows, got ${Array.isArray(rows) ? rows.length : JSON.stringify(rows)}; aborting.`);
    }
    const json = JSON.stringify(rows);
    reference ??= { run: r, json };
    if (json !== reference.json) throw new Error(`${r.label} does not answer as ${reference.run.label}; aborting.\n${firstDifference(reference.json, json)}`);
    bodies.set(r.key, text);
  }
  return bodies;
}

/** Where two serialized row sets part, for the error message. */
function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 200);
  return `expected …${a.slice(from, i + 200)}…\n     got …${b.slice(from, i + 200)}…`;
}

async function measure(r: Run, expectedBody: string, roundNo: number): Promise<RoundResult> {
  console.log(`round ${roundNo}: ${r.label}: ${settings.warmupSeconds} s warm-up, then ${settings.durationSeconds} s at ${settings.connections} connections…`);
  const load = async (duration: number) => {
    const result = await autocannon({
      title: r.label,
      url: r.url,
      method: 'POST',
      headers: r.headers,
      body: r.body,
      connections: settings.connections,
      pipelining: settings.pipelining,
      duration,
      timeout: REQUEST_TIMEOUT_MS / 1000,
      // the data does not change during the bench: any other body (GraphQL errors included) is a wrong answer
      verifyBody: (body) => body === expectedBody,
    });
    if (!r.server.running) throw new Error(`${r.label}: the server died during the run.\n${r.server.describe()}`);
    // autocannon hangs up on the requests still in flight when its time is up, and the server goes on with them:
    // one more request, answered once the backlog ahead of it is, keeps that tail out of what is measured next (the
    // reason the warm-up is a run of its own rather than autocannon's, which starts measuring on top of that tail)
    await post(r.url, r.headers, r.body);
    return result;
  };
  await load(settings.warmupSeconds);
  const result = await load(settings.durationSeconds);
  if (!result.requests.total) console.error(`note: no request of ${r.label} completed in ${settings.durationSeconds} s; lengthen BENCH_DURATION`);
  return {
    reqPerSec: result.requests.average,
    latencyMs: { average: result.latency.average, p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    requests: result.requests.total,
    non2xx: result.non2xx,
    transportErrors: result.errors,
    timeouts: result.timeouts,
    wrongBodies: result.mismatches,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
  };
}

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

function summarize(label: string, rounds: RoundResult[]): RunResult {
  return {
    label,
    rounds,
    mean: {
      reqPerSec: round(mean(rounds.map((r) => r.reqPerSec)), 1),
      p50: round(mean(rounds.map((r) => r.latencyMs.p50)), 1),
      p99: round(mean(rounds.map((r) => r.latencyMs.p99)), 1),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// comparisons: Berth against a peer, with the targets of issue 14

interface Comparison {
  label: string;
  berth: RunKey;
  peer: RunKey;
  /** what the ratio says when there is no target */
  note?: string;
  /** req/s of Berth / of the peer, at least */
  minReqPerSecRatio?: number;
  /** p99 of Berth / of the peer, at most */
  maxP99Ratio?: number;
}

const COMPARISONS: Comparison[] = [
  { label: 'deployments(50), site admin: Berth / PostGraphile', berth: 'berthList', peer: 'postgraphileList', minReqPerSecRatio: 1.0 },
  // PostGraphile reads the same rows with no authorization at all
  { label: 'deployments(50), env User: Berth / PostGraphile', berth: 'berthListEnvUser', peer: 'postgraphileList', minReqPerSecRatio: 0.9 },
  { label: 'user(id): Berth / baseline', berth: 'berthUser', peer: 'baselineUser', minReqPerSecRatio: 0.5, maxP99Ratio: 2 },
  { label: 'user(id): Berth / PostGraphile', berth: 'berthUser', peer: 'postgraphileUser', note: 'no target' },
  { label: 'serverInfo: Berth / baseline user(id)', berth: 'berthFloor', peer: 'baselineUser', note: 'no target: the HTTP + Apollo + auth floor' },
  { label: 'deployments(50): env User / site admin', berth: 'berthListEnvUser', peer: 'berthList', note: 'no target: the cost of read scoping' },
];

interface Ratios {
  /** of the rounds' means (lower latency is better: a p99 ratio under 1 is Berth being faster) */
  reqPerSec: number;
  p50: number;
  p99: number;
  /** req/s ratio of each round */
  reqPerSecByRound: number[];
}

function ratios(berth: RunResult, peer: RunResult): Ratios {
  return {
    reqPerSec: round(berth.mean.reqPerSec / peer.mean.reqPerSec, 3),
    p50: round(berth.mean.p50 / peer.mean.p50, 2),
    p99: round(berth.mean.p99 / peer.mean.p99, 2),
    reqPerSecByRound: berth.rounds.map((r, i) => round(r.reqPerSec / peer.rounds[i].reqPerSec, 3)),
  };
}

// ---------------------------------------------------------------------------------------------
// report

function report(runs: Run[], results: Record<RunKey, RunResult>) {
  const errorsOf = (r: RunResult) => r.rounds.reduce((sum, x) => sum + x.transportErrors + x.wrongBodies + x.non2xx, 0);
  const runRows = runs.map((r) => {
    const { mean: m, rounds } = results[r.key];
    return [r.label, m.reqPerSec.toFixed(0), `(${rounds.map((x) => x.reqPerSec.toFixed(0)).join(', ')})`, m.p50.toFixed(1), m.p99.toFixed(1), String(errorsOf(results[r.key]))];
  });

  const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
  // a run with no request completed has no rate to compare
  const fixed = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
  const compared = COMPARISONS.filter((c) => results[c.berth] && results[c.peer]).map((c) => {
    const ratio = ratios(results[c.berth], results[c.peer]);
    const targets = [
      ...(c.minReqPerSecRatio === undefined ? [] : [{ metric: 'req/s', target: `>= ${c.minReqPerSecRatio.toFixed(1)}`, actual: ratio.reqPerSec, met: ratio.reqPerSec >= c.minReqPerSecRatio }]),
      ...(c.maxP99Ratio === undefined ? [] : [{ metric: 'p99', target: `<= ${c.maxP99Ratio.toFixed(1)}`, actual: ratio.p99, met: ratio.p99 <= c.maxP99Ratio }]),
    ];
    return { comparison: c, ratio, targets };
  });
  const comparisonRows = compared.map(({ comparison, ratio, targets }) => [
    comparison.label,
    fixed(ratio.reqPerSec),
    `(${ratio.reqPerSecByRound.map(fixed).join(', ')})`,
    fixed(ratio.p50),
    fixed(ratio.p99),
    targets.length ? targets.map((t) => `${t.metric} ${t.target}: ${verdict(t.met)}`).join(', ') : `(${comparison.note})`,
  ]);

  const text = [
    '',
    `${settings.connections} connections, pipelining ${settings.pipelining}, ${ROUNDS} interleaved rounds of ${settings.durationSeconds} s per run after a ${settings.warmupSeconds} s warm-up` +
      ` (node ${process.version}, ${os.cpus().length} CPUs, load generator on the same machine)`,
    '',
    ...table(['run', 'req/s', '(by round)', 'p50 ms', 'p99 ms', 'errors'], runRows),
    '',
    'req/s, p50 and p99: the mean of the rounds; errors: socket errors, timeouts, non-2xx and wrong bodies, all rounds',
    '',
    ...table(['comparison (Berth / peer)', 'req/s', '(by round)', 'p50', 'p99', 'target'], comparisonRows),
    '',
    'a req/s ratio above 1 and a latency ratio below 1 are Berth doing better than its peer',
    '',
  ].join('\n');

  const json = {
    finishedAt: new Date().toISOString(),
    settings: {
      durationSeconds: settings.durationSeconds,
      warmupSeconds: settings.warmupSeconds,
      connections: settings.connections,
      pipelining: settings.pipelining,
      rounds: ROUNDS,
      seededDeployments: SEEDED_DEPLOYMENTS,
      node: process.version,
      cpus: os.cpus().length,
    },
    runs: results,
    comparisons: compared.map(({ comparison, ratio, targets }) => ({ label: comparison.label, berth: comparison.berth, peer: comparison.peer, ...ratio, targets })),
  };
  const wrong = runs.filter((r) => results[r.key].rounds.some((x) => x.non2xx || x.wrongBodies));
  return { text, json, wrong };
}

// ---------------------------------------------------------------------------------------------
// main

const LIST_BERTH = '{ deployments(first: 50) { edges { node { id name cluster { name env { name } } kind { name } helmChart { imageTag } latestTask { id status } } } } }';
// PostGraphile's names for the same: relations from the foreign keys, `rowId` for the column `id` (its `id` is the
// global Node id); with no computed column, the latest task is the first of the tasks newest first
const LIST_POSTGRAPHILE =
  '{ allDeployments(first: 50) { edges { node { rowId name k8SClusterByClusterId { name envByEnvId { name } } deploymentKindByKindId { name } ' +
  'helmChartByHelmChartId { imageTag } deploymentTasksByDeploymentId(first: 1, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) { nodes { rowId status } } } } } }';

interface ListRow {
  id: string;
  name: string;
  cluster: string;
  env: string | null;
  kind: string;
  imageTag: string;
  latestTask: { id: string; status: string } | null;
}

/** Rows in id order: Berth lists by creation, PostGraphile by primary key. */
const byId = (rows: ListRow[]) => rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

type Edges<T> = { edges: { node: T }[] } | null;

function berthListRows(data: Record<string, unknown>): ListRow[] {
  type Node = { id: string; name: string; cluster: { name: string; env: { name: string } | null }; kind: { name: string }; helmChart: { imageTag: string }; latestTask: { id: string; status: string } | null };
  const edges = (data.deployments as Edges<Node>)?.edges ?? [];
  return byId(edges.map(({ node: n }) => ({ id: n.id, name: n.name, cluster: n.cluster.name, env: n.cluster.env?.name ?? null, kind: n.kind.name, imageTag: n.helmChart.imageTag, latestTask: n.latestTask })));
}

function postgraphileListRows(data: Record<string, unknown>): ListRow[] {
  type Node = {
    rowId: string;
    name: string;
    k8SClusterByClusterId: { name: string; envByEnvId: { name: string } | null };
    deploymentKindByKindId: { name: string };
    helmChartByHelmChartId: { imageTag: string };
    deploymentTasksByDeploymentId: { nodes: { rowId: string; status: string }[] };
  };
  const edges = (data.allDeployments as Edges<Node>)?.edges ?? [];
  return byId(
    edges.map(({ node: n }) => {
      const task = n.deploymentTasksByDeploymentId.nodes[0];
      return {
        id: n.rowId,
        name: n.name,
        cluster: n.k8SClusterByClusterId.name,
        env: n.k8SClusterByClusterId.envByEnvId?.name ?? null,
        kind: n.deploymentKindByKindId.name,
        imageTag: n.helmChartByHelmChartId.imageTag,
        latestTask: task ? { id: task.rowId, status: task.status } : null,
      };
    }),
  );
}

async function main(): Promise<boolean> {
  const db = await createDatabase(settings.adminUrl);
  console.log(`created database ${db.name}`);
  const children: ServerProcess[] = [];
  let orm: MikroORM | undefined;
  const cleanup = async (step: CleanupStep) => {
    await Promise.all(children.map((child) => step(`stopping ${child.name}`, () => child.stop())));
    if (orm) await step('closing the seeding ORM', () => orm!.close(true));
    await step(`dropping ${db.name}`, async () => {
      await db.drop();
      console.log(`dropped database ${db.name}`);
    });
  };

  return withCleanup('stopping the servers and dropping the database', cleanup, async () => {
    // Berth: it migrates the empty database and creates the admin
    const berth = new BerthProcess('berth', await freePort(), { DATABASE_URL: db.url, ...NO_BACKGROUND_WORK }, { echoStderr: true });
    children.push(berth);
    await berth.waitReady(READY_TIMEOUT_MS);
    console.log(`berth ready on port ${berth.port}`);

    // seed only now: /readyz answers 200 once no migration is pending, so the tables exist
    orm = await openOrm({ kind: 'postgres', url: db.url }, { pool: { max: 2 } });
    const fleet = await seedFleet(orm.em as SqlEntityManager, { deployments: SEEDED_DEPLOYMENTS });
    // a caller who is not a site admin: env User of the fleet's env, with an API token, so every
    // read pays for its grants and the visibility rules
    const scopedToken = newOpaqueToken();
    await (orm.em as SqlEntityManager).getConnection().execute(
      `with u as (insert into users (id, email, username, display_name) values (gen_random_uuid(), 'bench-env-user@example.com', 'bench-env-user', 'Bench Env User') returning id),
            t as (insert into user_tokens (id, user_id, secret_hash) select ?, id, ? from u)
       insert into env_user_permissions (id, env_id, user_id, role) select gen_random_uuid(), ?, id, 'User' from u`,
      [scopedToken.id, hashSecret(scopedToken.secret), fleet.env.id],
    );
    // the simple query reads another user than the caller, so it really goes to the database
    const [target] = await (orm.em as SqlEntityManager)
      .getConnection()
      .execute<{ id: string }[]>(
        `insert into users (id, email, username, display_name) values (gen_random_uuid(), 'bench-target@example.com', 'bench-target', 'Bench Target') returning id`,
      );
    await orm.close(true);
    orm = undefined;
    console.log(`seeded ${SEEDED_DEPLOYMENTS} deployments`);

    const berthUrl = `${berth.origin}/graphql`;
    const token = await loginAdmin(berthUrl);
    const userId = target.id;

    // the peers start on the seeded database (PostGraphile introspects it at start)
    const postgraphile = new ServerProcess('postgraphile', join(ROOT, 'dist/bench/postgraphile-server.js'), await freePort(), { DATABASE_URL: db.url, GRAPHILE_ENV: 'production' }, { echoStderr: true });
    children.push(postgraphile);
    const baseline = new ServerProcess('baseline', join(ROOT, 'dist/bench/baseline-server.js'), await freePort(), { DATABASE_URL: db.url }, { echoStderr: true });
    children.push(baseline);
    await Promise.all([postgraphile.waitReady(READY_TIMEOUT_MS), baseline.waitReady(READY_TIMEOUT_MS)]);
    console.log(`postgraphile ready on port ${postgraphile.port}, baseline on port ${baseline.port}`);

    const json = { 'content-type': 'application/json' };
    const admin = { ...json, authorization: `Bearer ${token}` };
    const envUser = { ...json, 'x-platz-token': scopedToken.token };
    const userBody = JSON.stringify({ query: 'query U($id: ID!) { user(id: $id) { id email displayName } }', variables: { id: userId } });
    const userRow = (user: unknown) => user as { id: string; email: string; displayName: string } | null;
    const pgUser = (user: unknown) => {
      const u = user as { rowId: string; email: string; displayName: string } | null;
      return u && { id: u.rowId, email: u.email, displayName: u.displayName };
    };
    const at = (server: ServerProcess) => `${server.origin}/graphql`;

    const list: Run[] = [
      { key: 'berthList', label: 'Berth deployments(50), site admin', server: berth, url: berthUrl, headers: admin, body: JSON.stringify({ query: LIST_BERTH }), rows: berthListRows },
      { key: 'postgraphileList', label: 'PostGraphile deployments(50)', server: postgraphile, url: at(postgraphile), headers: json, body: JSON.stringify({ query: LIST_POSTGRAPHILE }), rows: postgraphileListRows },
      { key: 'berthListEnvUser', label: 'Berth deployments(50), env User', server: berth, url: berthUrl, headers: envUser, body: JSON.stringify({ query: LIST_BERTH }), rows: berthListRows },
    ];
    const user: Run[] = [
      { key: 'berthUser', label: 'Berth user(id)', server: berth, url: berthUrl, headers: admin, body: userBody, rows: (data) => userRow(data.user) },
      {
        key: 'postgraphileUser',
        label: 'PostGraphile user(id)',
        server: postgraphile,
        url: at(postgraphile),
        headers: json,
        body: JSON.stringify({ query: 'query U($id: UUID!) { userByRowId(rowId: $id) { rowId email displayName } }', variables: { id: userId } }),
        rows: (data) => pgUser(data.userByRowId),
      },
      { key: 'baselineUser', label: 'baseline user(id) (node:http + pg)', server: baseline, url: at(baseline), headers: json, body: userBody, rows: (data) => userRow(data.user) },
    ];
    // the stack's own floor: authenticated, no database read (where the rest of Berth's cost sits)
    const floor: Run[] = [
      {
        key: 'berthFloor',
        label: 'Berth serverInfo (no SQL)',
        server: berth,
        url: berthUrl,
        headers: admin,
        body: JSON.stringify({ query: '{ serverInfo { version } }' }),
        rows: (data) => (data.serverInfo as { version?: string } | null)?.version ?? null,
      },
    ];

    // before any load: a wrong query, a bad token or different rows must stop the bench, not be measured
    const bodies = new Map([...(await checkSameRows(list, SEEDED_DEPLOYMENTS)), ...(await checkSameRows(user)), ...(await checkSameRows(floor))]);
    if (JSON.parse(bodies.get('berthUser')!).data.user?.id !== userId) throw new Error(`Berth user(id) did not find user ${userId}; aborting.`);
    if (!JSON.parse(bodies.get('berthFloor')!).data.serverInfo?.version) throw new Error('Berth serverInfo has no version; aborting.');
    console.log(`checked: PostGraphile's ${SEEDED_DEPLOYMENTS} deployments are Berth's (as site admin and as env User), and the three answer user(id) alike`);

    // interleaved: a round measures every run once, so the machine's noise falls on both sides of each comparison
    const all = [...list, ...user, ...floor];
    const unknown = [...(settings.only ?? [])].filter((key) => !all.some((r) => r.key === key));
    if (unknown.length) throw new Error(`BENCH_RUNS names no run ${unknown.join(', ')}; the runs are ${all.map((r) => r.key).join(', ')}`);
    const runs = all.filter((r) => !settings.only || settings.only.has(r.key));
    const rounds = new Map<RunKey, RoundResult[]>(runs.map((r) => [r.key, []]));
    for (let n = 1; n <= ROUNDS; n++) {
      for (const r of runs) rounds.get(r.key)!.push(await measure(r, bodies.get(r.key)!, n));
    }
    const results = Object.fromEntries(runs.map((r) => [r.key, summarize(r.label, rounds.get(r.key)!)])) as Record<RunKey, RunResult>;

    const { text, json: resultJson, wrong } = report(runs, results);
    console.log(text);
    await mkdir(dirname(RESULTS_FILE), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(resultJson, null, 2)}\n`);
    console.log(`wrote ${RESULTS_FILE}`);
    if (wrong.length) console.error(`bench failed: wrong answers under load (non-2xx or a body other than the first answer's) from ${wrong.map((r) => r.label).join(', ')}`);
    return wrong.length === 0;
  });
}

run(main);
