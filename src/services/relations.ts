import type { EntityClass, EntityMetadata, EntityProperty } from '@mikro-orm/core';
import { raw, type SqlEntityManager } from '@mikro-orm/sql';
import { notFound } from '../errors/domain-error.js';
import { grantsOf, type Grants } from '../policy/grants.js';
import { scopeWhere, visibleThrough } from '../policy/visibility.js';
import type { ServiceContext } from '../request/context.js';
import type { OrderSpec } from '../request/loaders.js';
import { isToOne, orderSql, readableColumns, rowMapper } from '../request/rows.js';

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
  const joined = (ref as Joinable)[JOINED];
  if (joined !== undefined) return joined as T | null;
  return ctx.loaders.rowById(entity, await scope(ctx, entity)).load(ref.id);
}

/** A to-one relation that the schema guarantees (NOT NULL foreign key): NOT_FOUND when its target is out of scope. */
export async function loadRequired<T extends WithId>(ctx: ServiceContext, entity: EntityClass<T>, ref: WithId): Promise<T> {
  const joined = (ref as Joinable)[JOINED];
  const row = joined !== undefined ? (joined as T | null) : await ctx.loaders.rowById(entity, await scope(ctx, entity)).load(ref.id);
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

/**
 * A to-one relation that is not a foreign key of its parent: the newest (by `order`) child row pointing at it, like a
 * deployment's latest task. Declared once by the aggregate's service, so every adapter reads it alike and a list can
 * join it (`Projection`).
 */
export interface LatestRelation<P extends WithId, T extends WithId> {
  parent: EntityClass<P>;
  /** the name adapters show it under */
  name: string;
  target: EntityClass<T>;
  foreignKey: keyof T & string;
  order: OrderSpec<T>;
}

const latestRelations = new Map<EntityClass<unknown>, Map<string, LatestRelation<WithId, WithId>>>();

export function latestRelation<P extends WithId, T extends WithId & { createdAt: Date }>(relation: LatestRelation<P, T>): LatestRelation<P, T> {
  const byName = latestRelations.get(relation.parent) ?? new Map<string, LatestRelation<WithId, WithId>>();
  byName.set(relation.name, relation as unknown as LatestRelation<WithId, WithId>);
  latestRelations.set(relation.parent, byName);
  return relation;
}

/** The latest-child relation of `entity` called `name`, if one is declared. */
export function latestRelationOf(entity: EntityClass<unknown>, name: string): LatestRelation<WithId, WithId> | undefined {
  return latestRelations.get(entity)?.get(name);
}

/** The newest child row of `parent` inside the caller's scope, or null: joined by the list that read `parent`, or batched. */
export async function loadLatest<P extends WithId, T extends WithId & { createdAt: Date }>(ctx: ServiceContext, relation: LatestRelation<P, T>, parent: P): Promise<T | null> {
  const joined = (parent as Joinable)[JOINED_LATEST]?.[relation.name];
  if (joined !== undefined) return joined as T | null;
  const [row] = await loadMany(ctx, relation.target, relation.foreignKey, parent.id, { order: relation.order, limit: 1 });
  return row ?? null;
}

/**
 * What a list reads of its rows: the properties an adapter shows (undefined: every column), and the to-one
 * relations (foreign keys, or a `LatestRelation` by its name) to read in the same statement, each with its own
 * projection. The adapter knows which its response shows; rows carry no more than that.
 */
export interface Projection {
  properties?: readonly string[];
  relations: ReadonlyMap<string, Projection>;
}

/** Every column of the rows, no relation joined. */
export const ALL_COLUMNS: Projection = { relations: new Map() };

const propsOf = (meta: EntityMetadata) => meta.properties as Record<string, EntityProperty>;

/** The columns a projection reads of `meta`'s table: the id, `more`, its properties and the foreign keys of its to-one relations. */
function columnsOf(meta: EntityMetadata, p: Projection, more: readonly string[] = []): string[] {
  if (!p.properties) return readableColumns(meta);
  const props = propsOf(meta);
  const names = new Set(['id', ...more, ...p.properties, ...[...p.relations.keys()].filter((name) => isToOne(props[name]))]);
  return [...names].flatMap((name) => props[name]?.fieldNames?.[0] ?? []);
}

/** projectedColumns' answers: projections are memoized per document, so a query asked again reuses its columns */
const projectedColumnsMemo = new WeakMap<Projection, Map<EntityMetadata, string[]>>();

/** The columns of `entity` a projection reads; undefined for all of them. */
export function projectedColumns(ctx: ServiceContext, entity: EntityClass<unknown>, projection: Projection): readonly string[] | undefined {
  if (!projection.properties) return undefined;
  const meta = ctx.loaders.reader.getMetadata().get(entity);
  let byEntity = projectedColumnsMemo.get(projection);
  if (!byEntity) projectedColumnsMemo.set(projection, (byEntity = new Map()));
  let columns = byEntity.get(meta);
  if (!columns) byEntity.set(meta, (columns = columnsOf(meta, projection)));
  return columns;
}

/** On a reference (`{ id }`) of a read row: the row a joined relation found there, null when out of scope. */
const JOINED = Symbol('joined row');
/** On a read row: the latest-child rows a list joined, by relation name. */
const JOINED_LATEST = Symbol('joined latest rows');
interface Joinable extends Record<string, unknown> {
  [JOINED]?: WithId | null;
  [JOINED_LATEST]?: Record<string, WithId | null>;
}

/** How a list's statement reads its projection: select-list expressions over its rows (aliased `p`), and their params. */
export interface ProjectedSelect {
  /** the columns of the list's own rows, quoted */
  columns: string[];
  /** the relations, one JSON expression each, aliased `berth_rel_<name>` */
  relations: string;
  params: unknown[];
  /** the rows as the statement returned them, with their joined relations attached for loadOne, loadRequired and loadLatest */
  rows(raw: readonly Record<string, unknown>[]): WithId[];
}

const RELATION_KEY = 'berth_rel_';
/** json_build_object takes at most 100 arguments: wider rows are built in parts */
const PAIRS_PER_OBJECT = 50;

/**
 * The statement parts for a list of `entity` read with `projection`: its columns (always the id, the foreign keys of
 * joined relations and `extra`, e.g. the paging keys), and each joined relation as JSON from a correlated subquery,
 * nested as the projection nests, inside the target's own scope: a row out of scope comes back as null and never
 * leaves the database (a relation the policy says is as visible as the row holding it, `visibleThrough`, is not
 * checked again: the list's own rows must be in the caller's scope, as a ScopedQuery's are). One statement for the
 * list and every to-one relation it shows.
 */
export async function projectedSelect(ctx: ServiceContext, entity: EntityClass<unknown>, projection: Projection, extra: readonly string[]): Promise<ProjectedSelect> {
  const grants = await grantsOf(ctx);
  // the same for every request with this selection and these grants (kept with the credential): built once
  let byGrants = selects.get(projection);
  if (!byGrants) selects.set(projection, (byGrants = new WeakMap()));
  let byShape = byGrants.get(grants.memoKey);
  if (!byShape) byGrants.set(grants.memoKey, (byShape = new Map()));
  const shape = `${entity.name}:${extra.join(',')}`;
  let select = byShape.get(shape);
  if (!select) byShape.set(shape, (select = buildSelect(ctx.loaders.reader, grants, entity, projection, extra)));
  return select;
}

const selects = new WeakMap<Projection, WeakMap<object, Map<string, ProjectedSelect>>>();

function buildSelect(em: SqlEntityManager, grants: Grants, entity: EntityClass<unknown>, projection: Projection, extra: readonly string[]): ProjectedSelect {
  const metadata = em.getMetadata();
  const params: unknown[] = [];
  let aliases = 0;

  const scopeCheck = (target: EntityClass<unknown>, column: string) => {
    const scope = scopeWhere(grants, target);
    if (!scope) return '';
    // correlated to the row: it costs what the rows shown cost, not the size of the target's table (a task history grows)
    const visible = em.createQueryBuilder(target, 's').select(raw('1') as never).where(scope as never).andWhere(`"s"."id" = ${column}`).toQuery();
    params.push(...visible.params);
    return ` and exists (${visible.sql})`;
  };
  /** `alias`'s relations as `[key, SQL expression]` pairs */
  const relationsOf = (meta: EntityMetadata, alias: string, p: Projection): [string, string][] =>
    [...p.relations].map(([name, sub]) => {
      const prop = propsOf(meta)[name];
      const t = `r${++aliases}`;
      if (isToOne(prop)) {
        const targetMeta = prop.targetMeta!;
        const target = targetMeta.class as EntityClass<unknown>;
        // the row holding the reference is visible (the list's scope, or this rule one level up)
        const scoped = visibleThrough(meta.class as EntityClass<unknown>, name, target) ? '' : scopeCheck(target, `${t}."id"`);
        const where = `${t}."id" = ${alias}."${prop.fieldNames[0]}"${scoped}`;
        return [RELATION_KEY + name, `(select ${objectOf(targetMeta, t, sub)} from "${targetMeta.tableName}" ${t} where ${where})`];
      }
      const latest = latestRelationOf(meta.class as EntityClass<unknown>, name);
      if (!latest) throw new Error(`${meta.className}.${name} is neither a to-one relation nor a latest relation`);
      const targetMeta = metadata.get(latest.target);
      const fk = propsOf(targetMeta)[latest.foreignKey].fieldNames[0];
      const order = orderSql(targetMeta, latest.order, t);
      const where = `${t}."${fk}" = ${alias}."id"${scopeCheck(latest.target as EntityClass<unknown>, `${t}."id"`)}`;
      return [RELATION_KEY + name, `(select ${objectOf(targetMeta, t, sub)} from "${targetMeta.tableName}" ${t} where ${where} order by ${order} limit 1)`];
    });
  /** a row of `meta` (aliased `alias`) as a JSON object: its projected columns by column name, its relations nested */
  const objectOf = (meta: EntityMetadata, alias: string, p: Projection): string => {
    const pairs = [...columnsOf(meta, p).map((c): [string, string] => [c, `${alias}."${c}"`]), ...relationsOf(meta, alias, p)];
    const build = (fn: string, part: [string, string][]) => `${fn}(${part.map(([key, value]) => `'${key}', ${value}`).join(', ')})`;
    if (pairs.length <= PAIRS_PER_OBJECT) return build('json_build_object', pairs);
    const parts: string[] = [];
    for (let i = 0; i < pairs.length; i += PAIRS_PER_OBJECT) parts.push(build('jsonb_build_object', pairs.slice(i, i + PAIRS_PER_OBJECT)));
    return parts.join(' || ');
  };

  const meta = metadata.get(entity);
  const columns = columnsOf(meta, projection, extra);
  const relations = relationsOf(meta, 'p', projection).map(([key, sql]) => `${sql} as "${key}"`).join(', ');
  const attach = attacher(em, entity, projection);
  return { columns: columns.map((c) => `"${c}"`), relations, params, rows: (raw) => raw.map(attach) };
}

/**
 * How rows of the statement (or a joined relation's JSON) become read rows, with their joined relations attached:
 * planned once per statement, then run per row (a list of 50 with four relations attaches 250 rows).
 */
function attacher(em: SqlEntityManager, entity: EntityClass<unknown>, projection: Projection): (raw: Record<string, unknown>) => WithId {
  const map = rowMapper(em, entity);
  const props = propsOf(em.getMetadata().get(entity));
  const steps = [...projection.relations].map(([name, sub]): ((row: Joinable, raw: Record<string, unknown>) => void) => {
    const key = RELATION_KEY + name;
    const prop = props[name];
    const target = isToOne(prop) ? (prop.targetMeta!.class as EntityClass<unknown>) : (latestRelationOf(entity, name)!.target as EntityClass<unknown>);
    const child = attacher(em, target, sub);
    const read = (raw: Record<string, unknown>) => {
      const value = raw[key] as Record<string, unknown> | string | null;
      return value === null ? null : child(typeof value === 'string' ? (JSON.parse(value) as Record<string, unknown>) : value);
    };
    if (isToOne(prop)) {
      return (row, raw) => {
        const ref = row[name] as Joinable | null;
        if (ref) ref[JOINED] = read(raw);
      };
    }
    return (row, raw) => {
      (row[JOINED_LATEST] ??= {})[name] = read(raw);
    };
  });
  return (raw) => {
    const row = map(raw) as Joinable & WithId;
    for (const step of steps) step(row, raw);
    return row;
  };
}
