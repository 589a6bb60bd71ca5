import type { EntityClass } from '@mikro-orm/core';
import { keepVisible, scopeWhere } from '../policy/visibility.js';
import type { ServiceContext } from '../request/context.js';
import type { OrderSpec } from '../request/loaders.js';
import { assertUuid, type Where } from '../request/where.js';
import { paginate, type Page, type PageRequest } from './pagination.js';
import { grantsOf } from '../policy/grants.js';


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
    const grants = await grantsOf(ctx);
    const row = await ctx.loaders.byId(this.spec.entity).load(assertUuid(id, 'id'));
    const [visible] = await keepVisible(ctx, grants, this.spec.entity, [row]);
    return visible;
  }

  /** Only rows inside the caller's scope, filtered in SQL so pages and counts agree with it. */
  async list(ctx: ServiceContext, filter: F | null | undefined, page: PageRequest): Promise<Page<T>> {
    const scope = scopeWhere(await grantsOf(ctx), this.spec.entity as EntityClass<unknown>);
    const where = await this.spec.where(filter ?? ({} as F), ctx);
    return paginate(ctx.em, this.spec.entity, scope ? { $and: [where, scope] } : where, this.spec.order, page);
  }
}
