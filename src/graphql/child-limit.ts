import { badInput } from '../errors/domain-error.js';
import { MAX_PAGE_SIZE } from '../services/pagination.js';

/** Validates a nested list's `first` argument (per parent). */
export function childLimit(first: number | null | undefined): number | undefined {
  if (first === null || first === undefined) return undefined;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) throw badInput('first', `first must be between 0 and ${MAX_PAGE_SIZE}`);
  return first;
}
