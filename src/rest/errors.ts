import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../db/availability.js';
import { assertUnreachable, DomainError, ErrorCode } from '../errors/domain-error.js';
import type { Logger } from '../logging/logger.js';
import { snakeCase } from '../util/case.js';

/** Every error a REST API answers: one message, in words. */
export const ErrorBody = z.object({ message: z.string().describe('what went wrong, in words') }).meta({ id: 'Error', description: 'Every error: a JSON body with a message' });

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
function validationMessage(err: FastifyError): string {
  const issue = err.validation![0];
  const field = issue.instancePath.split('/').filter(Boolean).join('.');
  const where = err.validationContext === 'body' ? 'body' : err.validationContext === 'querystring' ? 'query parameter' : 'path parameter';
  return field ? `${field} (${where}): ${issue.message}` : `${where}: ${issue.message}`;
}

/**
 * A service's refusal of one input field, in the REST request's words: services name fields as their own input calls
 * them (`input.ingressDomain`), a REST client knows them by the request's (`ingress_domain`, in the body).
 */
function fieldMessage(err: DomainError, method: string): string {
  const field = err.field!;
  const name = snakeCase(field.replace(/^input\./, ''));
  const where = method === 'GET' ? 'query parameter' : 'body';
  // "ingressDomain must be …" is "ingress_domain (body): must be …"; another message is kept after the field
  const rest = [field, field.replace(/^input\./, '')].find((f) => err.message.startsWith(`${f} `));
  const message = (rest ? err.message.slice(rest.length + 1) : err.message).replace(/\binput\.(\w+)/g, (_, f: string) => snakeCase(f));
  return `${name} (${where}): ${message}`;
}

/**
 * A REST API's error handler: a domain error gets its status and message; a request that does not match its schema
 * 400 naming the field; the HTTP layer's own refusals (a body that is not JSON, too large) their status; a database
 * out of reach 503 with Retry-After; anything else is logged and answered 500 without a word of it.
 */
export function restErrorHandler(logger: Logger) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (err instanceof DomainError) {
      if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter));
      if (err.code === ErrorCode.INTERNAL) logger.error({ err }, 'unexpected REST error');
      const message = err.code === ErrorCode.BAD_USER_INPUT && err.field ? fieldMessage(err, request.method) : err.message;
      return reply.code(restStatus(err.code)).send({ message });
    }
    if (hasZodFastifySchemaValidationErrors(err)) return reply.code(400).send({ message: validationMessage(err) });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ message: err.message });
    if (isDatabaseUnavailable(err)) {
      logger.warn({ err }, 'the database is unavailable');
      return reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).send({ message: 'The database is unavailable; try again shortly' });
    }
    logger.error({ err }, 'unexpected REST error');
    return reply.code(500).send({ message: 'Internal server error' });
  };
}
