import { z } from 'zod';
import { notFound } from '../../errors/domain-error.js';
import type { AliasedKind } from '../../services/numeric-alias.service.js';
import type { RequestContext } from '../../services/index.js';
import { schemaRegistry } from '../api.js';
import type { ErrorDialect } from '../errors.js';

/**
 * Every error as Django REST framework writes it: `{"detail": ...}`, or a field's errors as `{"<field>": [...]}`
 * (`non_field_errors` for the request as a whole).
 */
export const KubportalError = z
  .object({ detail: z.string().optional().describe('what went wrong, in words') })
  .catchall(z.array(z.string()).describe("a field's errors"))
  .describe('DRF\'s errors: `{"detail": "..."}`, or `{"<field>": ["..."]}` for a refused field (`non_field_errors`: the request as a whole)');

/** Berth's names of the fields a service refuses, as Kubportal's clients know them. */
const FIELD_NAMES: Record<string, string> = { email: 'primary_email', username_or_email: 'username' };

/**
 * Kubportal's errors. A path that does not match its route's schema (an id that is not a number, as Django's URL
 * patterns) is a 404, as Kubportal answers it.
 */
export const kubportalErrors: ErrorDialect = {
  schema: KubportalError,
  answer({ kind, message, fields: [field] = [] }) {
    if (field?.where === 'path parameter') return { status: 404, body: { detail: 'Not found.' } };
    if (field) return { body: { [FIELD_NAMES[field.name] ?? (field.name || 'non_field_errors')]: [field.message] } };
    if (kind === 'BAD_USER_INPUT') return { body: { non_field_errors: [message] } };
    return { body: { detail: message } };
  },
};

export const kubportalSchemas = schemaRegistry(KubportalError);

/** Kubportal's ids are integers: a number per Berth object (src/services/numeric-alias.service.ts). */
const Id = z.coerce.number().int().min(1);
export const IdParams = (what: string) => z.object({ id: Id.describe(`the ID of the ${what}`) });

/** The Berth id a number stands for, or null when it stands for none. */
export const idOf = (ctx: RequestContext, kind: AliasedKind, number: number): Promise<string | null> => ctx.services.numericAliases.idOf(ctx, kind, number);

/** The Berth id a number stands for; NOT_FOUND naming `what` when it stands for none. */
export async function knownIdOf(ctx: RequestContext, kind: AliasedKind, number: number, what: string): Promise<string> {
  const id = await idOf(ctx, kind, number);
  if (id === null) throw notFound(what);
  return id;
}
