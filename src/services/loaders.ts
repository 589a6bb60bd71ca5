import DataLoader from 'dataloader';
import type { EntityClass, FilterQuery } from '@mikro-orm/core';
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

  /** Rows by primary key; null for a missing id. */
  byId<T extends WithId>(entity: EntityClass<T>): DataLoader<string, T | null> {
    return this.loader(`id:${entity.name}`, async (ids) => {
      const rows = await this.em.find(entity, { id: { $in: [...ids] } } as unknown as FilterQuery<T>);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  /**
   * Children by foreign key, ordered, at most `limit` per parent (a window function keeps this
   * one statement however many parents there are).
   */
  children<T extends WithId>(entity: EntityClass<T>, foreignKey: keyof T & string, order: OrderSpec<T>, limit?: number): DataLoader<string, T[]> {
    return this.loader(`children:${entity.name}:${foreignKey}:${limit ?? ''}`, async (parentIds) => {
      const rows = limit === undefined ? await this.findChildren(entity, foreignKey, order, parentIds) : await this.findTopChildren(entity, foreignKey, order, parentIds, limit);
      const byParent = new Map<string, T[]>();
      for (const row of rows) {
        const parentId = (row[foreignKey] as WithId).id;
        const list = byParent.get(parentId) ?? [];
        list.push(row);
        byParent.set(parentId, list);
      }
      return parentIds.map((id) => byParent.get(id) ?? []);
    });
  }

  /** the primary key columns break ties, so the order is total */
  private tieBreakers(entity: EntityClass<unknown>): string[] {
    return this.em.getMetadata().get(entity).primaryKeys as string[];
  }

  private findChildren<T extends WithId>(entity: EntityClass<T>, foreignKey: string, order: OrderSpec<T>, parentIds: readonly string[]) {
    const direction = order.at(-1)?.direction ?? 'ASC';
    const orderBy = [...order.map((o) => ({ [o.field]: o.direction })), ...this.tieBreakers(entity).map((pk) => ({ [pk]: direction }))];
    return this.em.find(entity, { [foreignKey]: { $in: [...parentIds] } } as FilterQuery<T>, { orderBy: orderBy as never });
  }

  private async findTopChildren<T extends WithId>(entity: EntityClass<T>, foreignKey: string, order: OrderSpec<T>, parentIds: readonly string[], limit: number) {
    const meta = this.em.getMetadata().get(entity);
    const properties = meta.properties as Record<string, { fieldNames: string[] }>;
    const column = (prop: string) => `"${properties[prop].fieldNames[0]}"`;
    const direction = order.at(-1)?.direction ?? 'ASC';
    const orderSql = [...order.map((o) => `${column(o.field)} ${o.direction}`), ...this.tieBreakers(entity).map((pk) => `${column(pk)} ${direction}`)].join(', ');
    const fk = column(foreignKey);
    const sql =
      `select * from (select t.*, row_number() over (partition by t.${fk} order by ${orderSql}) as berth_rank ` +
      `from "${meta.tableName}" t where t.${fk} in (${parentIds.map(() => '?').join(', ')})) ranked ` +
      `where berth_rank <= ? order by ${fk}, ${orderSql}`;
    const rows = await this.em.getConnection().execute<Record<string, unknown>[]>(sql, [...parentIds, limit]);
    return rows.map(({ berth_rank: _rank, ...row }) => this.em.map(entity, row as never));
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
