import { isUuid } from '../entities/uuid.js';
import { badInput } from '../errors/domain-error.js';

/** A MikroORM filter object, built from filter arguments; checked by the query, not the compiler. */
export type Where = Record<string, unknown>;

/** An id from the outside, checked before it reaches a query; lower-cased as the database stores it. */
export function assertUuid(value: string, field: string): string {
  if (!isUuid(value)) throw badInput(field, `${field} must be a UUID`);
  return value.toLowerCase();
}

/** Validates an optional id filter. */
export const optionalUuid = (value: string | null | undefined, field: string) => (value ? assertUuid(value, field) : undefined);

/** Escapes LIKE wildcards so user input matches literally (Platz lets % and _ through). */
const escapeLike = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);
/** case-insensitive equality */
export const iEquals = (value: string) => ({ $ilike: escapeLike(value) });
/** case-insensitive substring */
export const iContains = (value: string) => ({ $ilike: `%${escapeLike(value)}%` });

/** Drops undefined and null entries so optional filter fields do not constrain the query. */
export function compact(where: Where): Where {
  return Object.fromEntries(Object.entries(where).filter(([, v]) => v !== undefined && v !== null));
}
