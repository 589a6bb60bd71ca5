/**
 * `npm run bench:subscriptions -- [N] [--users U] [--rate R] [--seconds S]`: Berth's change events under many subscribers.
 *
 * 1. starts Berth (dist/src/main.js) as a child process, on an embedded database in a temporary directory or,
 *    when BENCH_DATABASE_URL is set (an admin connection), on a fresh database berth_bench_<random> there;
 *    either is removed at the end, also on failure or Ctrl-C;
 * 2. over HTTP as the admin: envs (one per user up to 8), and U users (default 1) with an API token each and
 *    different roles: every 20th a site admin, of the others every fourth env Admin of one env, the rest env
 *    Users of one to three envs (so every event goes through the read policy, as for most real subscribers;
 *    one user is an env User of the one env);
 * 3. opens N WebSocket connections (default 1,000) from this process, speaking graphql-transport-ws
 *    directly over `ws` (lighter than the graphql-ws client at 10,000), each subscribing to env events
 *    as one of the users (the i-th as user i mod U), a batch at a time, each counted once its LIVE marker arrives;
 * 4. publishes `updateEnv` at --rate per second (default 2) for --seconds (default 20), on each env in turn,
 *    the description carrying the sequence number and the send time; every subscriber measures receive
 *    time minus send time (one clock: the publisher is this process);
 * 5. reads from the server's /metrics how many times it executed the selection meanwhile (what the subscribers
 *    did not share: once per event when they may all share, see docs/architecture.md);
 * 6. prints a table against the targets and a one-line JSON summary; exits non-zero when a
 *    subscriber failed, did not receive exactly the updates of the envs its user may see (one lost, one
 *    of another env, one twice), or an update failed.
 *
 * RSS per subscriber is the server's VmRSS once all subscribers are live minus before the first opened
 * (after a warm-up batch opened and closed), divided by N. Each is read after a ~2 s settle, then again
 * after a full GC requested over the server's inspector (127.0.0.1 only): where the collector happens to
 * be swings an idle server's RSS by tens of MB, as much as 1,000 subscribers take. The target is judged on
 * the figure after the GC.
 *
 * Environment: BENCH_DATABASE_URL (see 1), BENCH_CPU_PROF_DIR (runs the server with --cpu-prof writing there).
 *
 * The subscribers run on the same machine as the server and take CPU from it: figures are for
 * comparing versions of Berth, and a lower bound on what the server alone would do.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { type CleanupStep, createStorage, errorMessage, freePort, gql, InspectedBerth, loginAdmin, percentile, positiveNumber, refuse, REQUEST_TIMEOUT_MS, round, run, withCleanup } from './support.js';

/** an embedded database runs its migrations before /readyz answers, which takes a while */
const READY_TIMEOUT_MS = 60_000;
/** an overloaded server answers updateEnv late; one given up on may still commit */
const PUBLISH_TIMEOUT_MS = 60_000;
/** subscribers opened at once; the next batch waits for this one to be live */
const CONNECT_BATCH = 200;
const LIVE_TIMEOUT_MS = 30_000;
/** lets the server's heap and sockets settle before RSS is read */
const SETTLE_MS = 2_000;
/** the drain ends when every message arrived, or when none has for this long */
const DRAIN_IDLE_MS = 5_000;
/** sockets this process needs besides the subscribers' (stdio, HTTP, the database) */
const FD_MARGIN = 100;
/** USER_HZ: the unit of utime and stime in /proc/<pid>/stat, 100 on Linux */
const CLOCK_TICKS = 100;
/** envs the updates go to in turn: one per user, up to this many */
const MAX_ENVS = 8;
/** every this-many-th user is a site admin (when there are several) */
const SITE_ADMIN_EVERY = 20;
/** users set up at once */
const SETUP_CONCURRENCY = 8;

/** what the bench reads of the server's /metrics */
const METRICS_TOKEN = randomBytes(24).toString('hex');

/** the targets, on a 2-core machine */
const TARGETS = { subscribers: 10_000, users: 2_000, p99MaxMs: 1_000, rssPerSubscriberMaxKb: 40 } as const;

