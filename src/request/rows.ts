import { ReferenceKind, type EntityClass, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';

/**
 * The read path hands out rows, not entities: a row holds the entity's property names and values (a to-one
 * relation as `{ id }`, or null), built from what the database returned, and is an instance of the entity class
 * made without its constructor. It is in no unit of work: nothing tracks, merges or flushes it, which is most of
 * what reading costs through the ORM. Writes load entities (`Loaders.byId`) and keep the ORM.
 */
type Convert = (value: unknown) => unknown;
interface Column {
  column: string;
  property: string;
  convert: Convert | null;
}

const mappers = new WeakMap<object, (row: Record<string, unknown>) => unknown>();

/** How a table's columns become a row's properties, built once per entity from the ORM's metadata. */
export function rowMapper<T>(em: SqlEntityManager, entity: EntityClass<T>): (row: Record<string, unknown>) => T {
  const meta = em.getMetadata().get(entity);
  let mapper = mappers.get(meta);
  if (!mapper) {
    const platform = em.getPlatform();
    const columns: Column[] = [];
    for (const prop of meta.props as EntityProperty[]) {
      if (!readable(prop)) continue;
      if (isToOne(prop)) {
        columns.push({ column: prop.fieldNames[0], property: prop.name, convert: (v) => (v === null || v === undefined ? null : { id: v }) });
      } else {
        const type = prop.customType;
        const convert: Convert | null =
          prop.runtimeType === 'Date' ? (v) => (v === null || v === undefined || v instanceof Date ? v : new Date(v as string))
          : type ? (v) => (v === null || v === undefined ? v : type.convertToJSValue(v, platform))
          : null;
        columns.push({ column: prop.fieldNames[0], property: prop.name, convert });
      }
    }
    // rows are instances of the entity class (GraphQL's @Root() converts anything else into one, constructor and
    // all), without its constructor: own data properties on a prototype of their own shadow the ORM's accessors
    const prototype = Object.create(meta.class.prototype as object) as object;
    for (const { property } of columns) Object.defineProperty(prototype, property, { value: undefined, writable: true, configurable: true });
    mapper = (row) => {
      const out = Object.create(prototype) as Record<string, unknown>;
      for (const { column, property, convert } of columns) {
        if (!(column in row)) continue;
        const value = row[column];
        out[property] = convert ? convert(value) : value;
      }
      return out;
    };
    mappers.set(meta, mapper);
  }
  return mapper as (row: Record<string, unknown>) => T;
}

/** The columns a row is made of (what rowMapper reads): scalar properties and the foreign keys of to-one relations. */
export function readableColumns(meta: EntityMetadata): string[] {
  return (meta.props as EntityProperty[]).filter((prop) => readable(prop)).map((prop) => prop.fieldNames[0]);
}

function readable(prop: EntityProperty): boolean {
  if (prop.persist === false || !prop.fieldNames?.length) return false;
  return prop.kind === ReferenceKind.SCALAR || isToOne(prop);
}

/** A to-one relation whose foreign key is in this entity's table (a row holds it as `{ id }`). */
export function isToOne(prop: EntityProperty | undefined): boolean {
  return !!prop && (prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && !!prop.owner));
}

/** The column of a property, quoted for SQL. */
export function columnOf(em: SqlEntityManager, entity: EntityClass<unknown>, property: string): string {
  return `"${(em.getMetadata().get(entity).properties as Record<string, { fieldNames: string[] }>)[property].fieldNames[0]}"`;
}

/**
 * `order` as an SQL ORDER BY list, the primary key breaking ties in the last key's direction so the order is total
 * (pages and "the newest child" never depend on the database's whim); columns qualified by `alias` when given.
 */
export function orderSql(meta: EntityMetadata, order: readonly { field: string; direction: 'ASC' | 'DESC' }[], alias?: string): string {
  const properties = meta.properties as Record<string, { fieldNames: string[] }>;
  const column = (prop: string) => `${alias ? `${alias}.` : ''}"${properties[prop].fieldNames[0]}"`;
  const direction = order.at(-1)?.direction ?? 'ASC';
  const tieBreakers = (meta.primaryKeys as string[]).map((pk) => `${column(pk)} ${direction}`);
  return [...order.map((o) => `${column(o.field)} ${o.direction}`), ...tieBreakers].join(', ');
}
