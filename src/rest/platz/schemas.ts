import { z } from 'zod';
import { MAX_PAGE_SIZE, numberedPaging, DEFAULT_PAGE_SIZE } from '../../services/pagination.js';
import type { ReadService } from '../../services/read-service.js';
import type { RequestContext } from '../../services/index.js';
import { schemaRegistry } from '../api.js';

/** The schemas Platz's document names, under Platz's names. */
export const platzSchemas = schemaRegistry();

/** Platz's ids are UUIDs. */
export const Uuid = z.guid();

/** A JSON object of any contents (a deployment's config, a toleration). */
export const JsonObject = z.record(z.string(), z.unknown());

/** A row's id in the path. */
export const IdParams = z.object({ id: Uuid.describe('the id of the row') });

/** RFC 3339, UTC, as Platz writes timestamps. */
export const Timestamp = z.iso.datetime();

/** A boolean query parameter, spelled as Platz's clients spell it. */
export const QueryBoolean = z.enum(['true', 'false']).transform((value) => value === 'true');

/** `page` and `per_page`, as Platz's lists take them; `per_page` is capped (Platz's is not). */
export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1).describe('from 1'),
  per_page: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).describe(`rows per page, at most ${MAX_PAGE_SIZE}`),
});

/** Platz's list envelope: the page asked for, and how many rows the whole list has. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ page: z.number().int(), per_page: z.number().int(), items: z.array(item), num_total: z.number().int().describe('rows in the whole list, past the last page too') });

/**
 * One page of a list as a Platz client asks for it: the service's rows for this caller and filter, in its order, each
 * mapped to its JSON.
 */
export async function readPage<T extends { id: string }, F extends object, J>(
  ctx: RequestContext,
  service: ReadService<T, F>,
  filter: F,
  query: z.output<typeof PageQuery>,
  toJson: (row: T) => J,
): Promise<{ page: number; per_page: number; items: J[]; num_total: number }> {
  const scoped = await service.query(ctx, filter);
  const page = await numberedPaging<T>({ page: query.page, perPage: query.per_page }).read(ctx, scoped);
  return { page: page.page, per_page: page.perPage, items: page.items.map(toJson), num_total: page.total };
}

/** A row's id and creation time, as every Platz row has them. */
export const rowJson = (row: { id: string; createdAt: Date }) => ({ id: row.id, created_at: row.createdAt.toISOString() });
