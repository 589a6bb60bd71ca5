import DataLoader from 'dataloader';
import { wrap, type EntityClass, type MapOptions } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';

type WithId = { id: string };
export type OrderSpec<T> = readonly { field: keyof T & string; direction: 'ASC' | 'DESC' }[];

/**
 * Per-request batching: every relation read in one request goes through here, so a list of N
 * parents costs one SQL statement per relation, not N. Loaders are created on first use.
 */
export class Loaders {
  private readonly cache = new Map<string, DataLoader<string, unknown>>();

  constructor(private readonly em: SqlEntityManager) {}

  /**
   * Rows by primary key; null for a missing id. Rows this request already holds (the caller, a
   * parent loaded earlier) come from the identity map; the rest in one plain SELECT, which costs
   * about half the CPU of the ORM's query builder on this hot path.
   */
  byId<T extends WithId>(entity: EntityClass<T>): DataLoader<string, T | null> {
    return this.loader(`id:${entity.name}`, async (ids) => {
      const unitOfWork = this.em.getUnitOfWork();
      // a reference (an unloaded relation target) is in the identity map too, but has no data yet
      const held = (id: string) => {
        const row = unitOfWork.getById<T>(entity, id as never);
        return row && wrap(row).isInitialized() ? row : undefined;
      };
      const missing = ids.filter((id) => !held(id));
      if (missing.length) {
        const table = this.em.getMetadata().get(entity).tableName;
        const rows = await this.em
          .getConnection()
          .execute<Record<string, unknown>[]>(`select * from "${table}" where "id" in (${missing.map(() => '?').join(', ')})`, missing, 'all', this.em.getTransactionContext());
        for (const row of rows) this.hydrate(entity, row);
      }
      return ids.map((id) => held(id) ?? null);
    });
  }

  /**
   * Children by foreign key, ordered, at most `limit` per parent. One plain SELECT however many
   * parents there are; a window function applies the per-parent limit.
   */
  children<T extends WithId>(entity: EntityClass<T>, foreignKey: keyof T & string, order: OrderSpec<T>, limit?: number): DataLoader<string, T[]> {
    return this.loader(`children:${entity.name}:${foreignKey}:${limit ?? ''}`, async (parentIds) => {
      const byParent = new Map<string, T[]>();
      for (const row of await this.findChildren(entity, foreignKey, order, parentIds, limit)) {
        const parentId = (row[foreignKey] as WithId).id;
        const list = byParent.get(parentId) ?? [];
        list.push(row);
        byParent.set(parentId, list);
      }
      return parentIds.map((id) => byParent.get(id) ?? []);
    });
  }

  private async findChildren<T extends WithId>(entity: EntityClass<T>, foreignKey: string, order: OrderSpec<T>, parentIds: readonly string[], limit?: number) {
    const meta = this.em.getMetadata().get(entity);
    const properties = meta.properties as Record<string, { fieldNames: string[] }>;
    const column = (prop: string) => `"${properties[prop].fieldNames[0]}"`;
    const direction = order.at(-1)?.direction ?? 'ASC';
    // the primary key columns break ties, so the order is total
    const tieBreakers = (meta.primaryKeys as string[]).map((pk) => `${column(pk)} ${direction}`);
    const orderSql = [...order.map((o) => `${column(o.field)} ${o.direction}`), ...tieBreakers].join(', ');
    const fk = column(foreignKey);
    const inList = `${fk} in (${parentIds.map(() => '?').join(', ')})`;
    const sql =
      limit === undefined
        ? `select * from "${meta.tableName}" where ${inList} order by ${fk}, ${orderSql}`
        : `select * from (select *, row_number() over (partition by ${fk} order by ${orderSql}) as berth_rank ` +
          `from "${meta.tableName}" where ${inList}) ranked where berth_rank <= ? order by ${fk}, ${orderSql}`;
    // inside a transaction (the unit of work), on its connection: the embedded database has only one
    const rows = await this.em.getConnection().execute<Record<string, unknown>[]>(sql, limit === undefined ? [...parentIds] : [...parentIds, limit], 'all', this.em.getTransactionContext());
    return rows.map(({ berth_rank: _rank, ...row }) => this.hydrate(entity, row));
  }

  /**
   * A row as an entity of this request's unit of work. Rows are read-only snapshots here, so
   * relations are not cascaded and a row already held is kept as it is (both cost most of map()).
   */
  private hydrate<T extends object>(entity: EntityClass<T>, row: Record<string, unknown>): T {
    // map() passes these on to merge(); its typings list only the map-specific options
    return this.em.map(entity, row as never, { cascade: false, refresh: false } as MapOptions);
  }

  private loader<V>(key: string, batch: (keys: readonly string[]) => Promise<V[]>): DataLoader<string, V> {
    let loader = this.cache.get(key) as DataLoader<string, V> | undefined;
    if (!loader) {
      loader = new DataLoader<string, V>(batch, { maxBatchSize: 1000 });
      this.cache.set(key, loader as DataLoader<string, unknown>);
    }
    return loader;
  }
}
