import type http from 'node:http';
import { GraphQLError, NoSchemaIntrospectionCustomRule, parse, specifiedRules, validate, type DocumentNode, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import { callerOf, type WebSocketLog } from './access-log.js';
import { CloseCode } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import type { Duplex } from 'node:stream';
import type { SubscriberConnection } from '../events/event-stream.js';
import type { Credentials } from '../request/identity.js';
import type { GraphQLContext } from '../graphql/context.js';
import { logUnexpectedError, type formatError } from '../graphql/errors.js';
import { limitRules, type DocumentLimits } from '../graphql/limits.js';
import { credentialsFromConnectionParams, type RequestOrigin } from './context.js';
import type { CredentialWatch } from './credential-watch.js';
import { SharedExecution } from './shared-execution.js';
import type { Logger } from '../logging/logger.js';

export interface GraphqlWsOptions {
  schema: GraphQLSchema;
  createContext: (credentials: Credentials, origin?: RequestOrigin) => Promise<GraphQLContext>;
  /** events one connection may have waiting before it is closed as too slow */
  queueLimit: number;
  /** closes sockets whose credential has been revoked or has expired since they connected */
  credentials: CredentialWatch;
  format: ReturnType<typeof formatError>;
  logger: Logger;
  introspection: boolean;
  limits: DocumentLimits;
  /** called after an operation is set up (tests wait on it) */
  onOperation?: (id: string) => void;
  /** counts a subscription from its start until it completes (metrics); returns what ends the count */
  countSubscription?: (args: ExecutionArgs) => () => void;
}

const DOCUMENT_CACHE_SIZE = 500;

/**
 * How long shutdown waits for peers to answer the close frame. A live client answers within a round
 * trip; one that never does (hung, or gone off the network) would otherwise hold the replica's
 * shutdown until Apollo's HTTP drain gives up on its socket, 10 s later.
 */
const CLOSE_GRACE_MS = 1000;

/** A close reason fits in 123 bytes (RFC 6455); longer ones make ws throw. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= 123) return text;
  let cut = text;
  while (Buffer.byteLength(`${cut}…`) > 123) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Hands an upgraded socket to its server, its access log kept by socket until it closes. */
export function acceptLogged(wsServer: WebSocketServer, ws: WebSocket, request: http.IncomingMessage, log: WebSocketLog, logs: WeakMap<object, WebSocketLog>): void {
  logs.set(ws, log);
  ws.once('close', (code) => log.closed(code));
  wsServer.emit('connection', ws, request);
}

/** The GraphQL subscription endpoint: a WebSocket endpoint that also counts its executions of live events. */
export interface GraphqlWsEndpoint extends WebSocketEndpoint {
  /** how many times a live event's selection was executed; with the events delivered, how much subscribers share (metrics) */
  readonly executions: number;
}

export interface WebSocketEndpoint {
  /** takes over an HTTP upgrade request for this endpoint's path */
  handleUpgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer, log: WebSocketLog): void;
  /** sends every socket a close frame (1001), and terminates those still open after a short grace period */
  dispose(): Promise<void>;
  /** the sockets open now (metrics) */
  readonly connections: number;
}

/**
 * Runs `close`, which sends each client a close frame and resolves once the server has closed, that is
 * once every client has: the clients still open after the grace period are terminated.
 */
