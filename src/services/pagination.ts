import { raw, type EntityClass, type FilterQuery } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { isUuid } from '../entities/uuid.js';
import { badInput } from '../errors/domain-error.js';
import type { ServiceContext } from '../request/context.js';
import type { OrderSpec } from '../request/loaders.js';
import { readRows } from '../db/read-sql.js';
import { columnOf } from '../request/rows.js';
import { ALL_COLUMNS, projectedSelect, type Projection } from './relations.js';
import type { Where } from '../request/where.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export interface PageRequest {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface Page<T> {
  edges: { node: T; cursor: string }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  /** counted only when asked for */
  totalCount: () => Promise<number>;
}

type CursorValue = string | number | boolean | null | { $date: string };

const encodeCursor = (values: unknown[]) =>
  Buffer.from(JSON.stringify(values.map((v) => (v instanceof Date ? { $date: v.toISOString() } : v)))).toString('base64url');

/** What each cursor value must be, from the key column's type: a forged cursor is refused here instead of failing in SQL. */
type CursorKind = 'date' | 'uuid' | 'string' | 'number' | 'boolean';

function cursorKinds(em: SqlEntityManager, entity: EntityClass<unknown>, fields: string[]): CursorKind[] {
  const properties = em.getMetadata().get(entity).properties as Record<string, { runtimeType?: string; type?: string; columnTypes?: string[] }>;
  return fields.map((field) => {
    const prop = properties[field];
    if (prop.runtimeType === 'Date') return 'date';
    if (prop.columnTypes?.[0] === 'uuid' || prop.type?.toLowerCase() === 'uuid') return 'uuid';
    if (prop.runtimeType === 'number' || prop.runtimeType === 'boolean') return prop.runtimeType;
    return 'string';
  });
}

function decodeCursor(cursor: string, arg: string, kinds: CursorKind[]): unknown[] {
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorValue[];
    if (!Array.isArray(values) || values.length !== kinds.length) throw new Error('width');
    return values.map((v, i) => {
      switch (kinds[i]) {
        case 'date': {
          if (!v || typeof v !== 'object' || typeof v.$date !== 'string') throw new Error('date');
          const date = new Date(v.$date);
          // PostgreSQL timestamps start in 4713 BC (year -4712); JavaScript dates reach further back
          if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < -4712) throw new Error('date');
          return date;
        }
        case 'uuid':
          if (!isUuid(v)) throw new Error('uuid');
          return v;
        default:
          // key columns are NOT NULL, so null never comes from a real row
          if (typeof v !== kinds[i]) throw new Error(kinds[i]);
          return v;
      }
    });
  } catch {
    throw badInput(arg, `${arg} is not a cursor returned by this list`);
  }
}

function pageSize(value: number | null | undefined, arg: string): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE) throw badInput(arg, `${arg} must be between 0 and ${MAX_PAGE_SIZE}`);
  return value;
}

/**
 * Keyset condition "row comes after cursor" for a multi-column order: (a > x) or (a = x and b > y) …
 * The id is always the last key, so the order is total and pages never overlap.
 */
function afterCondition(keys: { field: string; direction: 'ASC' | 'DESC' }[], values: unknown[]): Record<string, unknown> {
  const alternatives = keys.map((key, i) => {
    const cond: Record<string, unknown> = {};
    for (let j = 0; j < i; j++) cond[keys[j].field] = values[j];
    cond[key.field] = { [key.direction === 'ASC' ? '$gt' : '$lt']: values[i] };
    return cond;
  });
  return { $or: alternatives };
}

/** What a read service hands a paging strategy: the rows a list may show (scope and filter) and their order. */
export interface ScopedQuery<T> {
  entity: EntityClass<T>;
  where: Where;
  order: OrderSpec<T>;
  /** what the rows hold and which to-one relations come with them (the adapter knows what its response shows); every column by default */
  projection?: Projection;
}

/** How an adapter cuts a list into pages: Relay cursors for GraphQL; page numbers and a count for REST. */
export interface Paging<T, P> {
  read(ctx: ServiceContext, query: ScopedQuery<T>): Promise<P>;
}

/** One column of a list's order. */
type OrderKey = { field: string; direction: 'ASC' | 'DESC' };

/** Relay cursors; errors name the arguments first, after, last and before. */
export const relayPaging = <T extends { id: string }>(request: PageRequest): Paging<T, Page<T>> => ({
  read: (ctx, query) => paginate(ctx, query, request),
});

export interface NumberedPageRequest {
  /** from 1 */
  page: number;
  /** 0 to MAX_PAGE_SIZE */
  perPage: number;
}

/** A page by number, and how many rows the whole list has (past the last page too). */
export interface NumberedPage<T> {
  page: number;
  perPage: number;
  items: T[];
  total: number;
}

