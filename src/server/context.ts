import { randomUUID } from 'node:crypto';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Authenticator } from '../auth/authenticator.js';
import { anonymous, type Credentials } from '../auth/identity.js';
import { DomainError } from '../errors/domain-error.js';
import { createServiceContext, type ServiceContext } from '../services/context.js';
import type { Services } from '../services/index.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Builds the per-request service context from credentials; a bad credential is kept and reported on first use. */
export function contextFactory(em: SqlEntityManager, services: Services, authenticator: Authenticator) {
  return async (credentials: Credentials, requestId?: string): Promise<ServiceContext> => {
    const id = requestId && REQUEST_ID.test(requestId) ? requestId : randomUUID();
    const fork = em.fork() as SqlEntityManager;
    try {
      return createServiceContext(fork, services, { identity: await authenticator.identify(fork, credentials) }, id);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return createServiceContext(fork, services, { identity: anonymous, authError: err }, id);
    }
  };
}

/** Credentials from HTTP headers. */
export function credentialsFromHeaders(headers: Record<string, string | string[] | undefined>): Credentials {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  return { authorization: first(headers.authorization), platzToken: first(headers['x-platz-token']) };
}

/** Credentials from graphql-ws connection_init params: { authorization } or { token } / { "x-platz-token" }. */
export function credentialsFromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): Credentials {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const authorization = str(params?.authorization) ?? str(params?.Authorization);
  return { authorization, platzToken: str(params?.['x-platz-token']) ?? str(params?.token) };
}