export async function closeWithinGrace(wsServer: WebSocketServer, close: () => Promise<void>): Promise<void> {
  const timer = setTimeout(() => wsServer.clients.forEach((socket) => socket.terminate()), CLOSE_GRACE_MS);
  try {
    await close();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * graphql-ws on the HTTP server's port and /graphql path, held to the same rules as HTTP: document
 * limits, introspection switch, error codes and masking, a fresh context per operation. A
 * connection presenting a credential that fails is refused (4403); one without any may still run
 * anonymous operations, as over HTTP.
 */
export function startGraphqlWs(options: GraphqlWsOptions): GraphqlWsEndpoint {
  const { schema, format, logger } = options;
  // Apollo adds the introspection rule for HTTP itself; here it is ours to add
  const rules = [...specifiedRules, ...limitRules(options.limits), ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
  const wsServer = new WebSocketServer({ noServer: true });
  // dashboards open thousands of sockets with the same few documents: parse and validate each once,
  // which also lets their subscribers share executions (SharedExecution keys on the document)
  const validDocuments = new Map<string, DocumentNode>();
  const logs = new WeakMap<object, WebSocketLog>();
  // the subscriptions of one socket share one bounded queue
  const connections = new WeakMap<object, SubscriberConnection>();
  // per socket context, what ends the count of each running subscription; graphql-ws completes every operation once
  const counted = new WeakMap<object, Map<string, () => void>>();
  const shared = new SharedExecution();
  const server = useServer<Record<string, unknown>, Extra & Record<PropertyKey, unknown>>(
    {
      schema,
      onConnect: async (ctx) => {
        const credentials = credentialsFromConnectionParams(ctx.connectionParams);
        if (!credentials.authorization && !credentials.platzToken) return true;
        const { authError, identity } = await options.createContext(credentials);
        const log = logs.get(ctx.extra.socket);
        if (log) log.caller = callerOf(identity);
        if (authError) {
          // graphql-ws would close with a bare "Forbidden": the client is told which credential failed and why
          ctx.extra.socket.close(CloseCode.Forbidden, closeReason(`Forbidden: connection_init ${credentials.source}: ${authError.message}`));
          return false;
        }
        options.credentials.watch(ctx.extra.socket, credentials);
        return true;
      },
      onClose: (ctx) => options.credentials.forget(ctx.extra.socket),
      // parsed and validated here rather than by graphql-ws, where a parse error (or too many tokens)
      // throws and closes the whole connection; errors returned here answer just this operation
      onSubscribe: (ctx, _id, payload) => {
        const log = logs.get(ctx.extra.socket);
        if (log) log.operations++;
        let document = validDocuments.get(payload.query);
        if (!document) {
          try {
            document = parse(payload.query, { maxTokens: options.limits.maxTokens });
          } catch (err) {
            if (!(err instanceof GraphQLError)) throw err;
            return [new GraphQLError(err.message, { source: err.source, positions: err.positions, extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
          }
          const errors = validate(schema, document, rules);
          if (errors.length) return errors;
          if (validDocuments.size < DOCUMENT_CACHE_SIZE) validDocuments.set(payload.query, document);
        }
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
      },
      subscribe: shared.subscribe,
      // one context per operation, as per HTTP request: fresh loaders and identity map (a context kept
      // for the connection served stale rows), and the credential checked again (a revoked session ends)
      context: async (ctx) => {
        const context = await options.createContext(credentialsFromConnectionParams(ctx.connectionParams), { request: ctx.extra.request });
        const { socket } = ctx.extra;
        let connection = connections.get(socket);
        if (!connection) {
          connection = { queued: 0, limit: options.queueLimit, close: (code, reason) => socket.close(code, reason) };
          connections.set(socket, connection);
        }
        return Object.assign(context, { connection });
      },
      // errors formatted as over HTTP: codes, unexpected ones logged with the request id and masked
      onNext: (_ctx, _id, _payload, args, result) => {
        if (!result.errors?.length) return;
        const { requestId } = args.contextValue as GraphQLContext;
        const errors = result.errors.map((error) => {
          logUnexpectedError(logger, error, requestId);
          // a result without data failed before execution: only variable coercion gets there (Apollo: BAD_USER_INPUT)
          const formatted = 'data' in result ? error.toJSON() : { ...error.toJSON(), extensions: { code: 'BAD_USER_INPUT' } };
          return format(formatted, error);
        });
        return { ...result, errors };
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => format(error.toJSON(), error)),
      onOperation: (ctx, id, _payload, args, result) => {
        if (options.countSubscription && Symbol.asyncIterator in result) {
          let running = counted.get(ctx);
          if (!running) counted.set(ctx, (running = new Map()));
          running.set(id, options.countSubscription(args));
        }
        options.onOperation?.(id);
      },
      onComplete: (ctx, id) => {
        const running = counted.get(ctx);
        running?.get(id)?.();
        running?.delete(id);
      },
    },
    wsServer,
  );
  return {
    handleUpgrade: (request, socket, head, log) => wsServer.handleUpgrade(request, socket, head, (ws) => acceptLogged(wsServer, ws, request, log, logs)),
    // graphql-ws's dispose closes each socket with 1001 Going away, then waits for every one to close
    dispose: () => closeWithinGrace(wsServer, async () => server.dispose()),
    get connections() {
      return wsServer.clients.size;
    },
    get executions() {
      return shared.executions;
    },
  };
}