const SUBSCRIPTION = 'subscription { events(types: [ENV]) { operation cursor node { ... on Env { id description } } } }';
const UPDATE_ENV = 'mutation($id: ID!, $input: UpdateEnvInput!) { updateEnv(id: $id, input: $input) { id } }';

const settings = readSettings();

function readSettings() {
  const usage = 'npm run bench:subscriptions -- [subscribers] [--users users] [--rate events-per-second] [--seconds duration]';
  let parsed;
  try {
    parsed = parseArgs({ options: { users: { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' } }, allowPositionals: true });
  } catch (err) {
    return refuse(errorMessage(err), usage);
  }
  if (parsed.positionals.length > 1) refuse(`one positional argument (the number of subscribers), got ${parsed.positionals.length}`, usage);
  const subscribers = positiveNumber('subscribers', parsed.positionals[0], 1_000, { integer: true, usage });
  const users = positiveNumber('--users', parsed.values.users, 1, { integer: true, usage });
  if (users > subscribers) refuse(`--users must be at most the number of subscribers (${subscribers}), got ${users}`, usage);
  const rate = positiveNumber('--rate', parsed.values.rate, 2, { usage });
  const seconds = positiveNumber('--seconds', parsed.values.seconds, 20, { usage });
  const events = Math.round(rate * seconds);
  if (events < 1) refuse(`--rate × --seconds must make at least one event, got ${rate * seconds}`, usage);
  return { subscribers, users, envs: Math.min(users, MAX_ENVS), rate, seconds, events, adminUrl: process.env.BENCH_DATABASE_URL || undefined, cpuProfDir: process.env.BENCH_CPU_PROF_DIR || undefined };
}

/** Every subscriber is a socket in this process and in the server: refuse what `ulimit -n` would make fail halfway. */
async function checkFileLimit(): Promise<void> {
  const limits = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1]);
  if (soft && settings.subscribers + FD_MARGIN > soft) {
    throw new Error(`${settings.subscribers} subscribers need about ${settings.subscribers + FD_MARGIN} open files, and ulimit -n is ${soft}`);
  }
}

// ---------------------------------------------------------------------------------------------
// the server

/** Berth with its inspector open (127.0.0.1 only), and what it uses of memory and CPU. */
class Server extends InspectedBerth {
  /** `cpuProfDir`: where to write a CPU profile (--cpu-prof), if anywhere */
  constructor(port: number, env: Record<string, string>, cpuProfDir: string | undefined) {
    super('the server', port, env, { nodeArgs: cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [] });
  }

  /** Selections executed for live events so far (berth_subscription_executions_total): what subscribers did not share. */
  async executions(): Promise<number> {
    const res = await fetch(`${this.origin}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const line = (await res.text()).split('\n').find((l) => l.startsWith('berth_subscription_executions_total '));
    if (!line) throw new Error(`no berth_subscription_executions_total in the server's /metrics (HTTP ${res.status})`);
    return Number(line.split(' ')[1]);
  }

  /** CPU seconds used so far, user and system, all threads */
  async cpuSeconds(): Promise<number> {
    const stat = await readFile(`/proc/${this.pid}/stat`, 'utf8');
    // fields after the command name, which may itself hold spaces: utime and stime are the 14th and 15th of the line
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }
}

// ---------------------------------------------------------------------------------------------
// setup over GraphQL

type Role = 'site admin' | 'env Admin' | 'env User';

/** A user the subscribers subscribe as: its role, the envs it holds it in (indexes), and what it may see. */
interface BenchUser {
  role: Role;
  envs: number[];
  token: string;
  /** the ids of the envs whose updates it receives: those of its roles, or all for a site admin */
  visible: ReadonlySet<string>;
}

/** The role of user `i` of `users` over `envs` envs; one user alone is an env User of the one env. */
function roleOf(i: number, users: number, envs: number): { role: Role; envs: number[] } {
  if (users > 1 && i % SITE_ADMIN_EVERY === SITE_ADMIN_EVERY - 1) return { role: 'site admin', envs: [] };
  if (i % 4 === 1) return { role: 'env Admin', envs: [i % envs] };
  return { role: 'env User', envs: Array.from({ length: Math.min(envs, 1 + (i % 3)) }, (_, k) => (i + k) % envs) };
}

interface Setup {
  adminHeaders: Record<string, string>;
  envIds: string[];
  users: BenchUser[];
}

const CREATE_ENV = 'mutation($input: CreateEnvInput!) { createEnv(input: $input) { id } }';
const CREATE_USER = 'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }';
const CREATE_PERMISSION = 'mutation($input: CreateEnvUserPermissionInput!) { createEnvUserPermission(input: $input) { id } }';
const CREATE_TOKEN = 'mutation($input: CreateUserTokenInput!) { createUserToken(input: $input) { token } }';

async function setUp(url: string): Promise<Setup> {
  const adminHeaders = { authorization: `Bearer ${await loginAdmin(url)}` };
  const envIds: string[] = [];
  for (let k = 0; k < settings.envs; k++) {
    const { createEnv } = await gql<{ createEnv: { id: string } }>(url, CREATE_ENV, { input: { name: `bench-subscriptions-${k}`, description: 'start' } }, adminHeaders);
    envIds.push(createEnv.id);
  }
  const users: BenchUser[] = [];
  const setUpUser = async (i: number) => {
    const { role, envs } = roleOf(i, settings.users, settings.envs);
    const name = `bench-subscriber-${i}`;
    const input = { username: name, email: `${name}@example.com`, displayName: `Bench Subscriber ${i}`, isAdmin: role === 'site admin' };
    const { createUser } = await gql<{ createUser: { id: string } }>(url, CREATE_USER, { input }, adminHeaders);
    for (const k of envs) {
      await gql(url, CREATE_PERMISSION, { input: { envId: envIds[k], userId: createUser.id, role: role === 'env Admin' ? 'Admin' : 'User' } }, adminHeaders);
    }
    const { createUserToken } = await gql<{ createUserToken: { token: string } }>(url, CREATE_TOKEN, { input: { userId: createUser.id, name: 'bench' } }, adminHeaders);
    users[i] = { role, envs, token: createUserToken.token, visible: new Set(role === 'site admin' ? envIds : envs.map((k) => envIds[k])) };
  };
  // a few at a time: each is a handful of small writes
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < settings.users; i = next++) {
      await setUpUser(i);
      if ((i + 1) % 500 === 0) console.log(`  ${i + 1} users set up`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SETUP_CONCURRENCY, settings.users) }, worker));
  return { adminHeaders, envIds, users };
}

