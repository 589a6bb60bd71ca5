import { z } from 'zod';
import type { ErrorDialect } from '../errors.js';

/** Every error of Storj's admin API. */
export const StorjErrorBody = z
  .object({
    error: z.string().describe('what went wrong, in words'),
    detail: z.string().describe('more about it; empty when there is nothing to add'),
  })
  .describe('Every error: a JSON body with the error and a detail');

/**
 * Storj's errors: `{"error": ..., "detail": ""}` with Berth's status. A field at fault is named as the request names
 * it; Berth's words are in `error`, and `detail` stays empty (Storj's 500 puts the Go error there: Berth says nothing
 * of a failure). A credential is refused with 403, never 401.
 */
export const storjErrors: ErrorDialect = {
  schema: StorjErrorBody,
  answer: ({ message, fields: [field] = [] }) => ({ body: { error: field ? `${field.name}: ${field.message}` : message, detail: '' } }),
  documented: ({ 401: _unauthenticated, ...errors }) => ({ ...errors, 403: 'the Authorization header is not the admin token (BERTH_STORJ_ADMIN_TOKEN), or no token is configured' }),
};
