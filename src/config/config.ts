import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { StartupError } from '../errors/startup-error.js';
import { parseEncryptionKeys } from './encryption-keys.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Every environment variable Berth reads, validated once at start. */
const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  /** how long a client may take to send a request's headers; then 408 and the socket is closed (a slow client holds no socket) */
  HTTP_HEADERS_TIMEOUT_SECONDS: z.coerce.number().min(1).max(600).default(10),
  /** how long a client may take to send a whole request, its body included */
  HTTP_REQUEST_TIMEOUT_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  /** how long an idle keep-alive connection is kept open */
  HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: z.coerce.number().min(1).max(600).default(5),
  /** postgres://… selects a real PostgreSQL; absent means the embedded engine */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  BERTH_DATA_DIR: z.string().default('./.berth-data'),
  /**
   * the embedded engine's shared_buffers, a PostgreSQL size (16MB, 512kB, 1GB); absent, src/db/orm.ts's default.
   * PostgreSQL fills the whole of it at start, so it is resident memory from the first second
   */
  BERTH_EMBEDDED_SHARED_BUFFERS: z
    .string()
    .superRefine((size, ctx) => {
      const problem = sharedBuffersProblem(size);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /** let V8 optimize the embedded engine's WebAssembly (TurboFan) rather than run it as first compiled (Liftoff) */
  BERTH_EMBEDDED_OPTIMIZE_WASM: bool.default(false),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** how long the first connection to DATABASE_URL is retried (with backoff) before the start gives up: a pod may start before its database */
  DATABASE_CONNECT_TIMEOUT_SECONDS: z.coerce.number().min(0).max(3600).default(60),
  /** HS256 key for access tokens; generated once and kept in the database when absent */
  BERTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).default(3600),
  /** how long a verified credential is trusted without asking the database (0: always ask) */
  AUTH_CACHE_SECONDS: z.coerce.number().min(0).max(60).default(2),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).default(30 * 24 * 3600),
  BERTH_ADMIN_EMAIL: z.string().email().optional(),
  BERTH_ADMIN_PASSWORD: z.string().min(8).optional(),
  /**
   * "keyId:<base64 of 32 bytes>[,…]" for secrets at rest; the first key encrypts, all decrypt (rotation).
   * Generated once and kept in the database when absent, which protects nothing against a database leak.
   */
  BERTH_ENCRYPTION_KEYS: z
    .string()
    .superRefine((spec, ctx) => {
      try {
        parseEncryptionKeys(spec);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .optional(),
  /**
   * login throttling (src/auth/login-throttle.ts): failed logins of one username from one address before each further
   * one makes the next attempt from there wait, 2 s, 4 s, 8 s and so on
   */
  LOGIN_FREE_FAILURES: z.coerce.number().int().min(0).max(1000).default(5),
  /** failed logins of one username from one address within the window that lock that pair */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(10),
  /** failed logins of one username from any address within the window that lock the username */
  LOGIN_MAX_FAILURES_PER_USERNAME: z.coerce.number().int().min(1).max(100_000).default(50),
  /** failed logins from one address, whatever the username, within the window that lock the address */
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(100),
  /** how long failures are counted from the first one */
  LOGIN_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** how long a lock holds, and the longest delay */
  LOGIN_LOCK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** lets anyone create an account with signUp */
  SIGNUP_ENABLED: bool.default(false),
  /** single sign-on (OpenID Connect, authorization code with PKCE); enabled when the issuer is set */
  OIDC_ISSUER_URL: z.string().url().optional(),
  OIDC_CLIENT_ID: z.string().optional(),
  OIDC_CLIENT_SECRET: z.string().optional(),
  /** where the provider sends the browser back (the frontend's callback page) */
  OIDC_REDIRECT_URI: z.string().url().optional(),
  /** users first signing in with one of these emails (space-separated) become site admins, as in Platz */
  OIDC_ADMIN_EMAILS: z.string().default(''),
  /** redis://… carries change events between replicas over Redis pub/sub instead of PostgreSQL LISTEN/NOTIFY */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
  /** how long the change-event log keeps events for subscribers resuming with `since` */
  EVENT_RETENTION_HOURS: z.coerce.number().min(1).max(24 * 90).default(24),
  /** how often each replica reads the event log without being told, in case an announcement was lost */
  EVENT_POLL_MS: z.coerce.number().int().min(100).max(3_600_000).default(2000),
  /** how often each replica prunes events past the retention */
  EVENT_PRUNE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  /** events one WebSocket connection may have waiting; a connection further behind is closed (4008) */
  SUBSCRIPTION_QUEUE_LIMIT: z.coerce.number().int().min(10).max(1_000_000).default(1000),
  /** how often the credentials of open WebSockets are checked again; a revoked or expired one closes its sockets (4403) */
  SUBSCRIPTION_REAUTH_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  /** a kubeconfig file whose contexts are registered as clusters at start (`local:<context>`, ignored until an admin clears them) */
  BERTH_KUBECONFIG: z.string().optional(),
  /** a folder put before the service account's mount path, /var/run/secrets/kubernetes.io/serviceaccount (a mount elsewhere) */
  BERTH_IN_CLUSTER_ROOT: z.string().default(''),
  /** watch the clusters that are not ignored, and mirror what runs in them (off: this replica leaves it to others) */
  K8S_WATCH: bool.default(true),
  /** how often the clusters to watch are read again: a cluster cleared of ignore is watched within this */
  K8S_WATCH_POLL_MS: z.coerce.number().int().min(100).max(600_000).default(3000),
  /** how long watch events gather before a write (0: as soon as the previous write is done; what comes meanwhile goes together) */
  K8S_WATCH_FLUSH_MS: z.coerce.number().int().min(0).max(10_000).default(0),
  /** the most watch events written in one transaction */
  K8S_WATCH_BATCH: z.coerce.number().int().min(1).max(100_000).default(2000),
  /** the longest wait before a failed watch is tried again (exponential backoff with jitter, from 500 ms) */
  K8S_WATCH_BACKOFF_MAX_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** the longest a request waits for one call to a cluster's API server (statistics, provisioning) */
  K8S_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /** how long a cluster's statistics are reused before the cluster is asked again */
  K8S_STATISTICS_CACHE_SECONDS: z.coerce.number().min(0).max(3600).default(5),
  /** carry out deployment tasks in this process (off: a server that leaves them to `berth worker` processes or other replicas) */
  TASK_WORKER: bool.default(true),
  /** tasks one worker runs at once (one deployment's tasks always run one at a time) */
  TASK_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(8),
  /** how long a running task's claim holds without its worker's heartbeat; then another worker takes it over */
  TASK_LEASE_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  /** how often due tasks are looked for besides on events (leases that ran out) */
  TASK_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(5000),
  /** how long a Helm release may take to become Ready before its task fails */
  TASK_RELEASE_TIMEOUT_SECONDS: z.coerce.number().min(1).max(86_400).default(600),
  /** how long a request that follows its tasks (Lighthouse's application streams) waits for them to end; the tasks go on */
  APPLICATION_PROGRESS_TIMEOUT_SECONDS: z.coerce.number().min(1).max(86_400).default(900),
  /** a helm executable: releases are installed and uninstalled by running it rather than through Flux */
  BERTH_HELM_BINARY: z
    .string()
    // absolute, so the file checked here is the file run, whatever PATH says
    .transform((path) => resolve(path))
    .superRefine((path, ctx) => {
      const problem = notExecutable(path);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /** keep a token acting as each enabled deployment in its namespace (Secret platz-creds), from one replica */
  DEPLOYMENT_CREDENTIALS: bool.default(true),
  /** how often every deployment's platz-creds is written anew; keep it well below ACCESS_TOKEN_TTL_SECONDS, the token's lifetime */
  DEPLOYMENT_CREDENTIALS_REFRESH_SECONDS: z.coerce.number().min(1).max(86_400).default(1200),
  /** how Berth is reached from the deployments it installs (their `platz.own_url`); default, its own address */
  BERTH_PUBLIC_URL: z.string().url().optional(),
  /**
   * how Berth reaches a deployment (chart actions, reported status, resource lifecycle): a URL template, `{host}` its
   * ingress host, `{namespace}` its namespace; the call's path is appended
   */
  DEPLOYMENT_ENDPOINT_URL: z
    .string()
    .default('https://{host}')
    .refine((template) => /^https?:\/\/[^/]/.test(template) && URL.canParse(template.replaceAll('{host}', 'host.example').replaceAll('{namespace}', 'namespace')), 'must be an http(s) URL once {host} and {namespace} are put in'),
  /** the longest one call to a deployment may take, its answer included */
  DEPLOYMENT_CALL_TIMEOUT_SECONDS: z.coerce.number().min(0.05).max(300).default(10),
  /** poll the status endpoint of deployments whose chart has the `status` feature into their reported status (off: this replica leaves it to others) */
  REPORTED_STATUS: bool.default(true),
  /** the shortest time between two polls of one deployment, whatever its chart asks; also how often the deployments to poll are read again */
  REPORTED_STATUS_MIN_INTERVAL_SECONDS: z.coerce.number().min(0.05).max(3600).default(15),
  /** call deployments for the lifecycle (create, update, delete) of their resources (off: this replica leaves it to others) */
  RESOURCE_SYNC: bool.default(true),
  /** how often resources waiting for a sync are looked for besides on changes to them (one missed, a replica that died mid-call) */
  RESOURCE_SYNC_POLL_MS: z.coerce.number().int().min(50).max(3_600_000).default(30_000),
  /** poll the available OCI Helm registries for new chart tags (off: this replica leaves it to others) */
  CHART_DISCOVERY: bool.default(true),
  /** how often every registry's tags are listed again */
  CHART_DISCOVERY_POLL_MS: z.coerce.number().int().min(100).max(86_400_000).default(60_000),
  /** the longest one call to a registry may take, its body included */
  CHART_DISCOVERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  /** registry domains (host[:port], space- or comma-separated) called over http rather than https, as helm's --plain-http */
  CHART_DISCOVERY_PLAIN_HTTP: z
    .string()
    .default('')
    .transform((list) => new Set(list.split(/[\s,]+/).filter(Boolean).map((domain) => domain.toLowerCase()))),
  /** when set, GET /metrics answers only `Authorization: Bearer <this>`; unset, anyone who reaches the port may scrape */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * Storj's satellite admin API (/storj/api, src/rest/storj/): the value its clients send, as is, in `Authorization`.
   * A secret, never logged; unset, every route of that API answers 403
   */
  BERTH_STORJ_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  GRAPHQL_INTROSPECTION: bool.default(true),
  /** how queries and mutations over HTTP run: compiled by graphql-jit (src/graphql/jit-executor.ts), or graphql-js's interpreter */
  GRAPHQL_EXECUTOR: z.enum(['jit', 'graphql-js']).default('jit'),
  GRAPHQL_IDE: bool.default(true),
  /** behind a reverse proxy: believe its X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-For (off: anyone could send them) */
  TRUST_PROXY: bool.default(false),
  /** document limits, over HTTP and WebSocket alike (src/graphql/limits.ts): nesting depth (introspection aside) */
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).max(1000).default(10),
  /** aliased fields in one document */
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).max(10_000).default(15),
  /** directives in one document */
  GRAPHQL_MAX_DIRECTIVES: z.coerce.number().int().min(0).max(10_000).default(50),
  /** graphql-armor's cost: 2 an object, 1 a scalar, times 1.5 per level of depth */
  GRAPHQL_MAX_COST: z.coerce.number().int().min(1).max(10_000_000).default(5000),
  /** tokens in one document, counted as it is parsed */
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(1).max(1_000_000).default(2000),
  /**
   * origins (scheme://host[:port], space- or comma-separated) whose browser frontends may call the API (CORS, with
   * credentials); none by default. Exact origins only, no `*`: a wildcard would let any site call with a user's credentials.
   */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((list, ctx) =>
      list
        .split(/[\s,]+/)
        .filter(Boolean)
        .map((entry) => {
          const origin = URL.canParse(entry) ? new URL(entry) : undefined;
          if (!origin || !/^https?:$/.test(origin.protocol) || origin.href !== `${origin.origin}/` || origin.host.includes('*')) {
            ctx.addIssue({ code: 'custom', message: `${entry} is not an origin (scheme://host[:port], no path; * is not allowed)` });
          }
          return origin?.origin ?? entry;
        }),
    ),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  SQL_DEBUG: bool.default(false),
});

export type Config = z.infer<typeof schema>;

/**
 * What is wrong with `size` as the embedded engine's shared_buffers: PostgreSQL's own floor (128kB), and at most half
 * of the 2 GB the engine's WebAssembly memory can grow to.
 */
function sharedBuffersProblem(size: string): string | undefined {
  const match = /^(\d+)(kB|MB|GB)$/.exec(size);
  if (!match) return 'must be a size in kB, MB or GB, such as 16MB';
  const kb = Number(match[1]) * { kB: 1, MB: 1024, GB: 1024 * 1024 }[match[2] as 'kB' | 'MB' | 'GB'];
  return kb < 128 || kb > 1024 * 1024 ? 'must be from 128kB to 1GB' : undefined;
}

/** Why the file at `path` cannot be run, checked at start rather than by the first task. */
function notExecutable(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return `${path} is not a file`;
    accessSync(path, constants.X_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${path} does not exist`;
    if (code === 'EACCES') return `${path} is not executable`;
    return `${path} cannot be run (${code})`;
  }
}

/** zod's wording for a number that is not one ("expected number, received NaN") read like a bug */
function problemOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.expected === 'number') return 'must be a number';
  return issue.message;
}

/** Parses the environment; throws a StartupError naming every bad variable (never its value: it may be a secret). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema
    .refine((c) => !c.OIDC_ISSUER_URL || (c.OIDC_CLIENT_ID && c.OIDC_REDIRECT_URI), {
      message: 'OIDC_CLIENT_ID and OIDC_REDIRECT_URI are required with OIDC_ISSUER_URL',
      path: ['OIDC_ISSUER_URL'],
    })
    .safeParse(cleaned);
  if (!parsed.success) throw new StartupError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${problemOf(i)}`), 'Invalid configuration');
  return parsed.data;
}