// ---------------------------------------------------------------------------------------------
// subscribers

/**
 * What all subscribers received, kept in one place so waiting on it costs nothing per subscriber. A
 * message is an update's by its cursor, not by the description it shows: the node is the env as it is
 * when the server dispatches, so a server running behind shows the newest description on older events.
 */
class Deliveries {
  /** the cursor and receive time of every update message, in arrival order */
  readonly cursors: number[] = [];
  readonly receivedAt: number[] = [];
  /** the env of each update received, by cursor */
  readonly envOf = new Map<number, string>();
  /** a cursor a subscriber had already had, or one older than its last */
  duplicates = 0;
  /** messages that are neither the opening nor one of the published updates */
  unexpected = 0;
  /** updates of an env the subscriber's user may not see */
  foreign = 0;

  get delivered(): number {
    return this.cursors.length;
  }
}

type ServerMessage =
  | { type: 'connection_ack' | 'ping' | 'pong' | 'complete'; id?: string }
  | { type: 'next'; id: string; payload: { data?: { events?: { operation: string; cursor: string; node: { id?: string; description?: string | null } | null } } | null; errors?: { message: string }[] } }
  | { type: 'error'; id: string; payload: { message: string }[] };

/** One graphql-transport-ws connection with one subscription, over a bare `ws` socket. */
class Subscriber {
  failure: string | undefined;
  /** updates of its user's envs received, each once */
  received = 0;
  /** settles once the subscription is live or has failed */
  readonly ready: Promise<void>;
  private settle!: () => void;
  private readonly ws: WebSocket;
  /** events arrive in cursor order */
  private lastCursor = 0;
  private closing = false;
  private readonly liveTimer: NodeJS.Timeout;

