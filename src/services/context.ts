import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Identity, KnownIdentity } from '../auth/identity.js';
import type { DomainError } from '../errors/domain-error.js';
import { unauthenticated } from '../errors/domain-error.js';
import { loadGrants, type Grants } from '../policy/grants.js';
import type { Services } from './index.js';
import { Loaders } from './loaders.js';

/**
 * What every service call receives: a unit of work (em forked per request), the caller, and
 * per-request batch loaders. GraphQL, REST and WebSocket handlers all build one of these.
 */
export interface ServiceContext {
  em: SqlEntityManager;
  identity: Identity;
  /** set when the request carried a credential that failed; reported on first use */
  authError?: DomainError;
  loaders: Loaders;
  requestId: string;
  services: Services;
  /** the caller's roles, read once per request on first use; UNAUTHENTICATED for anonymous callers */
  grants(): Promise<Grants>;
  /** grants() memo; kept on the object because Apollo hands resolvers a shallow copy of the context */
  grantsMemo?: Promise<Grants>;
}

/** `em` must be a fork of its own: the context owns its identity map and loaders. */
export function createServiceContext(
  em: SqlEntityManager,
  services: Services,
  auth: { identity: Identity; authError?: DomainError },
  requestId: string,
): ServiceContext {
  return {
    em,
    identity: auth.identity,
    authError: auth.authError,
    loaders: new Loaders(em),
    requestId,
    services,
    grants() {
      return (this.grantsMemo ??= loadGrants(this.em, requireIdentity(this)));
    },
  };
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
