/**
 * `npm run bench`: Berth's GraphQL throughput and latency against a floor.
 *
 * 1. creates a fresh database berth_bench_<random> (dropped at the end, also on failure);
 * 2. starts Berth (dist/src/main.js) as a child process, waits for /readyz (which means migrations
 *    ran), seeds a fleet of 50 deployments and logs in as the admin;
 * 3. starts the baseline (dist/bench/baseline-server.js: node:http + pg, one prepared statement);
 * 4. runs autocannon against: the baseline, Berth's `serverInfo` (no SQL: the floor of the stack), `user(id)` and
 *    `deployments(first: 50)`, as the site admin and as an env User (what read scoping costs);
 * 5. prints a table and writes it as JSON to bench/results/latest.json.
 *
 * Environment: BENCH_DATABASE_URL (admin connection, default postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_DURATION (seconds per scenario, default 10), BENCH_CONNECTIONS (default 50).
 *
 * The load generator runs in this process, on the same machine as the servers: figures are for
 * comparing scenarios with each other, not absolute capacity.
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
import { BerthProcess, type CleanupStep, createDatabase, freePort, loginAdmin, positiveNumber, post, REQUEST_TIMEOUT_MS, ROOT, round, run, ServerProcess, withCleanup } from './support.js';

const RESULTS_FILE = join(ROOT, 'bench/results/latest.json');

const READY_TIMEOUT_MS = 30_000;
const WARMUP_SECONDS = 3;
const SEEDED_DEPLOYMENTS = 50;

/** the targets this benchmark exists to check (Berth's simple query against the baseline) */
const TARGETS = { simpleRatioMin: 0.5, simpleP99MaxMs: 15 } as const;

const settings = {
  adminUrl: process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  durationSeconds: envNumber('BENCH_DURATION', 10),
  connections: Math.floor(envNumber('BENCH_CONNECTIONS', 50)),
  pipelining: 1,
  warmupSeconds: WARMUP_SECONDS,
};

/** an environment variable, where an empty value is an absent one */
function envNumber(name: string, fallback: number): number {
  return positiveNumber(name, process.env[name] || undefined, fallback);
}

// ---------------------------------------------------------------------------------------------
// scenarios

interface Scenario {
  key: 'baseline' | 'berthFloor' | 'berthUser' | 'berthDeployments' | 'berthDeploymentsScoped';
  label: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  server: ServerProcess;
  /** a problem with the response's data, or undefined when it is what the scenario expects */
  checkData(data: Record<string, unknown>): string | undefined;
}

interface ScenarioResult {
  label: string;
  /** average requests per second over the measured run (warm-up excluded) */
  reqPerSec: number;
  latencyMs: { average: number; p50: number; p90: number; p99: number; max: number };
  requests: number;
  non2xx: number;
  /** socket errors and timeouts (autocannon's `errors`, which includes timeouts) */
  transportErrors: number;
  timeouts: number;
  /** 2xx responses whose body carries GraphQL `errors` */
  graphqlErrors: number;
  statusCodes: Record<string, number>;
}

/** One request before the load: a wrong query or a bad token must stop the bench, not be measured. */
async function checkFirstResponse(s: Scenario): Promise<void> {
  const { status, json, text } = await post(s.url, s.headers, s.body);
  const problem =
    status !== 200 ? `HTTP ${status}`
    : !json ? 'the body is not JSON'
    : json.errors?.length ? `GraphQL errors: ${json.errors.map((e) => e.message).join('; ')}`
    : !json.data ? 'no data'
    : s.checkData(json.data);
  if (problem) throw new Error(`${s.label}: the first response is not usable (${problem}); aborting.\nbody: ${text.slice(0, 1000)}`);
}

async function runScenario(s: Scenario): Promise<ScenarioResult> {
  await checkFirstResponse(s);
  console.log(`running ${s.label}: ${settings.warmupSeconds} s warm-up, then ${settings.durationSeconds} s at ${settings.connections} connections…`);
  const r = await autocannon({
    title: s.label,
    url: s.url,
    method: 'POST',
    headers: s.headers,
    body: s.body,
    connections: settings.connections,
    pipelining: settings.pipelining,
    duration: settings.durationSeconds,
    timeout: REQUEST_TIMEOUT_MS / 1000,
    warmup: { duration: settings.warmupSeconds },
    // a 200 can still carry errors in GraphQL; such responses are counted as mismatches
    verifyBody: (body) => !body.includes('"errors"'),
  });
  if (!s.server.running) throw new Error(`${s.label}: the server died during the run.\n${s.server.describe()}`);
  return {
    label: s.label,
    reqPerSec: r.requests.average,
    latencyMs: { average: r.latency.average, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    requests: r.requests.total,
    non2xx: r.non2xx,
    transportErrors: r.errors,
    timeouts: r.timeouts,
    graphqlErrors: r.mismatches,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, { count }]) => [code, count])),
  };
}

// ---------------------------------------------------------------------------------------------
// report

