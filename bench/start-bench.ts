/**
 * `npm run bench:start`: how long Berth takes to be ready, and how much memory it holds, on each engine.
 *
 * Each round (BENCH_START_ROUNDS, default 3) starts Berth (dist/src/main.js, as `npm start` runs it, with its
 * default settings: background work on, no cluster, no Redis) four times, one after the other:
 * 1. embedded, first start: on a new, empty data folder;
 * 2. embedded, restart: on that folder again;
 * 3. embedded, restart with BERTH_EMBEDDED_OPTIMIZE_WASM=true: what the optimizing WebAssembly tiers cost and give;
 * 4. PostgreSQL: on a fresh database berth_bench_<random> on the server of BENCH_DATABASE_URL (an admin connection,
 *    default postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards.
 * For each it measures:
 * - ready: from spawning the process to the first 200 of GET /readyz (polled every 20 ms);
 * - idle RSS: VmRSS after BENCH_START_SETTLE seconds (default 10) of idling, then after a full GC requested over the
 *   server's inspector (the figure the comparisons use); peak RSS: VmHWM at that point;
 * - reads: the mean latency of BENCH_START_READS (default 500) sequential GraphQL reads as the admin (the caller,
 *   the users and the envs: a few SQL statements each), over all of them and over the last half (once any
 *   tier-up is done), then VmRSS after them.
 * Prints the median of each figure over the rounds, with every round's, and writes them as JSON to
 * bench/results/start.json.
 *
 * The figures are for comparing versions of Berth on one machine: run it when the machine is quiet.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { createDatabase, type CleanupStep, freePort, gql, InspectedBerth, loginAdmin, positiveNumber, ROOT, round, run, table, withCleanup } from './support.js';

const RESULTS_FILE = join(ROOT, 'bench/results/start.json');
const READY_TIMEOUT_MS = 120_000;
const READY_POLL_MS = 20;

const settings = {
  adminUrl: process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  rounds: positiveNumber('BENCH_START_ROUNDS', process.env.BENCH_START_ROUNDS || undefined, 3, { integer: true }),
  settleSeconds: positiveNumber('BENCH_START_SETTLE', process.env.BENCH_START_SETTLE || undefined, 10),
  reads: positiveNumber('BENCH_START_READS', process.env.BENCH_START_READS || undefined, 500, { integer: true }),
};

const READ = '{ me { ... on User { id } } users(first: 50) { edges { node { id username email } } } envs(first: 50) { edges { node { id name } } } }';

interface Start {
  readySeconds: number;
  /** MB */
  idleRss: number;
  idleRssBeforeGc: number;
  peakRss: number;
  /** ms per read */
  readMs: number;
  readMsLastHalf: number;
  /** MB, after the reads */
  rssAfterReads: number;
}
type Figure = keyof Start;

type ScenarioKey = 'embeddedFirst' | 'embeddedRestart' | 'embeddedOptimized' | 'postgres';
const SCENARIOS: { key: ScenarioKey; label: string }[] = [
  { key: 'embeddedFirst', label: 'embedded, first start' },
  { key: 'embeddedRestart', label: 'embedded, restart' },
  { key: 'embeddedOptimized', label: 'embedded, restart, BERTH_EMBEDDED_OPTIMIZE_WASM' },
  { key: 'postgres', label: 'PostgreSQL, fresh database' },
];

const mb = (kb: number) => round(kb / 1024, 0);

