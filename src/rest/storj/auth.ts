import { hashSecret, secretMatches } from '../../auth/opaque-token.js';
import { forbidden } from '../../errors/domain-error.js';
import { anonymous } from '../../request/identity.js';
import type { RequestAuth } from '../../request/context.js';

/** Berth's system identity a request with the admin token acts as: its writes are audited under this name. */
const STORJ_ADMIN = 'storj-admin';

/**
 * The caller of a Storj admin request, from its `Authorization` header: the admin token as is (no `Bearer`), compared
 * in constant time. With no token configured, every request is refused, as Storj's own server does.
 */
export function storjCaller(adminToken: string | undefined): (authorization: string | undefined) => RequestAuth {
  const expected = adminToken === undefined ? undefined : hashSecret(adminToken);
  return (authorization) => {
    if (expected === undefined) return { identity: anonymous, authError: forbidden('Authorization not enabled.') };
    if (authorization === undefined || !secretMatches(authorization, expected)) return { identity: anonymous, authError: forbidden('Forbidden') };
    return { identity: { kind: 'system', name: STORJ_ADMIN } };
  };
}
