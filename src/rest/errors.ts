import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../db/availability.js';
import { assertUnreachable, DomainError, ErrorCode } from '../errors/domain-error.js';
import type { Logger } from '../logging/logger.js';
import { snakeCase } from '../util/case.js';

/** Every error Platz's API answers: one message, in words. */
export const ErrorBody = z.object({ message: z.string().describe('what went wrong, in words') }).meta({ id: 'Error', description: 'Every error: a JSON body with a message' });

/** What went wrong in a REST request, before an API words it. */
export interface RestError {
  /** the status Berth's conventions give it (src/rest/platz/CONTRACT.md); an API may answer another */
  status: number;
  /**
   * a service's refusal by its code; `VALIDATION` a request that does not match its schema; `NO_ROUTE` a path the API
   * does not serve; `HTTP` the HTTP layer's own refusal (a body that is not JSON, or too large); `UNAVAILABLE` the
   * database out of reach
   */
  kind: ErrorCode | 'VALIDATION' | 'NO_ROUTE' | 'HTTP' | 'UNAVAILABLE';
  /** in words, the field named first where one is at fault (`name (body): must not be empty`) */
  message: string;
  /**
   * for VALIDATION and a service's BAD_USER_INPUT: the request's fields at fault, each with the rule it broke, the one
   * `message` names first (a schema may refuse several at once: an API may answer them all)
   */
  fields?: RestErrorField[];
}

/** A request's field at fault, and the rule it broke. */
export interface RestErrorField {
  name: string;
  where: 'body' | 'query parameter' | 'path parameter';
  rule: string;
  message: string;
}

/**
 * How one API writes its errors (Platz `{message}`, Storj `{error, detail}`, Porter `{code, errors}`): every error of
 * its routes, its unknown paths and its refused credentials goes through `answer`.
 */
export interface ErrorDialect {
  /** every error's body, documented as the API's `Error` schema */
  schema: z.ZodType;
  /**
   * the error as the API answers it: its own status where it has one, the body, and the media type when not JSON;
   * `request` for an API whose errors name where they arose (Lighthouse's `Cause` is the module of the path)
   */
  answer(error: RestError, request: FastifyRequest): { status?: number; body: unknown; contentType?: 'text/plain' };
  /** the statuses a route documents, from the ones Berth's conventions give it (a Porter route's 400 is a 422) */
  documented?(errors: Record<number, string>): Record<number, string>;
  /** a service's input field as the API's requests name it (`ingressDomain`): snake_case unless said (Lighthouse's `AuthLevel`) */
  fieldName?(field: string): string;
}

/** Platz's errors: `{"message": "..."}` with the conventional status. */
export const platzErrors: ErrorDialect = { schema: ErrorBody, answer: ({ message }) => ({ body: { message } }) };

/** when a client should try again after the database was unavailable */
const RETRY_AFTER_SECONDS = 5;

/** The one mapping from domain error codes to HTTP statuses. */
export function restStatus(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.UNAUTHENTICATED:
      return 401;
    case ErrorCode.FORBIDDEN:
      return 403;
    case ErrorCode.NOT_FOUND:
      return 404;
    case ErrorCode.BAD_USER_INPUT:
      return 400;
    case ErrorCode.CONFLICT:
      return 409;
    // subscriptions only: a REST call has no cursor to resume from
    case ErrorCode.CURSOR_EXPIRED:
      return 410;
    case ErrorCode.CLUSTER_UNAVAILABLE:
      return 502;
    case ErrorCode.TOO_MANY_REQUESTS:
      return 429;
    case ErrorCode.INTERNAL:
      return 500;
    default:
      return assertUnreachable(code);
  }
}

/** Where a request's part was found to be wrong: `body` fields by name, query parameters and path parameters by name too. */
function validationError(err: FastifyError): RestError {
  const where = err.validationContext === 'body' ? 'body' : err.validationContext === 'querystring' ? 'query parameter' : 'path parameter';
  const fields = err.validation!.map((issue): RestErrorField => ({
    name: issue.instancePath.split('/').filter(Boolean).join('.'),
    where,
    rule: (issue.params as { issue?: { code?: string } } | undefined)?.issue?.code ?? issue.keyword,
    message: issue.message ?? 'is not valid',
  }));
  const [{ name, message }] = fields;
  return { status: 400, kind: 'VALIDATION', message: name ? `${name} (${where}): ${message}` : `${where}: ${message}`, fields };
}

/**
 * A service's refusal of one input field, in the REST request's words: services name fields as their own input calls
 * them (`input.ingressDomain`), a REST client knows them by the request's (`ingress_domain`, in the body).
 */
function fieldError(err: DomainError, method: string, fieldName: (field: string) => string): RestError {
  const field = err.field!;
  const inPath = field.startsWith('params.');
  const name = fieldName((inPath ? field.slice('params.'.length) : field).replace(/^input\./, ''));
  const where = inPath ? 'path parameter' : method === 'GET' ? 'query parameter' : 'body';
  // "ingressDomain must be …" is "ingress_domain (body): must be …"; another message is kept after the field
  const rest = [field, field.replace(/^input\./, '')].find((f) => err.message.startsWith(`${f} `));
  const message = (rest ? err.message.slice(rest.length + 1) : err.message).replace(/\binput\.(\w+)/g, (_, f: string) => fieldName(f));
  return { status: 400, kind: err.code, message: `${name} (${where}): ${message}`, fields: [{ name, where, rule: 'service', message }] };
}

/** Sends `error` as `dialect` words it. */
export function sendRestError(reply: FastifyReply, dialect: ErrorDialect, error: RestError): FastifyReply {
  const { status, body, contentType } = dialect.answer(error, reply.request);
  if (contentType) reply.type(`${contentType}; charset=utf-8`);
  return reply.code(status ?? error.status).send(body);
}

/**
 * A REST API's error handler: a domain error gets its status and message; a request that does not match its schema
 * 400 naming the field; the HTTP layer's own refusals (a body that is not JSON, too large) their status; a database
 * out of reach 503 with Retry-After; anything else is logged and answered 500 without a word of it.
 */
export function restErrorHandler(logger: Logger, dialect: ErrorDialect) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const send = (error: RestError) => sendRestError(reply, dialect, error);
    if (err instanceof DomainError) {
      if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter));
      if (err.code === ErrorCode.INTERNAL) logger.error({ err }, 'unexpected REST error');
      return send(err.code === ErrorCode.BAD_USER_INPUT && err.field ? fieldError(err, request.method, dialect.fieldName ?? snakeCase) : { status: restStatus(err.code), kind: err.code, message: err.message });
    }
    if (hasZodFastifySchemaValidationErrors(err)) return send(validationError(err));
    if (err.statusCode && err.statusCode < 500) return send({ status: err.statusCode, kind: 'HTTP', message: err.message });
    if (isDatabaseUnavailable(err)) {
      logger.warn({ err }, 'the database is unavailable');
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      return send({ status: 503, kind: 'UNAVAILABLE', message: 'The database is unavailable; try again shortly' });
    }
    logger.error({ err }, 'unexpected REST error');
    return send({ status: 500, kind: ErrorCode.INTERNAL, message: 'Internal server error' });
  };
}
