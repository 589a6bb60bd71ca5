/**
 * `npm run bench:subscriptions -- [N] [--rate R] [--seconds S]`: Berth's change events under many subscribers.
 *
 * 1. starts Berth (dist/src/main.js) as a child process, on an embedded database in a temporary directory or,
 *    when BENCH_DATABASE_URL is set (an admin connection), on a fresh database berth_bench_<random> there;
 *    either is removed at the end, also on failure or Ctrl-C;
 * 2. over HTTP as the admin: an env, and a user who is only env User there, with an API token (so every
 *    event goes through the read policy, as for most real subscribers);
 * 3. opens N WebSocket connections (default 1,000) from this process, speaking graphql-transport-ws
 *    directly over `ws` (lighter than the graphql-ws client at 10,000), each subscribing to the env's
 *    events as that user, a batch at a time, each counted once its LIVE marker arrives;
 * 4. publishes `updateEnv` on the env at --rate per second (default 2) for --seconds (default 20), the
 *    description carrying the sequence number and the send time; every subscriber measures receive time
 *    minus send time (one clock: the publisher is this process);
 * 5. prints a table against the targets and a one-line JSON summary; exits non-zero when a
 *    subscriber failed, a message was lost or duplicated, or an update failed.
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
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { BerthProcess, type CleanupStep, createStorage, errorMessage, freePort, gql, loginAdmin, percentile, positiveNumber, refuse, REQUEST_TIMEOUT_MS, round, run, withCleanup } from './support.js';

/** an embedded database runs its migrations before /readyz answers, which takes a while */
const READY_TIMEOUT_MS = 60_000;
/** an overloaded server answers updateEnv late; one given up on may still commit */
const PUBLISH_TIMEOUT_MS = 60_000;
/** subscribers opened at once; the next batch waits for this one to be live */
const CONNECT_BATCH = 200;
const LIVE_TIMEOUT_MS = 30_000;
/** lets the server's heap and sockets settle before RSS is read */
const SETTLE_MS = 2_000;
/** V8 hands the pages a collection freed back to the OS on background threads, shortly after */
const GC_SETTLE_MS = 500;
/** the drain ends when every message arrived, or when none has for this long */
const DRAIN_IDLE_MS = 5_000;
/** sockets this process needs besides the subscribers' (stdio, HTTP, the database) */
const FD_MARGIN = 100;
/** USER_HZ: the unit of utime and stime in /proc/<pid>/stat, 100 on Linux */
const CLOCK_TICKS = 100;

/** the targets, on a 2-core machine */
const TARGETS = { subscribers: 10_000, p99MaxMs: 1_000, rssPerSubscriberMaxKb: 60 } as const;

const SUBSCRIPTION = 'subscription { events(types: [ENV]) { operation cursor node { ... on Env { id description } } } }';
const UPDATE_ENV = 'mutation($id: ID!, $input: UpdateEnvInput!) { updateEnv(id: $id, input: $input) { id } }';

const settings = readSettings();

