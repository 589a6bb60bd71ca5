import type http from 'node:http';
import { WebSocket, type RawData } from 'ws';
import { isUuid } from '../../entities/uuid.js';
import type { DeliveredOperation } from '../../events/change-scope.js';
import type { ChangeEvent } from '../../events/event-log.js';
import { CloseCode } from '../../events/event-stream.js';
import { EVENT_TABLES, isEventTable, type EventTable } from '../../events/event-types.js';
import type { RecordedScope } from '../../policy/visibility.js';
import { credentialsFromHeaders, type Credentials } from '../../request/identity.js';
import type { LiveFeed } from '../../services/event.service.js';
import type { RequestContext } from '../../services/index.js';

/**
 * Platz's event socket (`GET /api/v2/ws`) as on its main branch: what a client sends and receives. Its transport (the
 * upgrade, the credential watch, the access log, shutdown) is the composition root's, src/server/platz-ws.ts, beside
 * graphql-ws's.
 */

/** Browsers cannot set headers on a WebSocket: Platz's frontend sends its JWT as the second subprotocol. */
const AUTH_PROTOCOL = 'platz-auth-bearer';
/** Platz pings every 30 s */
export const PLATZ_PING_EVERY_MS = 30_000;
/** bytes waiting in the socket past which a connection is too slow, whatever the frame count */
const MAX_BUFFERED_BYTES = 1 << 20;
/** client frames are a few hundred bytes; anything far larger is not one */
export const PLATZ_MAX_PAYLOAD_BYTES = 16 * 1024;
/** bounds what one client can make the server hold: 17 tables × many envs */
const MAX_SUBSCRIPTIONS = 1000;

/** The subprotocol the server echoes: Platz's, and no other. */
export const platzProtocol = (protocols: Set<string>): string | false => (protocols.has(AUTH_PROTOCOL) ? AUTH_PROTOCOL : false);

/** The JWT of `Sec-WebSocket-Protocol: platz-auth-bearer, <token>`, else the x-platz-token or Authorization header. */
export function platzCredentials(request: http.IncomingMessage): Credentials {
  const [protocol, token] = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((value) => value.trim());
  return protocol === AUTH_PROTOCOL && token ? { authorization: `Bearer ${token}` } : credentialsFromHeaders(request.headers);
}

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
 * One socket: the (table, env) pairs it subscribed to, following the caller's live changes through EventService, which
 * applies the read policy to whatever it delivers. No subscriptions until the client sends some; each event as
 * `{"operation","table","data":{"id"}}`.
 */
export class PlatzConnection implements LiveFeed {
  private readonly subscriptions = new Set<string>();
  /** frames handed to ws whose write has not completed */
  private unsent = 0;
  private answeredPing = true;
  private readonly stop: () => void;

  constructor(
    private readonly socket: WebSocket,
    ctx: RequestContext,
    private readonly queueLimit: number,
  ) {
    this.stop = ctx.services.events.follow(ctx, this);
    socket.on('message', (data, isBinary) => this.receive(parseRequest(data, isBinary)));
    socket.on('pong', () => (this.answeredPing = true));
    socket.on('close', () => this.stop());
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

  /** A peer that did not answer the previous ping is gone: without this it would be followed until TCP gives up. */
  heartbeat(): void {
    if (!this.answeredPing) return this.socket.terminate();
    this.answeredPing = false;
    this.socket.ping();
  }

  close(code: number, reason: string): void {
    this.stop();
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