function report(results: Record<Scenario['key'], ScenarioResult>) {
  const simpleRatio = results.berthUser.reqPerSec / results.baseline.reqPerSec;
  const deploymentsRatio = results.berthDeployments.reqPerSec / results.baseline.reqPerSec;
  const floorRatio = results.berthFloor.reqPerSec / results.baseline.reqPerSec;
  // what the authorization policy costs a caller who is not a site admin, on the same list
  const scopedRatio = results.berthDeploymentsScoped.reqPerSec / results.berthDeployments.reqPerSec;
  const simpleP99 = results.berthUser.latencyMs.p99;
  const targets = {
    simpleRatio: { target: `>= ${TARGETS.simpleRatioMin}`, actual: round(simpleRatio, 3), met: simpleRatio >= TARGETS.simpleRatioMin },
    simpleP99Ms: { target: `<= ${TARGETS.simpleP99MaxMs}`, actual: simpleP99, met: simpleP99 <= TARGETS.simpleP99MaxMs },
  };

  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx'];
  const rows = Object.values(results).map((r) => [
    r.label,
    r.reqPerSec.toFixed(0),
    String(r.latencyMs.p50),
    String(r.latencyMs.p99),
    String(r.transportErrors + r.graphqlErrors),
    String(r.non2xx),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   ');
  const verdict = (met: boolean) => (met ? 'met' : 'MISSED');

  const text = [
    '',
    `${settings.connections} connections, pipelining ${settings.pipelining}, ${settings.durationSeconds} s per scenario after a ${settings.warmupSeconds} s warm-up` +
      ` (node ${process.version}, ${os.cpus().length} CPUs, load generator on the same machine)`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    'errors = socket errors and timeouts + responses carrying GraphQL errors',
    '',
    `Berth simple / baseline req/s:          ${simpleRatio.toFixed(3)}   target ${targets.simpleRatio.target}: ${verdict(targets.simpleRatio.met)}`,
    `Berth simple p99:                       ${simpleP99} ms   target ${targets.simpleP99Ms.target} ms: ${verdict(targets.simpleP99Ms.met)}`,
    `Berth deployments(50) / baseline req/s: ${deploymentsRatio.toFixed(3)}   (no target)`,
    `Berth serverInfo / baseline req/s:      ${floorRatio.toFixed(3)}   (no target: the HTTP + Apollo + auth floor)`,
    `deployments(50) env User / site admin:  ${scopedRatio.toFixed(3)}   (no target: the cost of read scoping)`,
    '',
  ].join('\n');

  const json = {
    finishedAt: new Date().toISOString(),
    settings: {
      durationSeconds: settings.durationSeconds,
      warmupSeconds: settings.warmupSeconds,
      connections: settings.connections,
      pipelining: settings.pipelining,
      seededDeployments: SEEDED_DEPLOYMENTS,
      node: process.version,
      cpus: os.cpus().length,
    },
    scenarios: results,
    ratios: {
      berthUserVsBaseline: round(simpleRatio, 3),
      berthDeploymentsVsBaseline: round(deploymentsRatio, 3),
      berthFloorVsBaseline: round(floorRatio, 3),
      scopedVsSiteAdmin: round(scopedRatio, 3),
    },
    targets,
  };
  return { text, json };
}

// ---------------------------------------------------------------------------------------------
// main

async function main(): Promise<void> {
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

  await withCleanup('stopping the servers and dropping the database', cleanup, async () => {
    // Berth: it migrates the empty database and creates the admin
    const berth = new BerthProcess('berth', await freePort(), { DATABASE_URL: db.url }, { echoStderr: true });
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

    const baseline = new ServerProcess('baseline', join(ROOT, 'dist/bench/baseline-server.js'), await freePort(), { DATABASE_URL: db.url }, { echoStderr: true });
    children.push(baseline);
    await baseline.waitReady(READY_TIMEOUT_MS);
    console.log(`baseline ready on port ${baseline.port}`);

    const userBody = JSON.stringify({
      query: 'query U($id: ID!) { user(id: $id) { id email displayName } }',
      variables: { id: userId },
    });
    const checkUser = (data: Record<string, unknown>) =>
      (data.user as { id?: string } | null)?.id === userId ? undefined : `expected user ${userId}, got ${JSON.stringify(data.user)}`;
    const json = { 'content-type': 'application/json' };
    const auth = { ...json, authorization: `Bearer ${token}` };

    const deploymentsList = {
      body: JSON.stringify({
        query: '{ deployments(first: 50) { edges { node { id name cluster { name env { name } } kind { name } helmChart { imageTag } latestTask { id status } } } } }',
      }),
      server: berth,
      checkData: (data: Record<string, unknown>) => {
        const edges = (data.deployments as { edges?: unknown[] } | null)?.edges;
        return edges?.length === SEEDED_DEPLOYMENTS ? undefined : `expected ${SEEDED_DEPLOYMENTS} edges, got ${edges?.length ?? 'none'}`;
      },
    };
    const scenarios: Scenario[] = [
      { key: 'baseline', label: 'baseline user (node:http + pg)', url: `${baseline.origin}/graphql`, headers: json, body: userBody, server: baseline, checkData: checkUser },
      // the stack's own floor: authenticated, no database read (where the rest of Berth's cost sits)
      {
        key: 'berthFloor',
        label: 'Berth serverInfo (no SQL)',
        url: berthUrl,
        headers: auth,
        body: JSON.stringify({ query: '{ serverInfo { version } }' }),
        server: berth,
        checkData: (data) => ((data.serverInfo as { version?: string } | null)?.version ? undefined : 'expected serverInfo.version'),
      },
      { key: 'berthUser', label: 'Berth user(id)', url: berthUrl, headers: auth, body: userBody, server: berth, checkData: checkUser },
      { key: 'berthDeployments', label: 'Berth deployments(first: 50)', url: berthUrl, headers: auth, ...deploymentsList },
      {
        key: 'berthDeploymentsScoped',
        label: 'Berth deployments(first: 50), env User',
        url: berthUrl,
        headers: { ...json, 'x-platz-token': scopedToken.token },
        ...deploymentsList,
      },
    ];

    // one after the other: the machine is shared by the servers and the load generator
    const results = {} as Record<Scenario['key'], ScenarioResult>;
    for (const s of scenarios) results[s.key] = await runScenario(s);

    const { text, json: resultJson } = report(results);
    console.log(text);
    await mkdir(dirname(RESULTS_FILE), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(resultJson, null, 2)}\n`);
    console.log(`wrote ${RESULTS_FILE}`);
  });
}

run(main);