  constructor(
    url: string,
    readonly user: BenchUser,
    private readonly deliveries: Deliveries,
  ) {
    this.ready = new Promise((done) => (this.settle = done));
    this.liveTimer = setTimeout(() => this.fail(`no LIVE marker within ${LIVE_TIMEOUT_MS / 1000} s`), LIVE_TIMEOUT_MS);
    this.ws = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false, handshakeTimeout: REQUEST_TIMEOUT_MS });
    this.ws.on('open', () => this.ws.send(JSON.stringify({ type: 'connection_init', payload: { 'x-platz-token': user.token } })));
    this.ws.on('message', (data) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(String(data)) as ServerMessage;
      } catch {
        return this.fail(`a message that is not JSON: ${String(data).slice(0, 200)}`);
      }
      this.receive(message);
    });
    this.ws.on('error', (err) => this.fail(err.message));
    this.ws.on('close', (code, reason) => this.fail(`closed by the server: ${code} ${String(reason)}`.trim()));
  }

  private receive(message: ServerMessage): void {
    switch (message.type) {
      case 'connection_ack':
        return this.ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION } }));
      case 'ping':
        return this.ws.send('{"type":"pong"}');
      case 'pong':
        return;
      case 'error':
        return this.fail(`subscription refused: ${message.payload.map((e) => e.message).join('; ')}`);
      case 'complete':
        return this.fail('the server completed the subscription');
      case 'next':
        break;
    }
    const { data, errors } = message.payload;
    if (errors?.length) return this.fail(`errors in a message: ${errors.map((e) => e.message).join('; ')}`);
    const event = data?.events;
    if (event?.operation === 'LIVE') {
      clearTimeout(this.liveTimer);
      return this.settle();
    }
    if (event?.operation === 'SNAPSHOT') return;
    const d = this.deliveries;
    const cursor = Number(event?.cursor);
    const envId = event?.node?.id ?? '';
    if (event?.operation !== 'UPDATE' || !/^\d+:\d+$/.test(event.node?.description ?? '')) d.unexpected++;
    else if (!this.user.visible.has(envId)) d.foreign++;
    else if (cursor <= this.lastCursor) d.duplicates++;
    else {
      this.lastCursor = cursor;
      this.received++;
      d.cursors.push(cursor);
      d.receivedAt.push(Date.now());
      d.envOf.set(cursor, envId);
    }
  }

  private fail(reason: string): void {
    if (this.closing || this.failure) return;
    this.failure = reason;
    clearTimeout(this.liveTimer);
    this.settle();
    this.ws.terminate();
  }

  close(): void {
    this.closing = true;
    clearTimeout(this.liveTimer);
    this.ws.terminate();
  }
}

/**
 * Opens subscribers into `all` up to `count`, a batch at a time, the i-th as user i mod U; stops early when a whole batch
 * fails (the server is gone or refusing).
 */
async function openSubscribers(wsUrl: string, users: BenchUser[], server: Server, deliveries: Deliveries, all: Subscriber[], count: number): Promise<void> {
  while (all.length < count) {
    const first = all.length;
    const batch = Array.from({ length: Math.min(CONNECT_BATCH, count - first) }, (_, i) => new Subscriber(wsUrl, users[(first + i) % users.length], deliveries));
    all.push(...batch);
    await Promise.all(batch.map((s) => s.ready));
    if (batch.every((s) => s.failure)) throw new Error(`a whole batch of subscribers failed (${batch[0].failure}).\n${server.describe()}`);
    if (all.length % 2_000 === 0) console.log(`  ${all.length} subscribers live`);
  }
}

// ---------------------------------------------------------------------------------------------
// publishing

interface Published {
  /** sentAt[seq - 1]: when update seq was sent */
  sentAt: number[];
  succeeded: number;
  /** updates that succeeded, by env id */
  succeededByEnv: Map<string, number>;
  errors: string[];
  /** time from send to response of each updateEnv, ms */
  mutationMs: number[];
  startedAt: number;
}

