import type http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { KnownIdentity } from '../request/identity.js';
import { identityKey } from '../policy/grants.js';
import { PLATZ_MAX_PAYLOAD_BYTES, PLATZ_PING_EVERY_MS, platzCredentials, PlatzConnection, platzProtocol } from '../rest/platz/ws.js';
import type { RequestContext } from '../services/index.js';
import type { CreateContext } from './context.js';
import type { CredentialWatch } from './credential-watch.js';
import { acceptLogged, closeWithinGrace, type WebSocketEndpoint } from './graphql-ws.js';
import { callerOf, type WebSocketLog } from './access-log.js';
import type { Logger } from '../logging/logger.js';

export interface PlatzWsOptions {
  createContext: CreateContext;
  logger: Logger;
  /** frames one connection may have unsent before it is closed as too slow */
  queueLimit: number;
  /** closes sockets whose credential has been revoked or has expired since they connected */
  credentials: CredentialWatch;
}

/**
 * The transport of Platz's event socket (its protocol: src/rest/platz/ws.ts): authenticated before the upgrade (401
 * otherwise), each connection followed by the credential watch, logged as a WebSocket, pinged, closed on shutdown.
 */
export function startPlatzWs(options: PlatzWsOptions): WebSocketEndpoint {
  const { createContext, logger, queueLimit, credentials } = options;
  /** the context each accepted upgrade authenticated with, for its connection */
  const contexts = new WeakMap<http.IncomingMessage, RequestContext & { identity: KnownIdentity }>();
  const connections = new Set<PlatzConnection>();
  const logs = new WeakMap<object, WebSocketLog>();

  const authenticate = async (request: http.IncomingMessage) => {
    const presented = platzCredentials(request);
    if (!presented.authorization && !presented.platzToken) return null;
    const ctx = await createContext(presented);
    return ctx.authError || ctx.identity.kind === 'anonymous' ? null : (ctx as RequestContext & { identity: KnownIdentity });
  };

  const wsServer = new WebSocketServer({
    noServer: true,
    maxPayload: PLATZ_MAX_PAYLOAD_BYTES,
    handleProtocols: platzProtocol,
    // the asynchronous form runs after ws has checked the handshake, while ws handles the socket's errors
    verifyClient: (info: { req: http.IncomingMessage }, done: (verified: boolean, code?: number) => void) => {
      authenticate(info.req).then(
        (ctx) => {
          if (ctx) contexts.set(info.req, ctx);
          done(!!ctx, 401);
        },
        (err: unknown) => {
          logger.error({ err }, 'Platz WebSocket authentication failed');
          done(false, 500);
        },
      );
    },
  });

  wsServer.on('connection', (socket: WebSocket, request: http.IncomingMessage) => {
    const ctx = contexts.get(request)!;
    const connection = new PlatzConnection(socket, ctx, queueLimit);
    connections.add(connection);
    socket.on('error', (err) => logger.debug({ err, identity: identityKey(ctx.identity) }, 'Platz WebSocket error'));
    credentials.watch(socket, platzCredentials(request));
    const log = logs.get(socket);
    if (log) socket.on('message', () => log.operations++);
    socket.on('close', () => {
      connections.delete(connection);
      credentials.forget(socket);
    });
  });

  const pings = setInterval(() => connections.forEach((connection) => connection.heartbeat()), PLATZ_PING_EVERY_MS).unref();

  return {
    handleUpgrade: (request, socket, head, log) =>
      wsServer.handleUpgrade(request, socket, head, (ws) => {
        log.caller = callerOf(contexts.get(request)!.identity);
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
