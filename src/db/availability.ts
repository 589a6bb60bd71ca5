import { ConnectionException } from '@mikro-orm/core';

/** Driver codes of a database that cannot be reached, or that is shutting down or starting up (SQLSTATE class 08, 57P0x). */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03']);
/** What pg says of a connection that broke or of a pool that could not get one, without a code */
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed/i;

/**
 * Whether an error means the database is unavailable (rather than a query or a bug): the request may succeed later,
 * so it is answered 503 with Retry-After rather than 500. Follows the chains the ORM, the pool and graphql-js wrap errors in.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let current = err, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    if (current instanceof ConnectionException) return true;
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
    // graphql-js wraps what is not an Error of its realm (a driver's error seen from a VM context) as `thrownValue`
    const wrapped = current as { originalError?: unknown; thrownValue?: unknown };
    current = cause ?? wrapped.originalError ?? wrapped.thrownValue;
  }
  return false;
}
