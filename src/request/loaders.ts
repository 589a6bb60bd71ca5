import DataLoader from 'dataloader';
import { raw, wrap, type EntityClass, type MapOptions } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { readRows, readRowsById } from '../db/read-sql.js';
import { LazyFork } from './lazy-fork.js';
import { columnOf, orderSql, rowMapper } from './rows.js';

type WithId = { id: string };
export type OrderSpec<T> = readonly { field: keyof T & string; direction: 'ASC' | 'DESC' }[];

/** Which rows a read may return, as a query on the entity (a visibility rule's `where`); null for every row. */
export type Scope = object | null;

/** rowById's statements by scope (scopes are memoized with the caller's grants) and entity and columns */
const byIdStatements = new WeakMap<object, Map<string, { sql: string; params: readonly unknown[] }>>();
const unscopedByIdStatements = new Map<string, { sql: string; params: readonly unknown[] }>();

/**
 * Per-request batching: every relation read in one request goes through here, so a list of N
 * parents costs one SQL statement per relation, not N. Loaders are created on first use.
 *
 * Two families: `rowById` and `childRows` read rows (src/request/rows.ts) inside a scope applied in
 * SQL, for the read path; `byId` and `children` load entities of the request's unit of work, for writes.
 */
export class Loaders {
  private readonly cache = new Map<string, DataLoader<string, unknown>>();
  /** scopes are built once per request and entity (src/policy/visibility.ts), so their identity names them */
  private readonly scopeIds = new WeakMap<object, number>();
  private scopeCount = 0;

  /** an entity manager of its own is both the unit of work and the reader */
  private readonly unit: Pick<LazyFork, 'em' | 'reader'>;

  /** `unit`: the unit of work, or (a request's) one forked when an entity is first loaded */
  constructor(unit: SqlEntityManager | LazyFork) {
    this.unit = unit instanceof LazyFork ? unit : { em: unit, reader: unit };
  }

  /** the unit of work, for entities (`byId`, `children`) */
  private get em(): SqlEntityManager {
    return this.unit.em;
  }

  /**
   * What reads rows and metadata without needing a unit of work of its own: the unit of work once there is one (in
   * its transaction, if it has one), else (a request's lazy fork) an entity manager shared by every request.
   */
  get reader(): SqlEntityManager {
    return this.unit.reader;
  }

  /**
   * Rows by primary key inside `scope`; null for an id that is missing or out of scope (the two look the same).
   * `columns` (always with the id) narrows what the rows hold: such a loader is its own, so a narrow row never
   * answers a read that needs another column.
   */
  rowById<T extends WithId>(entity: EntityClass<T>, scope: Scope, columns?: readonly string[]): DataLoader<string, T | null> {
    return this.loader(`row:${entity.name}:${this.scopeId(scope)}:${columns?.join(',') ?? '*'}`, async (ids) => {
      const { sql, params } = this.byIdStatement(entity, scope, columns);
      const rows = await readRowsById(this.reader, sql, params, ids);
      const map = rowMapper(this.reader, entity);
      return ids.map((id) => {
        const row = rows.get(id);
        return row ? map(row) : null;
      });
    });
  }

  /** The statement of `rowById`, its ids the last parameter; built once per scope (a caller's grants) and columns. */
  private byIdStatement(entity: EntityClass<unknown>, scope: Scope, columns?: readonly string[]): { sql: string; params: readonly unknown[] } {
    const key = `${entity.name}:${columns?.join(',') ?? '*'}`;
    const memo = scope ? (byIdStatements.get(scope) ?? byIdStatements.set(scope, new Map()).get(scope)!) : unscopedByIdStatements;
    let statement = memo.get(key);
    if (!statement) {
      const meta = this.reader.getMetadata().get(entity);
      const idType = (meta.properties as Record<string, { columnTypes: string[] }>).id.columnTypes[0];
      const list = columns ? columns.map((c) => `"${c}"`).join(', ') : '*';
      if (!scope) statement = { sql: `select ${list} from "${meta.tableName}" where "id" = any(?::${idType}[])`, params: [] };
      else {
        // the scope may join (a deployment's env is its cluster's); PostgreSQL folds the outer filter into it
        const { sql, params } = this.scopedQuery(entity, scope, columns);
        statement = { sql: `select * from (${sql}) as "scoped" where "scoped"."id" = any(?::${idType}[])`, params };
      }
      memo.set(key, statement);
    }
    return statement;
  }

