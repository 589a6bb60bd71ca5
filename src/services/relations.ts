import type { EntityClass, EntityProperty } from '@mikro-orm/core';
import { notFound } from '../errors/domain-error.js';
import { grantsOf } from '../policy/grants.js';
import { scopeWhere } from '../policy/visibility.js';
import type { ServiceContext } from '../request/context.js';
import type { OrderSpec } from '../request/loaders.js';
import { rowMapper } from '../request/rows.js';

/**
 * Relations on the read path, for every adapter: rows (src/request/rows.ts), batched per request, inside the
 * caller's scope applied in SQL. A related object out of scope reads as absent, exactly like a missing one.
 */

type WithId = { id: string };
const oldestFirst = [{ field: 'createdAt', direction: 'ASC' }] as const;

async function scope(ctx: ServiceContext, entity: EntityClass<unknown>) {
  return scopeWhere(await grantsOf(ctx), entity);
}

/** A to-one relation; null when the reference is empty or its target out of scope. */
export async function loadOne<T extends WithId>(ctx: ServiceContext, entity: EntityClass<T>, ref: WithId | null | undefined): Promise<T | null> {
  if (!ref) return null;
  return ctx.loaders.rowById(entity, await scope(ctx, entity)).load(ref.id);
}

/** A to-one relation that the schema guarantees (NOT NULL foreign key): NOT_FOUND when its target is out of scope. */
export async function loadRequired<T extends WithId>(ctx: ServiceContext, entity: EntityClass<T>, ref: WithId): Promise<T> {
  const row = await ctx.loaders.rowById(entity, await scope(ctx, entity)).load(ref.id);
  if (!row) throw notFound(entity.name);
  return row;
}

/** A to-many relation by foreign key; oldest first unless told otherwise, at most `limit` per parent. */
export async function loadMany<T extends WithId & { createdAt: Date }>(
  ctx: ServiceContext,
  entity: EntityClass<T>,
  foreignKey: keyof T & string,
  parentId: string,
  options: { order?: OrderSpec<T>; limit?: number } = {},
): Promise<T[]> {
  return ctx.loaders.childRows(entity, foreignKey, options.order ?? (oldestFirst as OrderSpec<T>), await scope(ctx, entity), options.limit).load(parentId);
}

/** A many-to-many relation through a link entity: links by one side, then the other side's rows by id. */
export async function loadThrough<L extends { createdAt: Date }, T extends WithId>(
  ctx: ServiceContext,
  link: EntityClass<L>,
  from: keyof L & string,
  to: keyof L & string,
  target: EntityClass<T>,
  parentId: string,
): Promise<T[]> {
  // links are not aggregates: who sees them is decided by the rows at either end
  const links = await ctx.loaders.childRows(link as EntityClass<L & WithId>, from, oldestFirst as OrderSpec<L & WithId>, null).load(parentId);
  const rows = await ctx.loaders.rowById(target, await scope(ctx, target)).loadMany(links.map((l) => (l[to] as WithId).id));
  return rows.filter((r): r is T => !!r && !(r instanceof Error));
}

/** To-one relations a list shows with each of its rows, as relation paths from its entity: ['cluster'], ['cluster', 'env']. */
export type Include = readonly (readonly string[])[];

/** What a list's statement selects besides its rows, and how the rows' relations reach the loaders. */
export interface JoinedRelations {
  /** select-list expressions over the list's rows, aliased `p` */
  columns: string;
  params: unknown[];
  /** primes the request's row loaders with the relations of these rows (as the statement returned them) */
  prime(rows: readonly Record<string, unknown>[]): void;
}

/**
 * The selected to-one relations of a list, joined into its statement: per path, the related row as JSON from a
 * correlated subquery on its primary key, inside the target's own scope (a row out of scope comes back as null and
 * never leaves the database). The relation fields then find them in the loaders: no statement of their own.
 */
export async function joinRelations(ctx: ServiceContext, entity: EntityClass<unknown>, include: Include): Promise<JoinedRelations | null> {
  if (!include.length) return null;
  const grants = await grantsOf(ctx);
  const em = ctx.em;
  const metadata = em.getMetadata();
  const columns: string[] = [];
  const params: unknown[] = [];
  const primers: ((row: Record<string, unknown>) => void)[] = [];
  for (const [i, path] of include.entries()) {
    // the foreign key at the end of the path, following each step's row by its primary key
    let meta = metadata.get(entity);
    let key = '';
    for (const [depth, step] of path.entries()) {
      const prop = (meta.properties as Record<string, EntityProperty>)[step];
      const column = `"${prop.fieldNames[0]}"`;
      key = depth === 0 ? `p.${column}` : `(select x${depth}.${column} from "${meta.tableName}" x${depth} where x${depth}."id" = ${key})`;
      meta = prop.targetMeta!;
    }
    const target = meta.class as EntityClass<WithId>;
    const scope = scopeWhere(grants, target);
    // the scope as the ids it allows: PostgreSQL runs such an uncorrelated subquery once per statement
    const ids = scope ? em.createQueryBuilder(target, 's').select('s.id' as never).where(scope as never).toQuery() : null;
    columns.push(`${key} as berth_key${i}`, `(select row_to_json(t) from "${meta.tableName}" t where t."id" = ${key}${ids ? ` and t."id" in (${ids.sql})` : ''}) as berth_row${i}`);
    if (ids) params.push(...ids.params);
    const loader = ctx.loaders.rowById(target, scope);
    const map = rowMapper(em, target);
    primers.push((row) => {
      const id = row[`berth_key${i}`] as string | null;
      if (!id) return;
      const json = row[`berth_row${i}`] as Record<string, unknown> | string | null;
      loader.prime(id, json === null ? null : map(typeof json === 'string' ? (JSON.parse(json) as Record<string, unknown>) : json));
    });
  }
  return {
    columns: columns.join(', '),
    params,
    prime: (rows) => rows.forEach((row) => primers.forEach((prime) => prime(row))),
  };
}
