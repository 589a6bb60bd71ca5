import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { MikroORM, Options } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import Fastify, { type FastifyError } from 'fastify';
import { Authenticator } from '../auth/authenticator.js';
import { ensureAdmin } from '../auth/bootstrap-admin.js';
import { Keyring } from '../auth/encryption.js';
import { LoginThrottle } from '../auth/login-throttle.js';
import { openLimiterStore } from '../auth/login-throttle-store.js';
import type { Config } from '../config/config.js';
import { StartupError } from '../errors/startup-error.js';
import { connectOrm, databaseTarget, isReady, migrate, type DatabaseTarget } from '../db/orm.js';
import { getOrCreateSetting } from '../db/settings.js';
import { openEventBus } from '../events/bus/index.js';
import { EventHub } from '../events/event-hub.js';
import { EVENT_TABLES, type EventTable } from '../events/event-types.js';
import type { GraphQLContext } from '../graphql/context.js';
import { formatError, unexpectedErrorLogger } from '../graphql/errors.js';
import { documentLimits, limitRules } from '../graphql/limits.js';
import { refuseSubscriptionsOverHttp } from '../graphql/http-subscriptions.js';
import { jitGateway } from '../graphql/jit-executor.js';
import { buildBerthSchema } from '../../resolvers/schema.js';
import { createServices, type Services } from '../services/index.js';
import { contextFactory, contextOfRequest, graphqlContexts } from './context.js';
import { platzApi } from '../rest/platz/index.js';
import { kubportalApi, kubportalCredentials } from '../rest/kubportal/index.js';
import { lighthouseApi, lighthouseCredentials } from '../rest/lighthouse/index.js';
import { registerCors } from './cors.js';
import { graphqlHttp, INTERNAL_ERROR_BODY } from './graphql-http.js';
import { startGraphqlWs, type WebSocketEndpoint } from './graphql-ws.js';
import { graphqlIde } from './ide.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { CredentialWatch } from './credential-watch.js';
import { logHttpRequests, logWebSockets, operationInRequestScope } from './access-log.js';
import { requestIdOf } from './request-origin.js';
import { runInRequestScope } from '../logging/request-scope.js';
import { startPlatzWs } from './platz-ws.js';
import { Lifecycle } from './lifecycle.js';
import { InFlightRequests } from './in-flight.js';
import { ClusterWatcher } from '../workers/cluster-watcher.js';
import { ClusterTaskExecutor } from '../workers/task-executor.js';
import { TaskWorker } from '../workers/task-worker.js';
import { DeploymentCredentials } from '../workers/deployment-credentials.js';
import { ChartDiscovery } from '../workers/chart-discovery.js';
import { ReportedStatusPoller } from '../workers/reported-status.js';
import { ResourceSync } from '../workers/resource-sync.js';
import { DeploymentEndpoints } from '../deployments/endpoint.js';
import { systemContext } from '../request/context.js';
import { inClusterKubeconfig } from '../k8s/local-clusters.js';
import { Metrics } from '../metrics/metrics.js';
import { metricsEndpoint } from '../metrics/endpoint.js';

/** compiled documents kept by the jit executor: a few KB each, more than any real client sends */
const JIT_CACHE_SIZE = 1000;

/** How long one component may take to close before stop() goes on without it. */
const STOP_STEP_TIMEOUT_MS = 10_000;

/** the largest request body read (GraphQL documents and variables, REST bodies) */
const MAX_BODY_BYTES = 1024 * 1024;

export interface BerthOptions {
  /** overrides the database chosen by config (tests: a fresh database per file) */
  database?: DatabaseTarget;
  ormOverrides?: Partial<Options>;
  logger?: Logger;
  /** where one-time console messages (generated admin password) go */
  print?: (line: string) => void;
  /** called after graphql-ws has set up an operation (tests wait on it) */
  onWsOperation?: (id: string) => void;
  /** `worker` (`berth worker`): the background work alone, no HTTP (url and wsUrl empty, port 0) */
  role?: 'server' | 'worker';
}

