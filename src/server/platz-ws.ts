import type http from 'node:http';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Credentials, KnownIdentity } from '../request/identity.js';
import { isUuid } from '../entities/uuid.js';
import type { EventHub, Subscriber } from '../events/event-hub.js';
import { identityKey } from '../policy/grants.js';
import type { RecordedScope } from '../policy/visibility.js';
import type { DeliveredOperation } from '../events/change-scope.js';
import type { ChangeEvent } from '../events/event-log.js';
import { CloseCode } from '../events/event-stream.js';
import { EVENT_TABLES, isEventTable, type EventTable } from '../events/event-types.js';
import type { ServiceContext } from '../request/context.js';
import { credentialsFromHeaders } from './context.js';
import type { CredentialWatch } from './credential-watch.js';
import { acceptLogged, closeWithinGrace, type WebSocketEndpoint } from './graphql-ws.js';
import { callerOf, type WebSocketLog } from './access-log.js';
import type { Logger } from '../logging/logger.js';

export interface PlatzWsOptions {
  hub: EventHub;
  createContext: (credentials: Credentials) => Promise<ServiceContext>;
  logger: Logger;
  /** frames one connection may have unsent before it is closed as too slow */
  queueLimit: number;
  /** closes sockets whose credential has been revoked or has expired since they connected */
  credentials: CredentialWatch;
}

/** Browsers cannot set headers on a WebSocket: Platz's frontend sends its JWT as the second subprotocol. */
const AUTH_PROTOCOL = 'platz-auth-bearer';
const PING_EVERY_MS = 30_000;
/** bytes waiting in the socket past which a connection is too slow, whatever the frame count */
const MAX_BUFFERED_BYTES = 1 << 20;
/** client frames are a few hundred bytes; anything far larger is not one */
const MAX_PAYLOAD_BYTES = 16 * 1024;
/** bounds what one client can make the server hold: 17 tables × many envs */
const MAX_SUBSCRIPTIONS = 1000;

type Request = { type: 'subscribe' | 'unsubscribe'; table: EventTable; envId: string | null };

const FRAME_SHAPE = '{"type":"subscribe"|"unsubscribe","table":"<table>","env_id":<uuid|null>}';

/** A client frame, or why it is not one. */
function parseRequest(data: RawData, isBinary: boolean): Request | string {
  let frame: unknown;
  try {
    frame = isBinary ? undefined : JSON.parse(data.toString());
  } catch {
    // reported below, with the frame's expected shape
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return `Frames must be JSON text: ${FRAME_SHAPE}`;
  const { type, table, env_id: envId = null } = frame as Record<string, unknown>;
  if (type !== 'subscribe' && type !== 'unsubscribe') return 'type must be "subscribe" or "unsubscribe"';
  if (typeof table !== 'string' || !isEventTable(table)) return `table must be one of ${Object.keys(EVENT_TABLES).join(', ')}`;
  if (envId !== null && !isUuid(envId)) return 'env_id must be a UUID or null';
  // the log holds ids in lower case
  return { type, table, envId: envId?.toLowerCase() ?? null };
}

/** A subscription's key; env null means every env. */
const subscriptionKey = (table: string, envId: string | null) => `${table} ${envId ?? '*'}`;

/**
 * One socket: the (table, env) pairs it subscribed to, as one subscriber of the hub, which has
 * already applied the read policy to whatever it delivers.
 */
class PlatzConnection implements Subscriber {
  private readonly subscriptions = new Set<string>();
  /** frames handed to ws whose write has not completed */
  private unsent = 0;
  private answeredPing = true;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly socket: WebSocket,
    readonly identity: KnownIdentity,
    hub: EventHub,
    private readonly queueLimit: number,
  ) {
    this.unsubscribe = hub.subscribe(this);
    socket.on('message', (data, isBinary) => this.receive(parseRequest(data, isBinary)));
    socket.on('pong', () => (this.answeredPing = true));
    socket.on('close', () => this.unsubscribe());
  }

  selects(table: string, _id: string, scope: RecordedScope): boolean {
    return this.subscriptions.has(subscriptionKey(table, null)) || (scope.envId !== null && this.subscriptions.has(subscriptionKey(table, scope.envId)));
  }

  /** Platz's frames know three operations: an object moving into an env's channel is an insert there, one moving out a delete. */
  deliver(event: ChangeEvent, operation: DeliveredOperation): void {
    this.send({ operation: operation === 'ENTER' ? 'INSERT' : operation === 'LEAVE' ? 'DELETE' : operation, table: event.table, data: { id: event.id } });
  }

  revoked(): void {
    this.close(CloseCode.Forbidden, 'Forbidden: the identity is no longer valid');
  }

  /** A peer that did not answer the previous ping is gone: without this its subscriber would stay until TCP gives up. */
  heartbeat(): void {
    if (!this.answeredPing) return this.socket.terminate();
    this.answeredPing = false;
    this.socket.ping();
  }

  close(code: number, reason: string): void {
    this.unsubscribe();
    this.socket.close(code, reason);
  }

  private receive(request: Request | string): void {
    if (typeof request === 'string') return this.send({ type: 'error', message: request });
    const key = subscriptionKey(request.table, request.envId);
    if (request.type === 'unsubscribe') this.subscriptions.delete(key);
    else if (this.subscriptions.size < MAX_SUBSCRIPTIONS || this.subscriptions.has(key)) this.subscriptions.add(key);
    else this.send({ type: 'error', message: `At most ${MAX_SUBSCRIPTIONS} subscriptions per connection` });
  }

  /** Sends a frame, or closes the connection rather than buffer more for a client that does not read. */
  private send(frame: object): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    if (this.unsent >= this.queueLimit) return this.close(CloseCode.TooSlow, `Too slow: more than ${this.queueLimit} frames unsent`);
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) return this.close(CloseCode.TooSlow, `Too slow: more than ${MAX_BUFFERED_BYTES} bytes unsent`);
    this.unsent++;
    this.socket.send(JSON.stringify(frame), () => this.unsent--);
  }
}