/** The env update `seq` (from 1) goes to: each in turn. */
const envOfUpdate = (setup: Setup, seq: number) => setup.envIds[(seq - 1) % setup.envIds.length];

/** updateEnv at the set rate, on schedule: a slow mutation does not delay the next one. */
async function publish(url: string, setup: Setup): Promise<Published> {
  const result: Published = { sentAt: [], succeeded: 0, succeededByEnv: new Map(), errors: [], mutationMs: [], startedAt: Date.now() };
  const pending: Promise<void>[] = [];
  for (let seq = 1; seq <= settings.events; seq++) {
    await sleep(Math.max(0, result.startedAt + ((seq - 1) * 1000) / settings.rate - Date.now()));
    const sentAt = Date.now();
    result.sentAt.push(sentAt);
    const envId = envOfUpdate(setup, seq);
    const variables = { id: envId, input: { description: `${seq}:${sentAt}` } };
    pending.push(
      gql(url, UPDATE_ENV, variables, setup.adminHeaders, PUBLISH_TIMEOUT_MS).then(
        () => {
          result.succeeded++;
          result.succeededByEnv.set(envId, (result.succeededByEnv.get(envId) ?? 0) + 1);
          result.mutationMs.push(Date.now() - sentAt);
        },
        (err: unknown) => void result.errors.push(`update ${seq}: ${errorMessage(err)}`),
      ),
    );
  }
  await Promise.all(pending);
  return result;
}

/** Messages there are when every update sent reaches every subscriber whose user may see its env. */
function messagesPlanned(setup: Setup, subscribers: Subscriber[]): number {
  const updates = new Map<string, number>();
  for (let seq = 1; seq <= settings.events; seq++) updates.set(envOfUpdate(setup, seq), (updates.get(envOfUpdate(setup, seq)) ?? 0) + 1);
  return subscribers.reduce((sum, s) => sum + [...s.user.visible].reduce((n, id) => n + (updates.get(id) ?? 0), 0), 0);
}

/** Until every update sent reached every subscriber that may see it (one given up on may still have committed), or no message came for DRAIN_IDLE_MS. */
async function drain(deliveries: Deliveries, planned: number): Promise<void> {
  let seen = deliveries.delivered;
  let progressAt = Date.now();
  while (deliveries.delivered < planned && Date.now() - progressAt < DRAIN_IDLE_MS) {
    await sleep(50);
    if (deliveries.delivered !== seen) [seen, progressAt] = [deliveries.delivered, Date.now()];
  }
}

// ---------------------------------------------------------------------------------------------
// report

/**
 * Receive time minus send time of every message. Cursor order is commit order, and commits follow send
 * order unless updates overlapped (a server answering slower than the rate): the n-th cursor is then
 * matched to the n-th update, off by at most the overlap. `committed`: updates some subscriber received.
 */
function eventLatencies(published: Published, d: Deliveries): { committed: number; latencies: number[]; slowest: number } {
  const order = new Map([...new Set(d.cursors)].sort((a, b) => a - b).map((cursor, i) => [cursor, i]));
  const latencies = d.cursors.map((cursor, i) => d.receivedAt[i] - (published.sentAt[order.get(cursor)!] ?? NaN));
  // which update the slowest message was of (from 1): a stall hits one update's receivers, steady overload all of them
  const worst = latencies.reduce((w, latency, i) => (latency > latencies[w] ? i : w), 0);
  return { committed: order.size, latencies, slowest: (order.get(d.cursors[worst]) ?? NaN) + 1 };
}

const sortedCopy = (values: number[]) => Float64Array.from(values).sort();

interface Measurements {
  database: string;
  setup: Setup;
  subscribers: Subscriber[];
  connectSeconds: number;
  /** the server's, before the first subscriber and once all are live */
  rssKb: { before: { settled: number; collected: number }; live: { settled: number; collected: number } };
  published: Published;
  deliveries: Deliveries;
  /** CPU seconds the server and this process used over `seconds`, from the first publish to the end of the drain */
  cpu: { server: number; bench: number; seconds: number };
  /** the server's executions of the subscriptions' selection over the same time */
  executions: number;
}

