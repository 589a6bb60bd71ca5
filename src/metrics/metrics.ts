import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { getOperationAST, Kind, type DocumentNode, type ExecutionArgs, type SelectionSetNode } from 'graphql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { poolUse } from '../db/pool.js';
import type { DatabaseTarget } from '../db/orm.js';
import { DeploymentStatus, DeploymentTaskStatus } from '../entities/enums.js';
import type { EventHub } from '../events/event-hub.js';
import type { Logger } from '../logging/logger.js';
import type { TaskWorker } from '../workers/task-worker.js';
import { readStoredState, type StoredState } from './stored-state.js';

/** What the metrics read at each scrape. */
export interface MetricSources {
  orm: MikroORM;
  database: DatabaseTarget;
  hub: Pick<EventHub, 'position' | 'deliveredCount' | 'subscriberCount'>;
  /** the WebSocket endpoints by path */
  webSockets: () => Record<string, { readonly connections: number }>;
  /** executions of GraphQL subscriptions' selections for live events (src/server/shared-execution.ts) */
  subscriptionExecutions: () => number;
  /** this process's task worker, once started (TASK_WORKER) */
  taskWorker: () => Pick<TaskWorker, 'outcomes'> | undefined;
  logger: Logger;
}

/**
 * Label values stay bounded: a request's route is the template of the route the router matched (`/api/v2/envs/:id`,
 * one per declared route), and `other` when it matched none (a 404, a request refused before routing).
 */
const NO_ROUTE = 'other';
/** a catch-all route (a CORS preflight's `*`) says nothing of where the request went */
const CATCH_ALL = '*';
const METHODS = new Set(['GET', 'POST', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'DELETE']);
/** Operation names are the client's: only plain ones, and at most this many per process; the rest are `other`. */
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const OPERATION_NAMES_MAX = 200;

let processRegistry: Registry | undefined;

/**
 * The process's own metrics (CPU, memory, event loop, GC): collected once per process from its first scrape on (the
 * event loop and GC are observed from then), and shared by every Berth in it (tests run several).
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * One Berth's metrics, in a registry of its own. Requests are counted as they end (a histogram observation each);
 * what components already count (the hub, the task worker, open sockets) is read at scrape time, and so is what the
 * database says (`readStoredState`, the pool). A database that fails leaves its series out of that scrape.
 */
/** error codes that are Berth's (or its database's) fault rather than the client's */
const SERVER_FAULTS = new Set(['INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE']);