/** One start of Berth on `env`: its figures, then it is stopped. */
async function measureStart(name: string, env: Record<string, string>, stopAtCleanup: (server: InspectedBerth) => void): Promise<Start> {
  const port = await freePort();
  const started = performance.now();
  const server = new InspectedBerth(name, port, env);
  stopAtCleanup(server);
  await server.waitReady(READY_TIMEOUT_MS, READY_POLL_MS);
  const readySeconds = (performance.now() - started) / 1000;
  const { settled, collected } = await server.measureRss(settings.settleSeconds * 1000);
  const peak = await server.statusKb('VmHWM');

  const url = `${server.origin}/graphql`;
  const headers = { authorization: `Bearer ${await loginAdmin(url)}` };
  const latencies: number[] = [];
  for (let i = 0; i < settings.reads; i++) {
    const sent = performance.now();
    await gql(url, READ, {}, headers);
    latencies.push(performance.now() - sent);
  }
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
  const rssAfterReads = await server.statusKb('VmRSS');
  await server.stop();
  return {
    readySeconds: round(readySeconds, 2),
    idleRss: mb(collected),
    idleRssBeforeGc: mb(settled),
    peakRss: mb(peak),
    readMs: round(mean(latencies), 2),
    readMsLastHalf: round(mean(latencies.slice(Math.floor(latencies.length / 2))), 2),
    rssAfterReads: mb(rssAfterReads),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : round((sorted[mid - 1] + sorted[mid]) / 2, 2);
}

function report(results: Record<ScenarioKey, Start[]>): string {
  const cell = (starts: Start[], figure: Figure) => {
    const values = starts.map((s) => s[figure]);
    return values.length > 1 ? `${median(values)} (${values.join(', ')})` : String(values[0]);
  };
  const columns: [string, Figure][] = [
    ['ready s', 'readySeconds'],
    ['idle RSS MB', 'idleRss'],
    ['before GC', 'idleRssBeforeGc'],
    ['peak MB', 'peakRss'],
    ['read ms', 'readMs'],
    ['last half', 'readMsLastHalf'],
    ['RSS after', 'rssAfterReads'],
  ];
  const rows = SCENARIOS.map(({ key, label }) => [label, ...columns.map(([, figure]) => cell(results[key], figure))]);
  return [
    `median over ${settings.rounds} round${settings.rounds === 1 ? '' : 's'} (each round's in parentheses); idle after ${settings.settleSeconds} s; ${settings.reads} reads`,
    '',
    ...table(['start', ...columns.map(([header]) => header)], rows),
  ].join('\n');
}

async function main(): Promise<void> {
  const results: Record<ScenarioKey, Start[]> = { embeddedFirst: [], embeddedRestart: [], embeddedOptimized: [], postgres: [] };
  const servers: InspectedBerth[] = [];
  const folders: string[] = [];
  const databases: Awaited<ReturnType<typeof createDatabase>>[] = [];
  const cleanup = async (step: CleanupStep) => {
    await Promise.all(servers.map((server) => step(`stopping ${server.name}`, () => server.stop())));
    await Promise.all(folders.map((dir) => step(`removing ${dir}`, () => rm(dir, { recursive: true, force: true }))));
    await Promise.all(databases.map((db) => step(`dropping ${db.name}`, db.drop)));
  };
  const track = (server: InspectedBerth) => void servers.push(server);

  await withCleanup('stopping the servers, removing their data', cleanup, async () => {
    for (let round = 1; round <= settings.rounds; round++) {
      const dataDir = await mkdtemp(join(os.tmpdir(), 'berth-start-bench-'));
      folders.push(dataDir);
      const embedded = { BERTH_DATA_DIR: dataDir };
      const db = await createDatabase(settings.adminUrl);
      databases.push(db);
      const runs: [ScenarioKey, Record<string, string>][] = [
        ['embeddedFirst', embedded],
        ['embeddedRestart', embedded],
        ['embeddedOptimized', { ...embedded, BERTH_EMBEDDED_OPTIMIZE_WASM: 'true' }],
        ['postgres', { DATABASE_URL: db.url }],
      ];
      for (const [key, env] of runs) {
        const start = await measureStart(`berth (${key}, round ${round})`, env, track);
        results[key].push(start);
        console.log(`round ${round}, ${SCENARIOS.find((s) => s.key === key)!.label}: ${JSON.stringify(start)}`);
      }
    }
  });

  console.log(`\n${report(results)}`);
  await mkdir(dirname(RESULTS_FILE), { recursive: true });
  const { rounds, settleSeconds, reads } = settings;
  const json = { finishedAt: new Date().toISOString(), settings: { rounds, settleSeconds, reads, node: process.version, cpus: os.cpus().length }, results };
  await writeFile(RESULTS_FILE, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nwritten to ${RESULTS_FILE}`);
}

run(main);
