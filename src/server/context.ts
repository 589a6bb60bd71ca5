import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Authenticator } from '../auth/authenticator.js';
import { anonymous, credentialsFromHeaders, type Credentials } from '../request/identity.js';
import { DomainError } from '../errors/domain-error.js';
import { isDatabaseUnavailable } from '../db/availability.js';
import { databaseUnavailable } from '../graphql/errors.js';
import { createServiceContext, type RequestAuth } from '../request/context.js';
import { LazyFork } from '../request/lazy-fork.js';
import type { GrantsCache } from '../request/grants-cache.js';
import type { RequestContext, Services } from '../services/index.js';
import { currentRequestScope } from '../logging/request-scope.js';
import { callerOf } from './access-log.js';
import { clientAddressOf } from './request-origin.js';


/** Where a request comes from: its HTTP request (a WebSocket's upgrade request), and the request id it asked for. */
export interface RequestOrigin {
  request?: IncomingMessage;
  requestId?: string;
}

/** Builds a request's context from its credentials, and where it comes from. */
export type CreateContext = (credentials: Credentials, origin?: RequestOrigin) => Promise<RequestContext>;

/**
 * Builds the per-request context from credentials; a bad credential is kept and reported on first use. `trustProxy`:
 * the client's address is the one the reverse proxy in front put last in X-Forwarded-For.
 */
export function contextFactory(em: SqlEntityManager, services: Services, authenticator: Authenticator, options: { trustProxy: boolean }) {
  // what every request reads rows through until it needs a unit of work (LazyFork)
  const reader = em.fork() as SqlEntityManager;
  return async (credentials: Credentials, origin: RequestOrigin = {}): Promise<RequestContext> => {
    const unit = new LazyFork(em, reader);
    try {
      return requestContext(unit, { identity: await authenticator.identify(unit, credentials) }, origin, services, options.trustProxy, authenticator.grants);
    } catch (err) {
      if (err instanceof DomainError) return requestContext(unit, { identity: anonymous, authError: err }, origin, services, options.trustProxy);
      throw err;
    }
  };
}

/**
 * A request's context once its caller is known: its unit of work, its client's address, its request id (a system
 * identity's name before it, as its audit records show), and the caller named in the request's access log line.
 */
function requestContext(unit: SqlEntityManager | LazyFork, auth: RequestAuth, origin: RequestOrigin, services: Services, trustProxy: boolean, grants?: GrantsCache): RequestContext {
  const scope = currentRequestScope();
  if (scope) scope.caller = callerOf(auth.identity);
  const id = origin.requestId ?? randomUUID();
  const requestId = auth.identity.kind === 'system' ? `${auth.identity.name}:${id}` : id;
  const clientAddress = origin.request && clientAddressOf(origin.request, trustProxy);
  return Object.assign(createServiceContext(unit, auth, requestId, grants), { clientAddress, services });
}

/** For GraphQL's transports, whose failed context Apollo would answer 500 with the error's own text: a database out of reach is SERVICE_UNAVAILABLE. */
export const graphqlContexts =
  (createContext: CreateContext): CreateContext =>
  (credentials, origin) =>
    createContext(credentials, origin).catch((err: unknown) => {
      throw isDatabaseUnavailable(err) ? databaseUnavailable() : err;
    });

/**
 * The context of an HTTP request: its credentials (from the headers an API reads them from: Platz's by default), its
 * address, the id of the request scope it runs in.
 */
export const contextOfRequest =
  <C>(createContext: (credentials: Credentials, origin: RequestOrigin) => Promise<C>, credentialsOf: (headers: IncomingMessage['headers']) => Credentials = credentialsFromHeaders) =>
  (request: IncomingMessage): Promise<C> =>
    createContext(credentialsOf(request.headers), { request, requestId: currentRequestScope()?.requestId });

/**
 * The context of a request whose API finds its caller itself (Storj's admin token): `auth`, a system identity or a
 * refusal. A system identity's writes are audited under its name, which prefixes the request's id.
 */
export function contextWithCaller(em: SqlEntityManager, services: Services, options: { trustProxy: boolean }) {
  return async (request: IncomingMessage, auth: RequestAuth): Promise<RequestContext> =>
    requestContext(em.fork() as SqlEntityManager, auth, { request, requestId: currentRequestScope()?.requestId }, services, options.trustProxy);
}

/**
 * Where graphql-ws clients commonly put a credential in connection_init, first match wins (x-platz-token first, as
 * over HTTP). Each value may be "Bearer <jwt>", a bare JWT or an API token: told apart by form, not by key.
 */
const CONNECTION_PARAM_KEYS = ['x-platz-token', 'authorization', 'Authorization', 'authToken', 'token'] as const;
const JWT_FORM = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Credentials from graphql-ws connection_init params; `source` names the key they came from, for the close reason. */
export function credentialsFromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): Credentials {
  const headers = params?.headers && typeof params.headers === 'object' ? (params.headers as Record<string, unknown>) : {};
  const candidates: [string, unknown][] = [
    ...CONNECTION_PARAM_KEYS.map((key): [string, unknown] => [key, params?.[key]]),
    ...CONNECTION_PARAM_KEYS.map((key): [string, unknown] => [`headers.${key}`, headers[key]]),
  ];
  const found = candidates.find(([, value]) => typeof value === 'string' && value.trim() !== '');
  if (!found) return {};
  const [source, raw] = found as [string, string];
  const token = raw.trim().replace(/^bearer\s+/i, '');
  return JWT_FORM.test(token) ? { authorization: `Bearer ${token}`, source } : { platzToken: token, source };
}