function report(m: Measurements) {
  const failures = new Map<string, number>();
  for (const s of m.subscribers) if (s.failure) failures.set(s.failure, (failures.get(s.failure) ?? 0) + 1);
  const failed = [...failures.values()].reduce((a, b) => a + b, 0);
  const live = m.subscribers.length - failed;
  const d = m.deliveries;
  const updates = eventLatencies(m.published, d);
  const events = Math.max(updates.committed, m.published.succeeded);
  // each env's updates that committed: those that succeeded, and any given up on that a subscriber received all the same
  const seen = new Map<string, number>();
  for (const envId of d.envOf.values()) seen.set(envId, (seen.get(envId) ?? 0) + 1);
  const committed = (envId: string) => Math.max(m.published.succeededByEnv.get(envId) ?? 0, seen.get(envId) ?? 0);
  // every subscriber is expected to have received exactly the updates of its user's envs, a failed one too: its losses count
  let expected = 0;
  let lost = 0;
  let short = 0;
  for (const s of m.subscribers) {
    const own = [...s.user.visible].reduce((n, envId) => n + committed(envId), 0);
    expected += own;
    if (s.received < own) [lost, short] = [lost + own - s.received, short + 1];
  }
  const windowSeconds = Math.max((d.receivedAt.at(-1) ?? 0) - m.published.startedAt, 1) / 1000;
  const latencies = sortedCopy(updates.latencies);
  const latency = { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: percentile(latencies, 1) };
  const mutations = sortedCopy(m.published.mutationMs);
  const perSubscriber = (k: 'settled' | 'collected') => (m.rssKb.live[k] - m.rssKb.before[k]) / settings.subscribers;
  const rssPerSubscriberKb = perSubscriber('collected');
  const problems = [
    failed && `${failed} subscribers failed`,
    lost && `${lost} messages lost (${short} subscribers short)`,
    d.foreign && `${d.foreign} messages of envs the subscriber's user may not see`,
    d.duplicates && `${d.duplicates} messages duplicated`,
    d.unexpected && `${d.unexpected} unexpected messages`,
    m.published.errors.length && `${m.published.errors.length} updates failed`,
  ].filter((p) => p !== 0);
  const ok = problems.length === 0;

  const targets = {
    // null: a run with fewer subscribers does not test this target
    subscribers: { target: `>= ${TARGETS.subscribers} in one process`, actual: live, met: settings.subscribers >= TARGETS.subscribers ? failed === 0 : null },
    users: { target: `>= ${TARGETS.users} users`, actual: settings.users, met: settings.subscribers >= TARGETS.subscribers && settings.users >= TARGETS.users ? failed === 0 : null },
    exact: { target: 'each subscriber exactly the updates its user may see', actual: { lost, foreign: d.foreign, duplicates: d.duplicates }, met: !failed && !lost && !d.foreign && !d.duplicates },
    p99Ms: { target: `<= ${TARGETS.p99MaxMs}`, actual: latency.p99, met: latency.p99 <= TARGETS.p99MaxMs },
    rssPerSubscriberKb: { target: `<= ${TARGETS.rssPerSubscriberMaxKb}`, actual: round(rssPerSubscriberKb, 1), met: rssPerSubscriberKb <= TARGETS.rssPerSubscriberMaxKb },
  };
  const percent = (cpuSeconds: number) => `${((100 * cpuSeconds) / m.cpu.seconds).toFixed(0)}%`;
  const verdict = (t: { met: boolean | null }, run = '10000') => (t.met === null ? `not tried (run with ${run})` : t.met ? 'met' : 'MISSED');
  const roles = new Map<Role, number>();
  for (const u of m.setup.users) roles.set(u.role, (roles.get(u.role) ?? 0) + 1);
  const roleText = [...roles].map(([role, n]) => `${n} ${role}${n === 1 ? '' : 's'}`).join(', ');
  const rows: [string, string, string][] = [
    ['subscribers live / opened', `${live} / ${settings.subscribers}`, `target ${targets.subscribers.target}: ${verdict(targets.subscribers)}`],
    ['users subscribed as', `${settings.users}`, `${roleText}, over ${settings.envs} env${settings.envs === 1 ? '' : 's'}; target ${targets.users.target}: ${verdict(targets.users, '10000 --users 2000')}`],
    ['connect time (all live)', `${m.connectSeconds.toFixed(1)} s`, `${(settings.subscribers / m.connectSeconds).toFixed(0)} subscribers/s`],
    ['events published', `${events} / ${settings.events}`, `${settings.rate}/s for ${settings.seconds} s; updateEnv p50 ${percentile(mutations, 0.5)} ms, p99 ${percentile(mutations, 0.99)} ms`],
    ['messages delivered / expected', `${d.delivered} / ${expected}`, `each subscriber exactly its user's: ${verdict(targets.exact)} (${short} short, ${d.foreign} of others' envs, ${d.duplicates} duplicates, ${d.unexpected} unexpected)`],
    ['messages delivered per second', (d.delivered / windowSeconds).toFixed(0), `over ${windowSeconds.toFixed(1)} s, first publish to last delivery`],
    ['selections executed', `${m.executions}`, `for ${d.delivered} messages of ${events} updates: executions the subscribers shared`],
    ['latency p50', `${latency.p50} ms`, 'send of updateEnv to receipt by the subscriber'],
    ['latency p99', `${latency.p99} ms`, `target ${targets.p99Ms.target} ms: ${verdict(targets.p99Ms)}`],
    ['latency max', `${latency.max} ms`, `of update ${updates.slowest}`],
    [
      'server RSS idle / all live',
      `${mb(m.rssKb.before.collected)} / ${mb(m.rssKb.live.collected)} MB`,
      `after a full GC; ${mb(m.rssKb.before.settled)} / ${mb(m.rssKb.live.settled)} MB before it`,
    ],
    [
      'server RSS per subscriber',
      `${rssPerSubscriberKb.toFixed(1)} KB`,
      `target ${targets.rssPerSubscriberKb.target} KB: ${verdict(targets.rssPerSubscriberKb)} (${perSubscriber('settled').toFixed(1)} KB without the GC)`,
    ],
    ['CPU while publishing', `server ${percent(m.cpu.server)}, bench ${percent(m.cpu.bench)}`, `of one core, over ${m.cpu.seconds.toFixed(1)} s`],
  ];
  const widths = [0, 1].map((i) => Math.max(...rows.map((row) => row[i].length)));
  const text = [
    '',
    `${settings.subscribers} subscribers as ${settings.users} user${settings.users === 1 ? '' : 's'} (events(types: [ENV])), ${settings.rate} events/s for ${settings.seconds} s, ${m.database}` +
      ` (node ${process.version}, ${os.cpus().length} CPUs, subscribers in this process on the same machine)`,
    '',
    ...rows.map(([label, value, note]) => `${label.padEnd(widths[0])}   ${value.padStart(widths[1])}   ${note}`.trimEnd()),
    ...(failures.size ? ['', `subscribers failed (${failed}):`, ...[...failures].map(([reason, n]) => `  ${n} × ${reason}`)] : []),
    ...(m.published.errors.length ? ['', `publishing errors (${m.published.errors.length}):`, ...m.published.errors.slice(0, 5).map((e) => `  ${e}`)] : []),
    '',
    ok ? 'every subscriber received each update its user may see, once, and no other' : `FAILED: ${problems.join(', ')}`,
    '',
  ].join('\n');

  const json = {
    bench: 'subscriptions',
    ok,
    database: m.database,
    subscribers: settings.subscribers,
    users: settings.users,
    roles: Object.fromEntries(roles),
    envs: settings.envs,
    live,
    failed,
    rate: settings.rate,
    seconds: settings.seconds,
    published: events,
    expected,
    delivered: d.delivered,
    lost,
    subscribersShort: short,
    foreign: d.foreign,
    duplicates: d.duplicates,
    unexpected: d.unexpected,
    messagesPerSecond: round(d.delivered / windowSeconds, 0),
    executions: m.executions,
    latencyMs: { ...latency, slowestUpdate: updates.slowest },
    updateEnvMs: { p50: percentile(mutations, 0.5), p99: percentile(mutations, 0.99) },
    connectSeconds: round(m.connectSeconds, 1),
    serverRssKb: m.rssKb,
    rssPerSubscriberKb: round(rssPerSubscriberKb, 1),
    rssPerSubscriberKbWithoutGc: round(perSubscriber('settled'), 1),
    serverCpuPercent: round((100 * m.cpu.server) / m.cpu.seconds, 0),
    benchCpuPercent: round((100 * m.cpu.bench) / m.cpu.seconds, 0),
    node: process.version,
    cpus: os.cpus().length,
    targets,
  };
  return { text, json, ok };
}