export interface Berth {
  url: string;
  wsUrl: string;
  port: number;
  orm: MikroORM;
  /** this process's follower of the event log (tests read its engine and position) */
  events: EventHub;
  /** for Berth's own writers, which call them with a system context (src/request/context.ts) */
  services: Services;
  /** this replica's cluster watch, unless K8S_WATCH is off */
  clusterWatch?: ClusterWatcher;
  /** this replica's chart discovery, unless CHART_DISCOVERY is off */
  chartDiscovery?: ChartDiscovery;
  /** this process's task worker, unless TASK_WORKER is off */
  taskWorker?: TaskWorker;
  /** this replica's poller of deployments' status endpoints, unless REPORTED_STATUS is off */
  reportedStatus?: ReportedStatusPoller;
  /** this replica's deployment resource sync, unless RESOURCE_SYNC is off */
  resourceSync?: ResourceSync;
  /** every HTTP route served (tests hold the REST APIs' documents to them); none for a worker */
  httpRoutes: readonly HttpRoute[];
  stop(): Promise<void>;
}

export interface HttpRoute {
  method: string;
  /** Fastify's pattern: `:id` for a path parameter, `*` for the rest of the path */
  url: string;
}

/**
 * The boot order, in one place: config (every value checked) → logger → database → migrations → keys (JWT,
 * encryption) → first admin → event bus and hub → login throttling's store → services → schema → HTTP (health, IDE,
 * GraphQL) → WebSocket → listen. Each component registers its closer as it starts (src/server/lifecycle.ts): stop(), or a start that fails
 * half way, closes them in reverse: drain HTTP while closing every WebSocket (1001, then terminated if unanswered
 * within a grace period: the HTTP drain waits on upgraded sockets too, so this bounds both); stop following events;
 * close the bus; close the database.
 */