export class Metrics {
  private readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** each request's route template, once routed */
  private readonly routes = new WeakMap<IncomingMessage, string>();
  private readonly graphqlDuration: Histogram<'operation' | 'type' | 'outcome'>;
  private readonly subscriptions: Gauge<'field'>;
  private readonly operationNames = new Set<string>();
  private readonly stored: { reset(): void }[];
  private readonly pool: { reset(): void }[];
  private readonly setStored: (state: StoredState) => void;
  private readonly setPool: (use: Awaited<ReturnType<typeof poolUse>>) => void;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly sources: MetricSources) {
    const registers = [this.registry];
    const { hub } = sources;

    this.httpDuration = new Histogram({
      name: 'berth_http_request_duration_seconds',
      help: 'HTTP requests (WebSocket upgrades aside) by method, route and status, and how long each took to answer',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.graphqlDuration = new Histogram({
      name: 'berth_graphql_operation_duration_seconds',
      help: 'GraphQL operations over HTTP by operation name, type and outcome (ok, client_error, error), and how long each took',
      labelNames: ['operation', 'type', 'outcome'],
      registers,
    });
    this.subscriptions = new Gauge({ name: 'berth_graphql_subscriptions', help: 'GraphQL subscriptions running, by root field', labelNames: ['field'], registers });
    new Gauge({
      name: 'berth_websocket_connections',
      help: 'WebSocket connections open, by endpoint',
      labelNames: ['endpoint'],
      registers,
      collect() {
        for (const [endpoint, { connections }] of Object.entries(sources.webSockets())) this.set({ endpoint }, connections);
      },
    });
    new Counter({
      name: 'berth_events_delivered_total',
      help: 'Change events handed to subscribers (GraphQL subscriptions, Platz sockets) by this process, one per subscriber',
      registers,
      collect() {
        this.reset();
        this.inc(hub.deliveredCount);
      },
    });
    new Counter({
      name: 'berth_subscription_executions_total',
      help: "Executions of a GraphQL subscription's selection for a change event by this process: fewer than the events delivered by what subscribers shared",
      registers,
      collect() {
        this.reset();
        this.inc(sources.subscriptionExecutions());
      },
    });
    new Gauge({
      name: 'berth_event_hub_subscribers',
      help: 'Subscribers of this process (GraphQL subscriptions, Platz sockets)',
      registers,
      collect() {
        this.set(hub.subscriberCount);
      },
    });
    new Counter({
      name: 'berth_task_outcomes_total',
      help: "How the deployment tasks run by this process's worker ended: done, failed, abandoned, taken_over, unrecorded",
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        for (const [outcome, count] of Object.entries(sources.taskWorker()?.outcomes ?? {})) this.inc({ outcome }, count);
      },
    });

    const lag = new Gauge({ name: 'berth_event_hub_lag', help: "Events in the log this process has not dispatched yet (the newest cursor minus the hub's)", registers });
    const healthy = new Gauge({
      name: 'berth_cluster_watch_healthy',
      help: 'Whether every watch of a cluster that is not ignored answers (1) or not (0)',
      labelNames: ['cluster_name'],
      registers,
    });
    const mirrored = new Gauge({ name: 'berth_cluster_mirrored_objects', help: 'Kubernetes objects mirrored, by cluster and kind', labelNames: ['cluster_name', 'kind'], registers });
    const queue = new Gauge({
      name: 'berth_task_queue_depth',
      help: 'Deployment tasks waiting or running: due (Pending, time reached), scheduled (Pending, later), running (Started)',
      labelNames: ['state'],
      registers,
    });
    // Platz's names and labels: gauges of what the database holds, despite "counter"
    const taskStatus = new Gauge({ name: 'platz_deployment_task_status_counter', help: 'Number of deployment tasks of each status', labelNames: ['task_status'], registers });
    const deploymentStatus = new Gauge({
      name: 'platz_deployment_status_counter',
      help: 'Number of deployments of each kind, status and cluster',
      labelNames: ['deployment_kind', 'deployment_status', 'cluster_name'],
      registers,
    });
    this.stored = [lag, healthy, mirrored, queue, taskStatus, deploymentStatus];
    this.setStored = (state) => {
      lag.set(Math.max(0, state.head - hub.position));
      const health = new Map<string, number>();
      // clusters of the same name report as one, unhealthy if any is
      for (const c of state.clusters) if (!c.ignore) health.set(c.name, Math.min(health.get(c.name) ?? 1, c.isOk ? 1 : 0));
      for (const [name, value] of health) healthy.set({ cluster_name: name }, value);
      for (const m of state.mirrored) mirrored.set({ cluster_name: m.cluster, kind: m.kind }, m.count);
      for (const [name, count] of Object.entries(state.taskQueue)) queue.set({ state: name }, count);
      // as Platz: every status present, at zero when no row has it
      for (const status of Object.values(DeploymentTaskStatus)) taskStatus.set({ task_status: status }, 0);
      for (const t of state.tasksByStatus) taskStatus.set({ task_status: t.status }, t.count);
      const clusterNames = new Set(state.clusters.map((c) => c.name));
      for (const kind of new Set(state.deployments.map((d) => d.kind))) {
        for (const status of Object.values(DeploymentStatus)) {
          for (const cluster of clusterNames) deploymentStatus.set({ deployment_kind: kind, deployment_status: status, cluster_name: cluster }, 0);
        }
      }
      for (const d of state.deployments) deploymentStatus.set({ deployment_kind: d.kind, deployment_status: d.status, cluster_name: d.cluster }, d.count);
    };

    const connections = new Gauge({ name: 'platz_db_pool_connections', help: 'The number of connections currently being managed by the pool', registers });
    const idle = new Gauge({ name: 'platz_db_pool_idle_connections', help: 'The number of idle connections (PostgreSQL only)', registers });
    const max = new Gauge({ name: 'berth_db_pool_max_connections', help: 'The most connections the pool opens', registers });
    const waiting = new Gauge({ name: 'berth_db_pool_waiting_requests', help: 'Queries waiting for a connection (PostgreSQL only)', registers });
    this.pool = [connections, idle, max, waiting];
    this.setPool = (use) => {
      connections.set(use.connections);
      max.set(use.max);
      if (use.idle !== undefined) idle.set(use.idle);
      if (use.waiting !== undefined) waiting.set(use.waiting);
    };
  }

  /** The metrics as Prometheus text, what the database says read now. */
  async scrape(): Promise<string> {
    // scrapes at once share one reading, so neither sees the other's half-set gauges
    await (this.refreshing ??= this.refresh().finally(() => (this.refreshing = undefined)));
    return Registry.merge([processMetrics(), this.registry]).metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Observes one HTTP request as it ends; called as it arrives, before any router sees it. */
  observeHttp(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const method = req.method && METHODS.has(req.method) ? req.method : 'other';
    // 'close' comes for every response, also one the client gave up on; by then the router has said which route it was
    res.once('close', () => this.httpDuration.observe({ method, route: this.routes.get(req) ?? NO_ROUTE, status: res.statusCode }, (performance.now() - started) / 1000));
  }

  /** The router matched `req` to the route declared as `template` (undefined: none), before validating or handling it. */
  routed(req: IncomingMessage, template: string | undefined): void {
    if (template && template !== CATCH_ALL) this.routes.set(req, template);
  }

  /** Apollo's plugin observing each GraphQL operation over HTTP. */
  graphqlPlugin<T extends BaseContext>(): ApolloServerPlugin<T> {
    const observe = this.graphqlDuration;
    const label = (name: string | null | undefined) => this.operationLabel(name);
    return {
      async requestDidStart() {
        const started = performance.now();
        return {
          async willSendResponse({ response, operation, operationName }) {
            const { body } = response;
            // formatted by then: every error has its code
            const errors = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
            const outcome = !errors?.length ? 'ok' : errors.some((e) => SERVER_FAULTS.has(String(e.extensions?.code))) ? 'error' : 'client_error';
            // an operation that did not parse or validate has no name or type to trust
            const labels = operation ? { operation: label(operationName), type: operation.operation } : { operation: 'unknown', type: 'unknown' };
            observe.observe({ ...labels, outcome }, (performance.now() - started) / 1000);
          },
        };
      },
    };
  }

  /** Counts a GraphQL subscription by its root field until the returned function is called. */
  countSubscription(args: ExecutionArgs): () => void {
    const field = rootField(args.document, args.operationName);
    this.subscriptions.inc({ field });
    return () => this.subscriptions.dec({ field });
  }

  private operationLabel(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (this.operationNames.has(name)) return name;
    if (!OPERATION_NAME.test(name) || this.operationNames.size >= OPERATION_NAMES_MAX) return 'other';
    this.operationNames.add(name);
    return name;
  }

  /** Reads the pool and the database, then sets their gauges at once; a reading that fails leaves its gauges empty. */
  private async refresh(): Promise<void> {
    const { orm, database, logger } = this.sources;
    const [pool, stored] = [
      await poolUse(orm, database).catch((err: unknown) => logger.warn({ err }, 'reading the database pool for metrics failed; its series are left out')),
      await readStoredState(orm.em.fork() as SqlEntityManager).catch((err: unknown) => logger.warn({ err }, 'reading the database for metrics failed; its series are left out')),
    ];
    this.pool.forEach((metric) => metric.reset());
    if (pool) this.setPool(pool);
    this.stored.forEach((metric) => metric.reset());
    if (stored) this.setStored(stored);
  }
}

/** The root field of a validated subscription (exactly one, maybe inside fragments): a name from the schema. */
function rootField(document: DocumentNode, operationName: string | null | undefined): string {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])));
  const find = (set: SelectionSetNode | undefined): string | undefined => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) return selection.name.value;
      const found = find(selection.kind === Kind.INLINE_FRAGMENT ? selection.selectionSet : fragments.get(selection.name.value));
      if (found) return found;
    }
    return undefined;
  };
  return find(getOperationAST(document, operationName)?.selectionSet) ?? 'unknown';
}
