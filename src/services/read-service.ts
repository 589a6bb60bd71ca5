import type { EntityClass } from '@mikro-orm/core';
import { isUuid } from '../entities/uuid.js';
import { badInput } from '../errors/domain-error.js';
import { keepVisible, scopeWhere } from '../policy/visibility.js';
import type { ServiceContext } from './context.js';
import type { OrderSpec } from './loaders.js';
import { paginate, type Page, type PageRequest } from './pagination.js';


export function assertUuid(value: string, field: string): string {
  if (!isUuid(value)) throw badInput(field, `${field} must be a UUID`);
  return value.toLowerCase();
}

/** Escapes LIKE wildcards so user input matches literally (Platz lets % and _ through). */
const escapeLike = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);
/** case-insensitive equality */
export const iEquals = (value: string) => ({ $ilike: escapeLike(value) });
/** case-insensitive substring */
export const iContains = (value: string) => ({ $ilike: `%${escapeLike(value)}%` });

/** A MikroORM filter object, built from filter arguments; checked by the query, not the compiler. */
export type Where = Record<string, unknown>;

export interface ReadSpec<T, F> {
  entity: EntityClass<T>;
  /** default order, most significant first; id is appended as the tie-breaker */
  order: OrderSpec<T>;
  /** the filter arguments as a query; fields left undefined do not filter */
  where(filter: F, ctx: ServiceContext): Where | Promise<Where>;
}

/**
 * Reads shared by every aggregate: by id (batched) and keyset-paginated lists.
 * Aggregate services extend it with their own rules and writes.
 */
export class ReadService<T extends { id: string }, F extends object> {
  constructor(protected readonly spec: ReadSpec<T, F>) {}

  /** null when missing or outside the caller's scope: the two look the same. */
  async findById(ctx: ServiceContext, id: string): Promise<T | null> {
    const grants = await ctx.grants();
    const row = await ctx.loaders.byId(this.spec.entity).load(assertUuid(id, 'id'));
    const [visible] = await keepVisible(ctx, grants, this.spec.entity, [row]);
    return visible;
  }

  /** Only rows inside the caller's scope, filtered in SQL so pages and counts agree with it. */
  async list(ctx: ServiceContext, filter: F | null | undefined, page: PageRequest): Promise<Page<T>> {
    const scope = scopeWhere(await ctx.grants(), this.spec.entity as EntityClass<unknown>);
    const where = await this.spec.where(filter ?? ({} as F), ctx);
    return paginate(ctx.em, this.spec.entity, scope ? { $and: [where, scope] } : where, this.spec.order, page);
  }
}

/** Drops undefined and null entries so optional filter fields do not constrain the query. */
export function compact(where: Where): Where {
  return Object.fromEntries(Object.entries(where).filter(([, v]) => v !== undefined && v !== null));
}

/** Validates an optional id filter. */
export const optionalUuid = (value: string | null | undefined, field: string) => (value ? assertUuid(value, field) : undefined);
