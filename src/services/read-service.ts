import type { EntityClass, FilterQuery, OrderDefinition } from '@mikro-orm/core';
import { grantsOf } from '../policy/grants.js';
import { scopeWhere } from '../policy/visibility.js';
import type { ServiceContext } from '../request/context.js';
import type { OrderSpec } from '../request/loaders.js';
import { assertUuid, type Where } from '../request/where.js';
import type { ScopedQuery } from './pagination.js';
import { ALL_COLUMNS, projectedColumns, type Projection } from './relations.js';

export interface ReadSpec<T, F> {
  entity: EntityClass<T>;
  /** default order, most significant first; id is appended as the tie-breaker */
  order: OrderSpec<T>;
  /** the filter arguments as a query; fields left undefined do not filter. Input errors name the filter's own fields. */
  where(filter: F, ctx: ServiceContext): Where | Promise<Where>;
}

/**
 * Reads shared by every aggregate, for every adapter: by id (batched) and lists, as rows (src/request/rows.ts)
 * inside the caller's scope, applied in SQL. Aggregate services extend it with their own rules and writes.
 */
export class ReadService<T extends { id: string }, F extends object> {
  constructor(protected readonly spec: ReadSpec<T, F>) {}

  /** null when missing or outside the caller's scope: the two look the same. `projection` narrows the row to what the adapter shows. */
  async findById(ctx: ServiceContext, id: string, projection: Projection = ALL_COLUMNS): Promise<T | null> {
    const entity = this.spec.entity as EntityClass<unknown>;
    const scope = scopeWhere(await grantsOf(ctx), entity);
    return ctx.loaders.rowById(this.spec.entity, scope, projectedColumns(ctx, entity, projection)).load(assertUuid(id, 'id'));
  }

  /**
   * The rows a list shows this caller: its scope and the filter, in the default order. An adapter pages it with its
   * own strategy (`relayPaging`, src/services/pagination.ts) and places a BAD_USER_INPUT's filter field in its request.
   */
  async query(ctx: ServiceContext, filter: F | null | undefined): Promise<ScopedQuery<T>> {
    const scope = scopeWhere(await grantsOf(ctx), this.spec.entity as EntityClass<unknown>);
    const where = await this.spec.where(filter ?? ({} as F), ctx);
    return { entity: this.spec.entity, where: scope ? { $and: [where, scope] } : where, order: this.spec.order };
  }

  /** Every row of the list at once, in its order, for an API whose lists have no pages (Lighthouse's). */
  async all(ctx: ServiceContext, filter: F | null | undefined): Promise<T[]> {
    const { where, order } = await this.query(ctx, filter);
    const orderBy = [...order.map(({ field, direction }) => ({ [field]: direction })), { id: 'ASC' }] as OrderDefinition<T>;
    return ctx.em.find(this.spec.entity, where as FilterQuery<T>, { orderBy });
  }
}
