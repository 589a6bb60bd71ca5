/**
 * Every way a service can refuse a request. Each code is mapped exactly once per API
 * (GraphQL in src/graphql/errors.ts); a new code fails to compile until it is mapped.
 */
export enum ErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  CONFLICT = 'CONFLICT',
  /** a subscription resumed from a cursor older than the event log keeps: start again from a snapshot */
  CURSOR_EXPIRED = 'CURSOR_EXPIRED',
  /** a cluster's API server is unreachable, did not answer in time, refused Berth's credentials or failed */
  CLUSTER_UNAVAILABLE = 'CLUSTER_UNAVAILABLE',
  /** refused for now, before it was looked at (login attempts after repeated failures); `retryAfter` says for how long */
  TOO_MANY_REQUESTS = 'TOO_MANY_REQUESTS',
  INTERNAL = 'INTERNAL',
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** the input field at fault, for BAD_USER_INPUT */
    readonly field?: string,
    /** whole seconds before the same request may be made again, for TOO_MANY_REQUESTS */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/**
 * Services name the field at fault as their own input calls it (`envId`); each adapter places it in its request
 * (GraphQL's `filter.envId`, a REST query parameter). A message that starts with the field's name follows it.
 */
export function fieldWithin(err: unknown, path: string): unknown {
  if (!(err instanceof DomainError) || !err.field) return err;
  const field = `${path}.${err.field}`;
  const message = err.message.startsWith(err.field) ? field + err.message.slice(err.field.length) : err.message;
  return new DomainError(err.code, message, field, err.retryAfter);
}

export const unauthenticated = (message = 'Authentication required') => new DomainError(ErrorCode.UNAUTHENTICATED, message);
export const forbidden = (message = "You don't have permission to perform this operation") => new DomainError(ErrorCode.FORBIDDEN, message);
export const badInput = (field: string, message: string) => new DomainError(ErrorCode.BAD_USER_INPUT, message, field);
export const notFound = (what: string) => new DomainError(ErrorCode.NOT_FOUND, `${what} not found`);
/** a duplicate, or a rule about other objects (dependents, state) that forbids the change */
export const conflict = (message: string) => new DomainError(ErrorCode.CONFLICT, message);
/** a cluster's API server cannot do it now (unreachable, slow, refusing Berth's credentials) */
export const clusterUnavailable = (message: string) => new DomainError(ErrorCode.CLUSTER_UNAVAILABLE, message);
export const tooManyRequests = (message: string, retryAfter: number) => new DomainError(ErrorCode.TOO_MANY_REQUESTS, message, undefined, retryAfter);

export function assertUnreachable(value: never): never {
  throw new Error(`unhandled case: ${String(value)}`);
}