  /** Child rows by foreign key inside `scope`, ordered, at most `limit` per parent: one statement for every parent. */
  childRows<T extends WithId>(entity: EntityClass<T>, foreignKey: keyof T & string, order: OrderSpec<T>, scope: Scope, limit?: number): DataLoader<string, T[]> {
    return this.loader(`rows:${entity.name}:${foreignKey}:${limit ?? ''}:${this.scopeId(scope)}`, async (parentIds) => {
      const map = rowMapper(this.reader, entity);
      const fkColumn = (this.reader.getMetadata().get(entity).properties as Record<string, { fieldNames: string[] }>)[foreignKey].fieldNames[0];
      const byParent = new Map<string, T[]>();
      for (const row of await this.childRowsOf(entity, foreignKey, order, parentIds, scope, limit)) {
        const parentId = row[fkColumn] as string;
        const list = byParent.get(parentId) ?? [];
        list.push(map(row));
        byParent.set(parentId, list);
      }
      return parentIds.map((id) => byParent.get(id) ?? []);
    });
  }

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
        const table = this.reader.getMetadata().get(entity).tableName;
        const rows = await this.execute(`select * from "${table}" where "id" in (${missing.map(() => '?').join(', ')})`, missing);
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

  private async childRowsOf<T extends WithId>(entity: EntityClass<T>, foreignKey: string, order: OrderSpec<T>, parentIds: readonly string[], scope: Scope, limit?: number) {
    const { fk, orderSql } = this.ordering(entity, foreignKey, order);
    if (!scope) return this.selectChildren(entity, foreignKey, order, parentIds, limit);
    // the scope may join (a deployment's env is its cluster's): columns are qualified by the entity's alias
    const qualified = (sql: string) => sql.replace(/"(\w+)"/g, 'e."$1"');
    const where = { $and: [{ [foreignKey]: { $in: [...parentIds] } }, scope] };
    if (limit === undefined) return this.scoped(entity, where, ` order by ${qualified(`${fk}, ${orderSql}`)}`);
    const rank = `row_number() over (partition by ${qualified(fk)} order by ${qualified(orderSql)}) as berth_rank`;
    const rows = await this.scoped(entity, where, '', undefined, rank, (sql) => `select * from (${sql}) ranked where berth_rank <= ? order by ${fk}, ${orderSql}`, [limit]);
    return rows.map(({ berth_rank: _rank, ...row }) => row);
  }

  /** One statement for rows of `entity` matching `where` (every column, or `columns`), which the query builder renders (a scope may join). */
  private async scoped(entity: EntityClass<unknown>, where: object, suffix: string, columns?: readonly string[], extraColumn?: string, around: (sql: string) => string = (sql) => sql, extraParams: unknown[] = []): Promise<Record<string, unknown>[]> {
    const { sql, params } = this.scopedQuery(entity, where, columns, extraColumn);
    return this.execute(around(sql + suffix), [...params, ...extraParams]);
  }

  /** The query builder's rendering of `entity`'s rows (aliased `e`) matching `where`: every column, or `columns`, and `extraColumn`. */
  private scopedQuery(entity: EntityClass<unknown>, where: object, columns?: readonly string[], extraColumn?: string): { sql: string; params: readonly unknown[] } {
    const selected = columns ? columns.map((c) => raw(`e."${c}"`)) : ['e.*'];
    return this.reader.createQueryBuilder(entity, 'e').select((extraColumn ? [...selected, raw(extraColumn)] : selected) as never).where(where as never).toQuery();
  }

  private ordering(entity: EntityClass<unknown>, foreignKey: string, order: readonly { field: string; direction: 'ASC' | 'DESC' }[]) {
    const meta = this.reader.getMetadata().get(entity);
    return { fk: columnOf(this.reader, entity, foreignKey), orderSql: orderSql(meta, order), tableName: meta.tableName };
  }

  /** Inside a transaction (the unit of work), on its connection (the embedded database has only one); else prepared (src/db/read-sql.ts). */
  private execute(sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
    return readRows(this.reader, sql, params);
  }

  private scopeId(scope: Scope): number {
    if (!scope) return 0;
    let id = this.scopeIds.get(scope);
    if (id === undefined) this.scopeIds.set(scope, (id = ++this.scopeCount));
    return id;
  }

  private async findChildren<T extends WithId>(entity: EntityClass<T>, foreignKey: string, order: OrderSpec<T>, parentIds: readonly string[], limit?: number) {
    return (await this.selectChildren(entity, foreignKey, order, parentIds, limit)).map((row) => this.hydrate(entity, row));
  }

  private async selectChildren<T extends WithId>(entity: EntityClass<T>, foreignKey: string, order: OrderSpec<T>, parentIds: readonly string[], limit?: number) {
    const { fk, orderSql, tableName } = this.ordering(entity, foreignKey, order);
    const inList = `${fk} in (${parentIds.map(() => '?').join(', ')})`;
    const sql =
      limit === undefined
        ? `select * from "${tableName}" where ${inList} order by ${fk}, ${orderSql}`
        : `select * from (select *, row_number() over (partition by ${fk} order by ${orderSql}) as berth_rank ` +
          `from "${tableName}" where ${inList}) ranked where berth_rank <= ? order by ${fk}, ${orderSql}`;
    const rows = await this.execute(sql, limit === undefined ? [...parentIds] : [...parentIds, limit]);
    return rows.map(({ berth_rank: _rank, ...row }) => row);
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
