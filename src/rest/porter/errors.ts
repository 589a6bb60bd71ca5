import { z } from 'zod';
import { DomainError, ErrorCode } from '../../errors/domain-error.js';
import type { ErrorDialect, RestError } from '../errors.js';

/** Every JSON error of Porter's API: its own code (600, 601, 602, or the HTTP status) and the reasons, in words. */
export const PorterError = z
  .object({
    code: z.number().int().describe('600 the request could not be read, 601 a value was refused, 602 not found; otherwise the HTTP status'),
    errors: z.array(z.string()).describe('what went wrong, one entry per refused field'),
  })
  .describe('Every error but the 403, which is the plain text `Forbidden`');

/** The rules a field's schema words its refusals with (src/rest/porter/schemas.ts), as Porter's validator names them. */
const VALIDATION_TAGS = ['required', 'email', 'max', 'min'] as const;
const isTag = (message: string) => (VALIDATION_TAGS as readonly string[]).includes(message);

const DECODE = 'could not process request';
const porter = (status: number, code: number, ...errors: string[]) => ({ status, body: { code, errors } });
/** A refused value: Porter's 601, one `"<tag> validation failed"` per field. */
const refused = (...errors: string[]) => porter(422, 601, ...errors);

/**
 * Porter's validator names the rule each field broke (a field's schema stops at its first, src/rest/porter/schemas.ts);
 * a value of the wrong type is a body that could not be decoded (Go's JSON decoder fails before any rule runs), as is
 * a path parameter that is not a number.
 */
function validation(error: RestError) {
  const fields = error.fields ?? [];
  if (!fields.length || fields.some((field) => field.where !== 'body' || !isTag(field.message))) return porter(400, 600, DECODE, error.message);
  return refused(...fields.map((field) => `${field.message} validation failed`));
}

/**
 * Porter's errors (`server/api/errors.go`): `{"code", "errors"}`; no session, or an id that is not the caller's, the
 * plain text `Forbidden` with 403, as its middleware wrote it.
 */
export const porterErrors: ErrorDialect = {
  schema: PorterError,
  answer(error) {
    switch (error.kind) {
      case ErrorCode.UNAUTHENTICATED:
      case ErrorCode.FORBIDDEN:
        return { status: 403, body: 'Forbidden\n', contentType: 'text/plain' };
      case 'VALIDATION':
        return validation(error);
      case ErrorCode.BAD_USER_INPUT:
      case ErrorCode.CONFLICT:
        return refused(error.message);
      case ErrorCode.NOT_FOUND:
      case 'NO_ROUTE':
        return porter(404, 602, 'could not find requested object');
      // Berth's first statement of every request reads (the session, the user, the email's owner): Porter's ErrorDataRead
      case 'UNAVAILABLE':
        return porter(500, 500, 'could not read from database');
      case ErrorCode.INTERNAL:
        return porter(500, 500, 'internal server error');
      case 'HTTP':
        // a body that is not JSON, or not sent as JSON
        if (error.status === 400 || error.status === 415) return porter(400, 600, DECODE, error.message);
        break;
    }
    // what Porter had no answer for (a throttled login's 429, a body over 1 MiB's 413, a login's 401): its status, as the code
    return porter(error.status, error.status, error.message);
  },
  // Porter's bodies name their fields as Berth's services do (`rawKubeConfig`, `password`)
  fieldName: (field) => field,
  documented(errors) {
    const answers: Record<number, string> = {};
    if (errors[400]) answers[400] = `600 "${DECODE}": a body that is not JSON or has a value of the wrong type, an id that is not a number`;
    if (errors[401]) answers[403] = 'the plain text `Forbidden` (not JSON): no session, one that ended, or an id that is not the caller\'s';
    answers[500] = 'code 500: "could not read from database" (the database out of reach), or "internal server error"';
    return answers;
  },
};

/**
 * A login's refusal, as Porter answers it (401 with the reason in its error shape), not the 403 of a request without a
 * session: the REST layer answers an error with a status of its own as it is.
 */
export function loginRefused(err: unknown): never {
  if (err instanceof DomainError && err.code === ErrorCode.UNAUTHENTICATED) throw Object.assign(new Error(err.message), { statusCode: 401 });
  throw err;
}
