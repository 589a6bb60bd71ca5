import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Identity } from '../request/identity.js';
import type { Logger } from '../logging/logger.js';
import { currentRequestScope, type RequestScope } from '../logging/request-scope.js';
import { identityKey } from '../policy/grants.js';
import { clientAddressOf } from './request-origin.js';

/** probes of a kubelet or a load balancer: every few seconds, each one alike */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/** Who called, for a log line: a kind and an id (`user:<id>`), never a credential. */
export const callerOf = (identity: Identity): string => (identity.kind === 'anonymous' ? 'anonymous' : identityKey(identity));

const milliseconds = (since: number) => Math.round((performance.now() - since) * 10) / 10;

/**
 * One line per HTTP request once its response is done or abandoned: method, path (never the query string, where GET
 * carries variables), status, duration, caller, GraphQL operation, client address and request id. Never a header or a
 * body. Probes log at debug; a 5xx at warn (the fault itself is logged at error where it happened).
 */
export function logHttpRequests(logger: Logger, trustProxy: boolean) {
  return (req: IncomingMessage, res: ServerResponse, scope: RequestScope): void => {
    const started = performance.now();
    // read now: by the time the response closes, the request may have let go of its socket
    const address = clientAddressOf(req, trustProxy);
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    res.once('close', () => {
      const fields = {
        method: req.method,
        path,
        status: res.statusCode,
        durationMs: milliseconds(started),
        caller: scope.caller ?? 'anonymous',
        ...(scope.operation ? { operation: scope.operation } : {}),
        address,
        // the response closes outside the request's async context: named here
        requestId: scope.requestId,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (res.statusCode >= 500) logger.warn(fields, 'http request');
      else if (PROBES.has(path)) logger.debug(fields, 'http request');
      else logger.info(fields, 'http request');
    });
  };
}

/** What a WebSocket endpoint tells the access log of one connection: who it turned out to be, what it ran. */
export interface WebSocketLog {
  caller: string;
  operations: number;
  closed(code: number): void;
}

/**
 * One line per WebSocket connection once it closes: path, close code, duration, caller, operations run, client
 * address. The opening is logged at debug.
 */
export function logWebSockets(logger: Logger, trustProxy: boolean) {
  return (path: string, request: IncomingMessage): WebSocketLog => {
    const started = performance.now();
    const address = clientAddressOf(request, trustProxy);
    logger.debug({ path, address }, 'websocket opened');
    return {
      caller: 'anonymous',
      operations: 0,
      closed(code) {
        logger.info({ path, code, durationMs: milliseconds(started), caller: this.caller, operations: this.operations, address }, 'websocket closed');
      },
    };
  };
}

/** Names the GraphQL operation of the request being served, for its access log line (bounded: it is the client's text). */
export function operationInRequestScope(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operationName }) {
          const scope = currentRequestScope();
          if (scope) scope.operation = operationName?.slice(0, 100) ?? 'anonymous';
        },
      };
    },
  };
}
