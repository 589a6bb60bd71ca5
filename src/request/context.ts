import type { SqlEntityManager } from '@mikro-orm/sql';
import type { DomainError } from '../errors/domain-error.js';
import { unauthenticated } from '../errors/domain-error.js';
import { anonymous, type Identity, type KnownIdentity, type SystemIdentity } from './identity.js';
import type { GrantsCache } from './grants-cache.js';
import { LazyFork } from './lazy-fork.js';
import { Loaders } from './loaders.js';

/**
 * What every service call receives: a unit of work (em, forked for a request on first use), the caller, and per-request batch
 * loaders. GraphQL, REST and WebSocket handlers build one per request; writers without a request (informers, the
 * task worker) build one with `systemContext`.
 */
export interface ServiceContext {
  em: SqlEntityManager;
  identity: Identity;
  /** set when the request carried a credential that failed; reported on first use */
  authError?: DomainError;
  loaders: Loaders;
  requestId: string;
  /** the address the request came from (login throttling); absent for Berth's own writers */
  clientAddress?: string;
  /**
   * What is read once per request (the caller's grants, src/policy/grants.ts), shared with the transaction
   * contexts made from it and with the shallow copies Apollo hands resolvers.
   */
  memo: Map<symbol, Promise<unknown>>;
  /** the process's grants cache; absent for Berth's own writers and in tests, which then read grants once per context */
  grantsCache?: GrantsCache;
}

/** Who a request's caller is, or the credential failure to report on first use. */
export interface RequestAuth {
  identity: Identity;
  authError?: DomainError;
}

/**
 * A lazy fork's context reads `em` through its prototype, which copies keep: Apollo copies each operation's context
 * (Object.assign onto an object of the same prototype), which would call an own getter and fork every time.
 */
const lazyEm = Object.create(Object.prototype, {
  em: {
    get(this: { unit: LazyFork }) {
      return this.unit.em;
    },
  },
}) as object;

/** `em` must be a fork of its own, or a LazyFork (a request's): the context owns its identity map and loaders. */
export function createServiceContext(em: SqlEntityManager | LazyFork, auth: RequestAuth, requestId: string, grantsCache?: GrantsCache): ServiceContext {
  const fields = { identity: auth.identity, authError: auth.authError, loaders: new Loaders(em), requestId, memo: new Map(), grantsCache };
  return em instanceof LazyFork ? (Object.assign(Object.create(lazyEm), { unit: em }, fields) as ServiceContext) : { em, ...fields };
}

/** `ctx` with `changes`, its prototype kept (a lazy fork's `em`, see createServiceContext). */
export function contextWith<C extends object>(ctx: C, changes: Partial<C>): C {
  return Object.assign(Object.create(Object.getPrototypeOf(ctx) as object) as C, ctx, changes);
}

/** A writer that no request drives, as `name` (audited as the actor `system`, `name` as the request id's prefix). */
export function systemContext(em: SqlEntityManager, name: string): ServiceContext {
  const identity: SystemIdentity = { kind: 'system', name };
  return createServiceContext(em, { identity }, `${name}:${crypto.randomUUID()}`);
}

/** The same caller inside a transaction: its own unit of work and loaders, the grants already read. */
export function transactionContext(ctx: ServiceContext, em: SqlEntityManager): ServiceContext {
  return { ...ctx, em, loaders: new Loaders(em) };
}

/** Every API except login, token refresh and server info needs a caller. */
export function requireIdentity(ctx: Pick<ServiceContext, 'identity' | 'authError'>): KnownIdentity {
  if (ctx.authError) throw ctx.authError;
  if (ctx.identity.kind === 'anonymous') throw unauthenticated();
  return ctx.identity;
}

/** Signing in ignores whatever credential the request carried: a stale token must not block a new login. */
export const signingIn = (ctx: ServiceContext): ServiceContext => contextWith(ctx, { identity: anonymous, authError: undefined, memo: new Map() });