function readSettings() {
  const usage = 'npm run bench:subscriptions -- [subscribers] [--rate events-per-second] [--seconds duration]';
  let parsed;
  try {
    parsed = parseArgs({ options: { rate: { type: 'string' }, seconds: { type: 'string' } }, allowPositionals: true });
  } catch (err) {
    return refuse(errorMessage(err), usage);
  }
  if (parsed.positionals.length > 1) refuse(`one positional argument (the number of subscribers), got ${parsed.positionals.length}`, usage);
  const subscribers = positiveNumber('subscribers', parsed.positionals[0], 1_000, { integer: true, usage });
  const rate = positiveNumber('--rate', parsed.values.rate, 2, { usage });
  const seconds = positiveNumber('--seconds', parsed.values.seconds, 20, { usage });
  const events = Math.round(rate * seconds);
  if (events < 1) refuse(`--rate × --seconds must make at least one event, got ${rate * seconds}`, usage);
  return { subscribers, rate, seconds, events, adminUrl: process.env.BENCH_DATABASE_URL || undefined, cpuProfDir: process.env.BENCH_CPU_PROF_DIR || undefined };
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
class Server extends BerthProcess {
  private inspectorUrl?: string;

  /** `cpuProfDir`: where to write a CPU profile (--cpu-prof), if anywhere */
  constructor(port: number, env: Record<string, string>, cpuProfDir: string | undefined) {
    super('the server', port, env, { nodeArgs: ['--inspect=127.0.0.1:0', ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [])] });
    this.onLine((line) => (this.inspectorUrl ??= /^Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1]));
  }

  private async rssKb(): Promise<number> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  }

  /** VmRSS after a settle, and again after a full GC (the server keeps running meanwhile) */
  async measureRss(): Promise<{ settled: number; collected: number }> {
    await sleep(SETTLE_MS);
    const settled = await this.rssKb();
    await this.collectGarbage();
    await sleep(GC_SETTLE_MS);
    return { settled, collected: await this.rssKb() };
  }

  private async collectGarbage(): Promise<void> {
    if (!this.inspectorUrl) throw new Error(`the server's inspector did not start.\n${this.describe()}`);
    const inspector = new WebSocket(this.inspectorUrl);
    const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    await once(inspector, 'open', { signal });
    inspector.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
    // no domain is enabled, so the only message is the answer, sent once the collection is done
    await once(inspector, 'message', { signal });
    inspector.close();
    await once(inspector, 'close', { signal });
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

interface Setup {
  adminHeaders: Record<string, string>;
  envId: string;
  /** the env User's API token, for x-platz-token */
  userToken: string;
}

async function setUp(url: string): Promise<Setup> {
  const adminHeaders = { authorization: `Bearer ${await loginAdmin(url)}` };
  const { createEnv } = await gql<{ createEnv: { id: string } }>(url, 'mutation($input: CreateEnvInput!) { createEnv(input: $input) { id } }', { input: { name: 'bench-subscriptions', description: 'start' } }, adminHeaders);
  const { createUser } = await gql<{ createUser: { id: string } }>(
    url,
    'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
    { input: { username: 'bench-subscriber', email: 'bench-subscriber@example.com', displayName: 'Bench Subscriber' } },
    adminHeaders,
  );
  await gql(url, 'mutation($input: CreateEnvUserPermissionInput!) { createEnvUserPermission(input: $input) { id } }', { input: { envId: createEnv.id, userId: createUser.id, role: 'User' } }, adminHeaders);
  const { createUserToken } = await gql<{ createUserToken: { token: string } }>(
    url,
    'mutation($input: CreateUserTokenInput!) { createUserToken(input: $input) { token } }',
    { input: { userId: createUser.id, name: 'bench' } },
    adminHeaders,
  );
  return { adminHeaders, envId: createEnv.id, userToken: createUserToken.token };
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
  /** a cursor a subscriber had already had, or one older than its last */
  duplicates = 0;
  /** messages that are neither the opening nor one of the published updates */
  unexpected = 0;

  get delivered(): number {
    return this.cursors.length;
  }
}

type ServerMessage =
  | { type: 'connection_ack' | 'ping' | 'pong' | 'complete'; id?: string }
  | { type: 'next'; id: string; payload: { data?: { events?: { operation: string; cursor: string; node: { description?: string | null } | null } } | null; errors?: { message: string }[] } }
  | { type: 'error'; id: string; payload: { message: string }[] };

/** One graphql-transport-ws connection with one subscription, over a bare `ws` socket. */
class Subscriber {
  failure: string | undefined;
  /** settles once the subscription is live or has failed */
  readonly ready: Promise<void>;
  private settle!: () => void;
  private readonly ws: WebSocket;
  /** events arrive in cursor order */
  private lastCursor = 0;
  private closing = false;
  private readonly liveTimer: NodeJS.Timeout;

  constructor(url: string, token: string, private readonly deliveries: Deliveries) {
    this.ready = new Promise((done) => (this.settle = done));
    this.liveTimer = setTimeout(() => this.fail(`no LIVE marker within ${LIVE_TIMEOUT_MS / 1000} s`), LIVE_TIMEOUT_MS);
    this.ws = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false, handshakeTimeout: REQUEST_TIMEOUT_MS });
    this.ws.on('open', () => this.ws.send(JSON.stringify({ type: 'connection_init', payload: { 'x-platz-token': token } })));
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
    if (event?.operation !== 'UPDATE' || !/^\d+:\d+$/.test(event.node?.description ?? '')) d.unexpected++;
    else if (cursor <= this.lastCursor) d.duplicates++;
    else {
      this.lastCursor = cursor;
      d.cursors.push(cursor);
      d.receivedAt.push(Date.now());
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

/** Opens subscribers into `all` up to `count`, a batch at a time; stops early when a whole batch fails (the server is gone or refusing). */
async function openSubscribers(wsUrl: string, token: string, server: Server, deliveries: Deliveries, all: Subscriber[], count: number): Promise<void> {
  while (all.length < count) {
    const batch = Array.from({ length: Math.min(CONNECT_BATCH, count - all.length) }, () => new Subscriber(wsUrl, token, deliveries));
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
  errors: string[];
  /** time from send to response of each updateEnv, ms */
  mutationMs: number[];
  startedAt: number;
}

/** updateEnv at the set rate, on schedule: a slow mutation does not delay the next one. */
async function publish(url: string, setup: Setup): Promise<Published> {
  const result: Published = { sentAt: [], succeeded: 0, errors: [], mutationMs: [], startedAt: Date.now() };
  const pending: Promise<void>[] = [];
  for (let seq = 1; seq <= settings.events; seq++) {
    await sleep(Math.max(0, result.startedAt + ((seq - 1) * 1000) / settings.rate - Date.now()));
    const sentAt = Date.now();
    result.sentAt.push(sentAt);
    const variables = { id: setup.envId, input: { description: `${seq}:${sentAt}` } };
    pending.push(
      gql(url, UPDATE_ENV, variables, setup.adminHeaders, PUBLISH_TIMEOUT_MS).then(
        () => {
          result.succeeded++;
          result.mutationMs.push(Date.now() - sentAt);
        },
        (err: unknown) => void result.errors.push(`update ${seq}: ${errorMessage(err)}`),
      ),
    );
  }
  await Promise.all(pending);
  return result;
}

/** Until every update sent reached every subscriber (one given up on may still have committed), or no message came for DRAIN_IDLE_MS. */
async function drain(deliveries: Deliveries): Promise<void> {
  let seen = deliveries.delivered;
  let progressAt = Date.now();
  while (deliveries.delivered < settings.subscribers * settings.events && Date.now() - progressAt < DRAIN_IDLE_MS) {
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
function eventLatencies(published: Published, d: Deliveries): { committed: number; latencies: number[] } {
  const order = new Map([...new Set(d.cursors)].sort((a, b) => a - b).map((cursor, i) => [cursor, i]));
  const latencies = d.cursors.map((cursor, i) => d.receivedAt[i] - (published.sentAt[order.get(cursor)!] ?? NaN));
  return { committed: order.size, latencies };
}

const sortedCopy = (values: number[]) => Float64Array.from(values).sort();

interface Measurements {
  database: string;
  subscribers: Subscriber[];
  connectSeconds: number;
  /** the server's, before the first subscriber and once all are live */
  rssKb: { before: { settled: number; collected: number }; live: { settled: number; collected: number } };
  published: Published;
  deliveries: Deliveries;
  /** CPU seconds the server and this process used over `seconds`, from the first publish to the end of the drain */
  cpu: { server: number; bench: number; seconds: number };
}

function report(m: Measurements) {
  const failures = new Map<string, number>();
  for (const s of m.subscribers) if (s.failure) failures.set(s.failure, (failures.get(s.failure) ?? 0) + 1);
  const failed = [...failures.values()].reduce((a, b) => a + b, 0);
  const live = m.subscribers.length - failed;
  const d = m.deliveries;
  const updates = eventLatencies(m.published, d);
  // a subscriber that failed is still expected to have received every event: its losses count
  const events = Math.max(updates.committed, m.published.succeeded);
  const expected = settings.subscribers * events;
  const windowSeconds = Math.max((d.receivedAt.at(-1) ?? 0) - m.published.startedAt, 1) / 1000;
  const latencies = sortedCopy(updates.latencies);
  const latency = { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: percentile(latencies, 1) };
  const mutations = sortedCopy(m.published.mutationMs);
  const perSubscriber = (k: 'settled' | 'collected') => (m.rssKb.live[k] - m.rssKb.before[k]) / settings.subscribers;
  const rssPerSubscriberKb = perSubscriber('collected');
  const problems = [
    failed && `${failed} subscribers failed`,
    expected - d.delivered && `${expected - d.delivered} messages lost`,
    d.duplicates && `${d.duplicates} messages duplicated`,
    d.unexpected && `${d.unexpected} unexpected messages`,
    m.published.errors.length && `${m.published.errors.length} updates failed`,
  ].filter((p) => p !== 0);
  const ok = problems.length === 0;

  const targets = {
    // null: a run with fewer subscribers does not test this target
    subscribers: { target: `>= ${TARGETS.subscribers} in one process`, actual: live, met: settings.subscribers >= TARGETS.subscribers ? failed === 0 : null },
    p99Ms: { target: `<= ${TARGETS.p99MaxMs}`, actual: latency.p99, met: latency.p99 <= TARGETS.p99MaxMs },
    rssPerSubscriberKb: { target: `<= ${TARGETS.rssPerSubscriberMaxKb}`, actual: round(rssPerSubscriberKb, 1), met: rssPerSubscriberKb <= TARGETS.rssPerSubscriberMaxKb },
  };
  const percent = (cpuSeconds: number) => `${((100 * cpuSeconds) / m.cpu.seconds).toFixed(0)}%`;
  const verdict = (t: { met: boolean | null }) => (t.met === null ? 'not tried (run with 10000)' : t.met ? 'met' : 'MISSED');
  const rows: [string, string, string][] = [
    ['subscribers live / opened', `${live} / ${settings.subscribers}`, `target ${targets.subscribers.target}: ${verdict(targets.subscribers)}`],
    ['connect time (all live)', `${m.connectSeconds.toFixed(1)} s`, `${(settings.subscribers / m.connectSeconds).toFixed(0)} subscribers/s`],
    ['events published', `${events} / ${settings.events}`, `${settings.rate}/s for ${settings.seconds} s; updateEnv p50 ${percentile(mutations, 0.5)} ms, p99 ${percentile(mutations, 0.99)} ms`],
    ['messages delivered / expected', `${d.delivered} / ${expected}`, `${d.duplicates} duplicates, ${d.unexpected} unexpected`],
    ['messages delivered per second', (d.delivered / windowSeconds).toFixed(0), `over ${windowSeconds.toFixed(1)} s, first publish to last delivery`],
    ['latency p50', `${latency.p50} ms`, 'send of updateEnv to receipt by the subscriber'],
    ['latency p99', `${latency.p99} ms`, `target ${targets.p99Ms.target} ms: ${verdict(targets.p99Ms)}`],
    ['latency max', `${latency.max} ms`, ''],
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
    `${settings.subscribers} subscribers (env User, events(types: [ENV])), ${settings.rate} events/s for ${settings.seconds} s, ${m.database}` +
      ` (node ${process.version}, ${os.cpus().length} CPUs, subscribers in this process on the same machine)`,
    '',
    ...rows.map(([label, value, note]) => `${label.padEnd(widths[0])}   ${value.padStart(widths[1])}   ${note}`.trimEnd()),
    ...(failures.size ? ['', `subscribers failed (${failed}):`, ...[...failures].map(([reason, n]) => `  ${n} × ${reason}`)] : []),
    ...(m.published.errors.length ? ['', `publishing errors (${m.published.errors.length}):`, ...m.published.errors.slice(0, 5).map((e) => `  ${e}`)] : []),
    '',
    ok ? 'every subscriber received every event once' : `FAILED: ${problems.join(', ')}`,
    '',
  ].join('\n');

  const json = {
    bench: 'subscriptions',
    ok,
    database: m.database,
    subscribers: settings.subscribers,
    live,
    failed,
    rate: settings.rate,
    seconds: settings.seconds,
    published: events,
    expected,
    delivered: d.delivered,
    duplicates: d.duplicates,
    unexpected: d.unexpected,
    messagesPerSecond: round(d.delivered / windowSeconds, 0),
    latencyMs: latency,
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
      },
      settings.cpuProfDir,
    );
    await server.waitReady(READY_TIMEOUT_MS);
    const url = `${server.origin}/graphql`;
    const setup = await setUp(url);
    console.log(`server ready on port ${port} (pid ${server.pid}); env ${setup.envId} set up`);

    const wsUrl = `ws://127.0.0.1:${port}/graphql`;
    // the first subscribers compile code and fill caches that all later ones share: not theirs to pay in RSS
    await openSubscribers(wsUrl, setup.userToken, server, new Deliveries(), warmUp, Math.min(CONNECT_BATCH, settings.subscribers));
    warmUp.forEach((s) => s.close());
    const rssBefore = await server.measureRss();
    console.log(`opening ${settings.subscribers} subscribers, ${CONNECT_BATCH} at a time…`);
    const deliveries = new Deliveries();
    const connectStart = performance.now();
    await openSubscribers(wsUrl, setup.userToken, server, deliveries, subscribers, settings.subscribers);
    const connectSeconds = (performance.now() - connectStart) / 1000;
    const rssLive = await server.measureRss();

    console.log(`publishing ${settings.events} updates at ${settings.rate}/s…`);
    const [serverCpuStart, benchCpuStart, cpuStart] = [await server.cpuSeconds(), process.cpuUsage(), performance.now()];
    const published = await publish(url, setup);
    await drain(deliveries);
    const benchCpu = process.cpuUsage(benchCpuStart);
    const cpu = { server: (await server.cpuSeconds()) - serverCpuStart, bench: (benchCpu.user + benchCpu.system) / 1e6, seconds: (performance.now() - cpuStart) / 1000 };
    if (!server.running) throw new Error(`the server died during the run.\n${server.describe()}`);

    const { text, json, ok } = report({
      database: settings.adminUrl ? 'PostgreSQL' : 'embedded database',
      subscribers,
      connectSeconds,
      rssKb: { before: rssBefore, live: rssLive },
      published,
      deliveries,
      cpu,
    });
    console.log(text);
    console.log(JSON.stringify(json));
    return ok;
  });
}

run(main);
