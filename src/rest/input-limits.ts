import { checkJson, checkString, maxLength } from '../util/input-limits.js';
import { camelCase } from '../util/case.js';

/**
 * The input limits (src/util/input-limits.ts) on what a REST request carries, before its handler runs: every value as
 * a JSON input (no NUL or lone surrogate anywhere, bounded depth and size), and each string field of the body and
 * each query parameter at most as long as its name allows (`description_md` as GraphQL's `descriptionMd`). Strings
 * deeper inside free-form JSON (a deployment's config) are bounded by the document's size only, as in GraphQL.
 */
export function checkRestInput(value: unknown, where: string): void {
  if (value === undefined || value === null) return;
  checkJson(value, where);
  if (typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, field] of Object.entries(value)) {
    if (typeof field === 'string') checkString(field, key, maxLength(camelCase(key)));
  }
}

/**
 * A request's path parameters: each of characters PostgreSQL stores (a NUL would break the database protocol, not just
 * fail a lookup) and at most as long as its name allows. Named `params.<name>`, which the error handler words as a path
 * parameter.
 */
export function checkRestParams(params: unknown): void {
  if (!params || typeof params !== 'object') return;
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === 'string') checkString(value, `params.${key}`, maxLength(camelCase(key)));
  }
}