/** Page numbers and a page size (REST's lists): the list's order, then id, cut by offset; errors name page and perPage. */
export const numberedPaging = <T extends { id: string }>(request: NumberedPageRequest): Paging<T, NumberedPage<T>> => ({
  async read(ctx, query) {
    const { page } = request;
    if (!Number.isInteger(page) || page < 1) throw badInput('page', 'page must be a whole number from 1');
    const perPage = pageSize(request.perPage, 'perPage')!;
    const { entity, where, order } = query;
    const keys: OrderKey[] = [...order, { field: 'id', direction: order.at(-1)?.direction ?? 'ASC' }];
    const items = await selectRows(ctx, query, where, keys, { limit: perPage, offset: (page - 1) * perPage });
    return { page, perPage, items, total: await ctx.em.count(entity, where as FilterQuery<T>) };
  },
});

/**
 * One page of `query`'s rows matching `where`, in the order of `keys`, with what its projection reads: the rows'
 * columns and their to-one relations in the same statement (src/services/relations.ts).
 */
async function selectRows<T extends object>(ctx: ServiceContext, query: ScopedQuery<T>, where: unknown, keys: OrderKey[], cut: { limit: number; offset?: number }): Promise<T[]> {
  const em = ctx.loaders.reader;
  const entity = query.entity as EntityClass<unknown>;
  const projected = await projectedSelect(ctx, entity, query.projection ?? ALL_COLUMNS, keys.map((k) => k.field));
  const qb = em
    .createQueryBuilder(entity, 'e')
    .select(projected.columns.map((c) => raw(`e.${c}`)) as never)
    .where(where as never)
    .orderBy(keys.map((k) => ({ [k.field]: k.direction })) as never)
    .limit(cut.limit);
  if (cut.offset) qb.offset(cut.offset);
  const page = qb.toQuery();
  // one statement: the page, then its relations over the page's rows only
  const sql = projected.relations
    ? `with p as (${page.sql}) select p.*, ${projected.relations} from p order by ${keys.map((k) => `p.${columnOf(em, entity, k.field)} ${k.direction}`).join(', ')}`
    : page.sql;
  return projected.rows(await readRows(em, sql, [...page.params, ...projected.params])) as T[];
}

/** Relay-style keyset pagination over any entity with a stable order (first/after or last/before), as rows. */
async function paginate<T extends { id: string }>(ctx: ServiceContext, query: ScopedQuery<T>, request: PageRequest): Promise<Page<T>> {
  const em = ctx.loaders.reader;
  const { entity, where, order } = query;
  const first = pageSize(request.first, 'first');
  const last = pageSize(request.last, 'last');
  if (first !== undefined && last !== undefined) throw badInput('last', 'Pass either first or last, not both');
  const backwards = last !== undefined || (first === undefined && !!request.before && !request.after);
  const size = (backwards ? last : first) ?? DEFAULT_PAGE_SIZE;

  const keys = [...order, { field: 'id' as const, direction: order.at(-1)?.direction ?? ('ASC' as const) }];
  const scanKeys = backwards ? keys.map((k) => ({ field: k.field, direction: k.direction === 'ASC' ? ('DESC' as const) : ('ASC' as const) })) : keys;
  const kinds = cursorKinds(em, entity, keys.map((k) => k.field));
  const conditions: unknown[] = [where];
  if (request.after) conditions.push(afterCondition(keys, decodeCursor(request.after, 'after', kinds)));
  if (request.before) {
    const reversed = keys.map((k) => ({ field: k.field, direction: k.direction === 'ASC' ? ('DESC' as const) : ('ASC' as const) }));
    conditions.push(afterCondition(reversed, decodeCursor(request.before, 'before', kinds)));
  }

  const rows = await selectRows(ctx, query, { $and: conditions }, scanKeys, { limit: size + 1 });
  const hasMore = rows.length > size;
  const nodes = rows.slice(0, size);
  if (backwards) nodes.reverse();
  const cursorOf = (node: T) => encodeCursor(keys.map((k) => (node as Record<string, unknown>)[k.field]));
  // encoded only when asked for: most lists show nodes and pageInfo, not each edge's cursor
  const edges = nodes.map((node) => ({
    node,
    get cursor() {
      return cursorOf(node);
    },
  }));
  return {
    edges,
    pageInfo: {
      hasNextPage: backwards ? !!request.before : hasMore,
      hasPreviousPage: backwards ? hasMore : !!request.after,
      startCursor: nodes.length ? cursorOf(nodes[0]) : null,
      endCursor: nodes.length ? cursorOf(nodes.at(-1)!) : null,
    },
    totalCount: () => em.count(entity, where as FilterQuery<T>),
  };
}
