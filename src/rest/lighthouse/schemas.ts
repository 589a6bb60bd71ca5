import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ErrorCode } from '../../errors/domain-error.js';
import { schemaRegistry } from '../api.js';
import type { ErrorDialect } from '../errors.js';

/** Where Lighthouse's clients find the API. */
export const LIGHTHOUSE_PREFIX = '/api/v0.2';

/** Every error Lighthouse answers (`handlers.WriteError`): the module it arose in, and what went wrong. */
export const LighthouseError = z
  .object({
    Cause: z.string().describe('the module the error arose in: auth, users, beacons, aliases, applications'),
    Message: z.string().describe('what went wrong, in words'),
  })
  .meta({ description: 'Every error: `{Cause, Message}`' });

/** The schemas Lighthouse's document names. */
export const lighthouseSchemas = schemaRegistry(LighthouseError);

/** The modules a path names after the prefix; login and logout are auth's. */
const MODULES = new Set(['users', 'beacons', 'aliases', 'applications']);

/** The module a request addressed, as Lighthouse names its errors' Cause. */
function causeOf(request: FastifyRequest): string {
  const [segment = ''] = request.url.split('?')[0].slice(LIGHTHOUSE_PREFIX.length).split('/').filter(Boolean);
  return MODULES.has(segment) ? segment : segment === 'login' || segment === 'logout' ? 'auth' : 'api';
}

const isLogin = (request: FastifyRequest) => request.routeOptions.url === `${LIGHTHOUSE_PREFIX}/login`;

/**
 * Lighthouse's errors: `{Cause, Message}`. Without a session every route but login answers as Lighthouse's middleware
 * did (401 `{"Cause":"auth","Message":"not logged in"}`), whatever was wrong with the cookie; a duplicate is a 400, as
 * Lighthouse answered the database's refusal.
 */
export const lighthouseErrors: ErrorDialect = {
  schema: LighthouseError,
  answer: (error, request) => {
    if (error.kind === ErrorCode.UNAUTHENTICATED) return { body: { Cause: 'auth', Message: isLogin(request) ? error.message : 'not logged in' } };
    return { status: error.kind === ErrorCode.CONFLICT ? 400 : undefined, body: { Cause: causeOf(request), Message: error.message } };
  },
  // Lighthouse's fields are capitalized: a service's `email` is the body's `Email`
  fieldName: (field) => field.charAt(0).toUpperCase() + field.slice(1),
  documented: ({ 409: duplicate, ...errors }) => (duplicate ? { ...errors, 400: [errors[400], duplicate].filter(Boolean).join('; ') } : errors),
};

/** Lighthouse's request bodies that are a bare JSON string (a token, an alias): a non-empty one. */
export const BareString = (what: string) => z.string().min(1, `${what} must not be empty`).describe(`${what}, as a bare JSON string`);

/** Lighthouse answers its writes 200 with nothing in the body. */
export const Empty = z.undefined();