const mb = (kb: number) => (kb / 1024).toFixed(0);

// ---------------------------------------------------------------------------------------------
// main

async function main(): Promise<boolean> {
  await checkFileLimit();
  const storage = await createStorage(settings.adminUrl, 'subscriptions');
  console.log(`created ${storage.label}`);
  let server: Server | undefined;
  const warmUp: Subscriber[] = [];
  const subscribers: Subscriber[] = [];

  const cleanup = async (step: CleanupStep) => {
    // closed here first, so the server's drain has no sockets to wait for
    [...warmUp, ...subscribers].forEach((s) => s.close());
    if (server) await step('stopping the server', () => server!.stop());
    await step(`removing the ${storage.label}`, storage.remove);
  };

  return withCleanup('stopping the server and removing the database', cleanup, async () => {
    const port = await freePort();
    server = new Server(
      port,
      {
        ...storage.env,
        BERTH_ADMIN_EMAIL: 'bench-admin@example.com',
        // a backlog is what this bench measures, not a reason to disconnect
        SUBSCRIPTION_QUEUE_LIMIT: '1000000',
        METRICS_TOKEN,
      },
      settings.cpuProfDir,
    );
    await server.waitReady(READY_TIMEOUT_MS);
    const url = `${server.origin}/graphql`;
    console.log(`server ready on port ${port} (pid ${server.pid}); setting up ${settings.envs} env${settings.envs === 1 ? '' : 's'} and ${settings.users} user${settings.users === 1 ? '' : 's'}…`);
    const setup = await setUp(url);

    const wsUrl = `ws://127.0.0.1:${port}/graphql`;
    // the first subscribers compile code and fill caches that all later ones share: not theirs to pay in RSS
    await openSubscribers(wsUrl, setup.users, server, new Deliveries(), warmUp, Math.min(CONNECT_BATCH, settings.subscribers));
    warmUp.forEach((s) => s.close());
    const rssBefore = await server.measureRss(SETTLE_MS);
    console.log(`opening ${settings.subscribers} subscribers, ${CONNECT_BATCH} at a time…`);
    const deliveries = new Deliveries();
    const connectStart = performance.now();
    await openSubscribers(wsUrl, setup.users, server, deliveries, subscribers, settings.subscribers);
    const connectSeconds = (performance.now() - connectStart) / 1000;
    const rssLive = await server.measureRss(SETTLE_MS);

    console.log(`publishing ${settings.events} updates at ${settings.rate}/s…`);
    const executionsBefore = await server.executions();
    const [serverCpuStart, benchCpuStart, cpuStart] = [await server.cpuSeconds(), process.cpuUsage(), performance.now()];
    const published = await publish(url, setup);
    await drain(deliveries, messagesPlanned(setup, subscribers));
    const benchCpu = process.cpuUsage(benchCpuStart);
    const cpu = { server: (await server.cpuSeconds()) - serverCpuStart, bench: (benchCpu.user + benchCpu.system) / 1e6, seconds: (performance.now() - cpuStart) / 1000 };
    if (!server.running) throw new Error(`the server died during the run.\n${server.describe()}`);
    const executions = (await server.executions()) - executionsBefore;

    const { text, json, ok } = report({
      database: settings.adminUrl ? 'PostgreSQL' : 'embedded database',
      setup,
      subscribers,
      connectSeconds,
      rssKb: { before: rssBefore, live: rssLive },
      published,
      deliveries,
      cpu,
      executions,
    });
    console.log(text);
    console.log(JSON.stringify(json));
    return ok;
  });
}

run(main);