/** The JWT of `Sec-WebSocket-Protocol: platz-auth-bearer, <token>`, else the x-platz-token or Authorization header. */
function credentialsOf(request: http.IncomingMessage): Credentials {
  const [protocol, token] = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((value) => value.trim());
  return protocol === AUTH_PROTOCOL && token ? { authorization: `Bearer ${token}` } : credentialsFromHeaders(request.headers);
}

/**
 * Platz's event socket as on its main branch: authenticated before the upgrade, no subscriptions
 * until the client sends some, and each event the caller may see and subscribed to as
 * `{"operation","table","data":{"id"}}`.
 */
export function startPlatzWs(options: PlatzWsOptions): WebSocketEndpoint {
  const { hub, createContext, logger, queueLimit, credentials } = options;
  const identities = new WeakMap<http.IncomingMessage, KnownIdentity>();
  const connections = new Set<PlatzConnection>();
  const logs = new WeakMap<object, WebSocketLog>();

  const authenticate = async (request: http.IncomingMessage): Promise<KnownIdentity | null> => {
    const credentials = credentialsOf(request);
    if (!credentials.authorization && !credentials.platzToken) return null;
    const { identity, authError } = await createContext(credentials);
    return authError || identity.kind === 'anonymous' ? null : identity;
  };

  const wsServer = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_PAYLOAD_BYTES,
    handleProtocols: (protocols) => (protocols.has(AUTH_PROTOCOL) ? AUTH_PROTOCOL : false),
    // the asynchronous form runs after ws has checked the handshake, while ws handles the socket's errors
    verifyClient: (info: { req: http.IncomingMessage }, done: (verified: boolean, code?: number) => void) => {
      authenticate(info.req).then(
        (identity) => {
          if (identity) identities.set(info.req, identity);
          done(!!identity, 401);
        },
        (err: unknown) => {
          logger.error({ err }, 'Platz WebSocket authentication failed');
          done(false, 500);
        },
      );
    },
  });

  wsServer.on('connection', (socket: WebSocket, request: http.IncomingMessage) => {
    const identity = identities.get(request)!;
    const connection = new PlatzConnection(socket, identity, hub, queueLimit);
    connections.add(connection);
    socket.on('error', (err) => logger.debug({ err, identity: identityKey(identity) }, 'Platz WebSocket error'));
    credentials.watch(socket, credentialsOf(request));
    const log = logs.get(socket);
    if (log) socket.on('message', () => log.operations++);
    socket.on('close', () => {
      connections.delete(connection);
      credentials.forget(socket);
    });
  });

  const pings = setInterval(() => connections.forEach((connection) => connection.heartbeat()), PING_EVERY_MS).unref();

  return {
    handleUpgrade: (request, socket, head, log) =>
      wsServer.handleUpgrade(request, socket, head, (ws) => {
        log.caller = callerOf(identities.get(request)!);
        acceptLogged(wsServer, ws, request, log, logs);
      }),
    dispose: () =>
      closeWithinGrace(wsServer, async () => {
        clearInterval(pings);
        connections.forEach((connection) => connection.close(1001, 'Going away'));
        await new Promise<void>((resolve, reject) => wsServer.close((err) => (err ? reject(err) : resolve())));
      }),
    get connections() {
      return wsServer.clients.size;
    },
  };
}