export async function startBerth(config: Config, options: BerthOptions = {}): Promise<Berth> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const database = options.database ?? databaseTarget(config);
  // loadConfig checked every value; the keys are read before anything opens all the same
  const configuredKeys = config.BERTH_ENCRYPTION_KEYS ? Keyring.parse(config.BERTH_ENCRYPTION_KEYS) : undefined;
  const lifecycle = new Lifecycle(logger, STOP_STEP_TIMEOUT_MS);
  try {
    const orm = await connectOrm(
      database,
      { pool: { max: config.DATABASE_POOL_MAX }, debug: config.SQL_DEBUG ? ['query', 'query-params'] : false, ...options.ormOverrides },
      { timeoutMs: config.DATABASE_CONNECT_TIMEOUT_SECONDS * 1000, logger },
    );
    lifecycle.started('database', () => orm.close(true));
    const applied = await migrate(orm, database);
    if (applied.length) logger.info({ applied }, 'applied migrations');
    const em = orm.em as SqlEntityManager;

    const jwtSecret = config.BERTH_JWT_SECRET ?? (await getOrCreateSetting(em, 'jwt_secret', () => randomBytes(32).toString('base64url')));
    const authenticator = new Authenticator(jwtSecret, config.ACCESS_TOKEN_TTL_SECONDS, config.AUTH_CACHE_SECONDS * 1000);
    const keyring = configuredKeys ?? Keyring.parse(await getOrCreateSetting(em, 'encryption_keys', () => Keyring.generateSpec()));
    if (!configuredKeys) logger.warn({}, 'BERTH_ENCRYPTION_KEYS is not set: secrets are encrypted with a key kept in the same database');
    await ensureAdmin(em, config, logger, options.print ?? ((line) => console.log(line)));

    const bus = await openEventBus(config, database, logger);
    lifecycle.started('event bus', () => bus.close());
    const hub = new EventHub(em, bus, logger, {
      retentionHours: config.EVENT_RETENTION_HOURS,
      pollMs: config.EVENT_POLL_MS,
      pruneEveryMs: config.EVENT_PRUNE_SECONDS * 1000,
    });
    await hub.start();
    lifecycle.started('event hub', () => hub.stop());
    // grants changed by another replica (or by SQL outside Berth's writes): cached grants are read again
    hub.onChange(Object.keys(EVENT_TABLES) as EventTable[], (event) => event.regrants && authenticator.grants.clear());

    const limiterStore = await openLimiterStore(config, database, orm, logger);
    lifecycle.started('login throttling', () => limiterStore.close());
    const loginThrottle = new LoginThrottle(limiterStore.limiter, {
      freeFailures: config.LOGIN_FREE_FAILURES,
      maxFailures: config.LOGIN_MAX_FAILURES,
      maxFailuresPerUsername: config.LOGIN_MAX_FAILURES_PER_USERNAME,
      maxFailuresPerAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
      windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS,
      lockSeconds: config.LOGIN_LOCK_SECONDS,
    }, logger);

    const services = createServices({ authenticator, config, keyring, events: hub, loginThrottle });
    await registerLocalClusters(em, services, config, logger);
    let clusterWatch: ClusterWatcher | undefined;
    if (config.K8S_WATCH) {
      const watcher = (clusterWatch = new ClusterWatcher(em, services, database, hub, {
        pollMs: config.K8S_WATCH_POLL_MS,
        flushMs: config.K8S_WATCH_FLUSH_MS,
        batchSize: config.K8S_WATCH_BATCH,
        backoffBaseMs: 500,
        backoffMaxMs: config.K8S_WATCH_BACKOFF_MAX_MS,
      }, logger));
      // not awaited: a cluster that does not answer never holds up the start
      watcher.start();
      lifecycle.started('cluster watch', () => watcher.stop());
    }
    let chartDiscovery: ChartDiscovery | undefined;
    if (config.CHART_DISCOVERY) {
      const discovery = (chartDiscovery = new ChartDiscovery(em, services, {
        pollMs: config.CHART_DISCOVERY_POLL_MS,
        timeoutMs: config.CHART_DISCOVERY_TIMEOUT_MS,
        plainHttp: config.CHART_DISCOVERY_PLAIN_HTTP,
      }, logger));
      // runs on timers: a registry that does not answer never holds up the start
      discovery.start();
      lifecycle.started('chart discovery', () => discovery.stop());
    }
    // how Berth calls deployments: chart actions (the task worker), their reported status, their resources' lifecycle
    const endpoints = new DeploymentEndpoints({ urlTemplate: config.DEPLOYMENT_ENDPOINT_URL, timeoutMs: config.DEPLOYMENT_CALL_TIMEOUT_SECONDS * 1000 });
    let reportedStatus: ReportedStatusPoller | undefined;
    if (config.REPORTED_STATUS) {
      const poller = (reportedStatus = new ReportedStatusPoller(em, services, database, hub, endpoints, { minIntervalMs: config.REPORTED_STATUS_MIN_INTERVAL_SECONDS * 1000 }, logger));
      poller.start();
      lifecycle.started('reported status', () => poller.stop());
    }
    let resourceSync: ResourceSync | undefined;
    if (config.RESOURCE_SYNC) {
      const sync = (resourceSync = new ResourceSync(em, services, database, hub, endpoints, { pollMs: config.RESOURCE_SYNC_POLL_MS }, logger));
      sync.start();
      lifecycle.started('resource sync', () => sync.stop());
    }
    let taskWorker: TaskWorker | undefined;
    // what writes into the clusters for the deployments: it names Berth's address to them
    const startClusterWriters = (ownUrl: string) => {
      if (config.DEPLOYMENT_CREDENTIALS) {
        const credentials = new DeploymentCredentials(em, services, database, hub, { refreshMs: config.DEPLOYMENT_CREDENTIALS_REFRESH_SECONDS * 1000, serverUrl: ownUrl }, logger);
        credentials.start();
        lifecycle.started('deployment credentials', () => credentials.stop());
      }
      if (!config.TASK_WORKER) return;
      const executor = new ClusterTaskExecutor(services, {
        ownUrl,
        releaseTimeoutMs: config.TASK_RELEASE_TIMEOUT_SECONDS * 1000,
        releasePollMs: 500,
        helmBinary: config.BERTH_HELM_BINARY,
        endpoints,
      });
      const worker = (taskWorker = new TaskWorker(em, services, hub, executor, {
        concurrency: config.TASK_WORKER_CONCURRENCY,
        leaseMs: config.TASK_LEASE_SECONDS * 1000,
        pollMs: config.TASK_POLL_MS,
      }, logger));
      worker.start();
      lifecycle.started('task worker', () => worker.stop());
    };
    if (options.role === 'worker') {
      startClusterWriters(config.BERTH_PUBLIC_URL ?? '');
      return { url: '', wsUrl: '', port: 0, orm, events: hub, services, clusterWatch, chartDiscovery, taskWorker, reportedStatus, resourceSync, httpRoutes: [], stop: () => lifecycle.close() };
    }

    const requestContexts = contextFactory(em, services, authenticator, { trustProxy: config.TRUST_PROXY });
    const createContext = graphqlContexts(requestContexts);
    const schema = await buildBerthSchema();

    const metrics = new Metrics({ orm, database, hub, webSockets: () => webSockets, subscriptionExecutions: () => graphqlWs.executions, taskWorker: () => taskWorker, logger });
    const httpServer = http.createServer({
      headersTimeout: config.HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
      // at least the headers' time, as node requires
      requestTimeout: Math.max(config.HTTP_REQUEST_TIMEOUT_SECONDS, config.HTTP_HEADERS_TIMEOUT_SECONDS) * 1000,
      keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS * 1000,
      // how often node looks for requests past those timeouts (30 s by default, which would let them run that long)
      connectionsCheckingInterval: 1000,
    });
    const requests = new InFlightRequests(httpServer);
    const logRequest = logHttpRequests(logger, config.TRUST_PROXY);
    const app = Fastify({
      logger: false,
      // request.protocol, request.host and request.ip read the X-Forwarded-* headers only from a proxy we were told to trust
      trustProxy: config.TRUST_PROXY,
      bodyLimit: MAX_BODY_BYTES,
      // Berth's server, with its timeouts: every request runs in a request scope with its id, and is measured and logged
      serverFactory: (handler) =>
        httpServer.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
          const scope = { requestId: requestIdOf(req) };
          res.setHeader('x-request-id', scope.requestId);
          metrics.observeHttp(req, res);
          logRequest(req, res, scope);
          requests.track(res, new Promise((resolve) => res.once('close', resolve)));
          runInRequestScope(scope, () => handler(req, res));
        }),
    });
    // each request's route for its metrics, as routed: before its input is validated (a 400 is its route's too)
    app.addHook('onRequest', (request, _reply, done) => {
      metrics.routed(request.raw, request.routeOptions.url);
      done();
    });
    const routes: HttpRoute[] = [];
    // a route's handler counts until it settles, also when its client hung up first
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url });
      const handle = route.handler;
      route.handler = function (request, reply) {
        const handling = handle.call(this, request, reply) as unknown;
        if (handling instanceof Promise) requests.track(reply.raw, handling);
        return handling;
      };
    });
    const format = formatError(logger, { hideSuggestions: !config.GRAPHQL_INTROSPECTION });
    const limits = documentLimits(config);
    const credentials = new CredentialWatch(createContext, logger, config.SUBSCRIPTION_REAUTH_SECONDS * 1000);
    const graphqlWs = startGraphqlWs({
      schema,
      createContext,
      queueLimit: config.SUBSCRIPTION_QUEUE_LIMIT,
      credentials,
      format,
      logger,
      introspection: config.GRAPHQL_INTROSPECTION,
      limits,
      onOperation: options.onWsOperation,
      countSubscription: (args) => metrics.countSubscription(args),
    });
    const webSockets: Record<string, WebSocketEndpoint> = {
      '/graphql': graphqlWs,
      '/api/v2/ws': startPlatzWs({ createContext, logger, queueLimit: config.SUBSCRIPTION_QUEUE_LIMIT, credentials }),
    };
    const logWebSocket = logWebSockets(logger, config.TRUST_PROXY);
    httpServer.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = new URL(request.url ?? '/', 'http://berth').pathname;
      const endpoint = webSockets[path];
      if (endpoint) return endpoint.handleUpgrade(request, socket, head, logWebSocket(path, request));
      // destroyed once written, as ws does on refusing: the HTTP server leaves an upgraded socket half-open, and a
      // peer that never answers the FIN would hold it, and the shutdown's HTTP drain, open
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', () => socket.destroy());
    });

    const apollo = new ApolloServer<GraphQLContext>({
      ...(config.GRAPHQL_EXECUTOR === 'jit' ? { gateway: jitGateway(schema, { cacheSize: JIT_CACHE_SIZE, compileAfter: 2 }) } : { schema }),
      introspection: config.GRAPHQL_INTROSPECTION,
      csrfPrevention: true,
      // main.ts owns the signals; Apollo's own handler would race it and leave stop() hanging
      stopOnTerminationSignals: false,
      includeStacktraceInErrorResponses: false,
      hideSchemaDetailsFromClientErrors: !config.GRAPHQL_INTROSPECTION,
      validationRules: limitRules(limits),
      parseOptions: { maxTokens: limits.maxTokens },
      formatError: format,
      plugins: [
        ApolloServerPluginDrainHttpServer({ httpServer }),
        ApolloServerPluginLandingPageDisabled(),
        // cache hints are unused (no CDN or response cache), and computing them wraps every field resolver
        ApolloServerPluginCacheControlDisabled(),
        unexpectedErrorLogger(logger),
        refuseSubscriptionsOverHttp(),
        operationInRequestScope(),
        metrics.graphqlPlugin(),
        {
          async serverWillStart() {
            return {
              async drainServer() {
                credentials.stop();
                // beside the plugin's drain of sockets: the handlers of requests whose clients are gone
                await Promise.all([...Object.values(webSockets).map((ws) => ws.dispose()), requests.drain()]);
              },
            };
          },
        },
      ],
    });
    await apollo.start();
    // drains HTTP and closes every WebSocket (drainServer above)
    lifecycle.started('HTTP and WebSockets', () => apollo.stop());

    await registerCors(app, config.CORS_ORIGINS);
    // an unexpected failure is logged and answered without a word of it
    app.setErrorHandler((err: FastifyError, _request, reply) => {
      const status = err.statusCode ?? 500;
      if (status < 500) return reply.code(status).send({ message: err.message });
      logger.error({ err }, 'unexpected HTTP error');
      return reply.code(500).type('application/json; charset=utf-8').send(INTERNAL_ERROR_BODY);
    });
    app.get('/healthz', async () => ({ status: 'ok' }));
    app.get('/readyz', async (_request, reply) => {
      const ready = await isReady(orm);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', database: ready });
    });
    app.get('/metrics', metricsEndpoint(metrics, config.METRICS_TOKEN));
    const ide = config.GRAPHQL_IDE ? graphqlIde() : undefined;
    if (ide) await app.register(ide.assets);
    await app.register(graphqlHttp({ apollo, createContext, logger, page: ide?.page }));
    await app.register(platzApi({ contextOf: contextOfRequest(requestContexts), logger, version: services.serverInfo.info().version }));
    await app.register(kubportalApi({ contextOf: contextOfRequest(requestContexts, kubportalCredentials), logger }));
    await app.register(lighthouseApi({ contextOf: contextOfRequest(requestContexts, lighthouseCredentials), logger, version: services.serverInfo.info().version }));
    await app.listen({ port: config.PORT, host: config.HOST }).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL' ? new StartupError([`PORT, HOST: cannot listen on ${config.HOST}:${config.PORT} (${err.code})`]) : err;
    });
    const { port } = httpServer.address() as AddressInfo;
    const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
    // after listening: it is stopped before HTTP, and its deployments learn the address
    startClusterWriters(config.BERTH_PUBLIC_URL ?? `http://${host}:${port}`);
    return {
      url: `http://${host}:${port}/graphql`,
      wsUrl: `ws://${host}:${port}/graphql`,
      port,
      orm,
      events: hub,
      services,
      clusterWatch,
      chartDiscovery,
      taskWorker,
      reportedStatus,
      resourceSync,
      httpRoutes: routes,
      stop: () => lifecycle.close(),
    };
  } catch (err) {
    await lifecycle.close();
    throw err;
  }
}

/**
 * The clusters Berth is given by where it runs: the contexts of BERTH_KUBECONFIG, and the cluster of the pod it runs
 * in. A BERTH_KUBECONFIG that cannot be read or parsed stops the start, naming the variable.
 */
async function registerLocalClusters(em: SqlEntityManager, services: Services, config: Config, logger: Logger): Promise<void> {
  const register = async (source: string, kubeconfig: string) => {
    try {
      const clusters = await services.k8sClusters.registerLocal(systemContext(em.fork(), 'k8s-watch'), kubeconfig);
      logger.info({ clusters: clusters.map((c) => c.providerId) }, `registered the clusters of ${source}`);
    } catch (err) {
      throw new StartupError([`${source}: ${(err as Error).message}`]);
    }
  };
  if (config.BERTH_KUBECONFIG) {
    let text: string;
    try {
      text = await readFile(config.BERTH_KUBECONFIG, 'utf8');
    } catch (err) {
      throw new StartupError([`BERTH_KUBECONFIG: cannot read ${config.BERTH_KUBECONFIG}: ${(err as Error).message}`]);
    }
    await register('BERTH_KUBECONFIG', text);
  }
  const inCluster = await inClusterKubeconfig(config.BERTH_IN_CLUSTER_ROOT);
  if (inCluster) await register('the service account of this pod', inCluster);
}
