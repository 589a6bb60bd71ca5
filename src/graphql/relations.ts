import type { EntityClass } from '@mikro-orm/core';
import { notFound } from '../errors/domain-error.js';
import { keepVisible } from '../policy/visibility.js';
import type { OrderSpec } from '../request/loaders.js';
import type { GraphQLContext } from './context.js';
import { grantsOf } from '../policy/grants.js';

// Every relation passes the caller's visibility rules: a related object out of scope reads as absent.

type WithId = { id: string };
const oldestFirst = [{ field: 'createdAt', direction: 'ASC' }] as const;

/** A to-one relation, batched per request; null when the reference is empty. */
export async function loadOne<T extends WithId>(ctx: GraphQLContext, entity: EntityClass<T>, ref: WithId | null | undefined): Promise<T | null> {
  if (!ref) return null;
  return (await visible(ctx, entity, [await ctx.loaders.byId(entity).load(ref.id)]))[0] ?? null;
}

/** A to-one relation that the schema guarantees (NOT NULL foreign key). */
export async function loadRequired<T extends WithId>(ctx: GraphQLContext, entity: EntityClass<T>, ref: WithId): Promise<T> {
  const row = await ctx.loaders.byId(entity).load(ref.id);
  if (!row) throw new Error(`${entity.name} ${ref.id} is referenced but missing`);
  const [shown] = await visible(ctx, entity, [row]);
  if (!shown) throw notFound(entity.name);
  return shown;
}

/** A to-many relation by foreign key, batched per request; oldest first unless told otherwise. */
export async function loadMany<T extends WithId & { createdAt: Date }>(
  ctx: GraphQLContext,
  entity: EntityClass<T>,
  foreignKey: keyof T & string,
  parentId: string,
  options: { order?: OrderSpec<T>; limit?: number } = {},
): Promise<T[]> {
  const rows = await ctx.loaders.children(entity, foreignKey, options.order ?? (oldestFirst as OrderSpec<T>), options.limit).load(parentId);
  return visible(ctx, entity, rows);
}

/** A many-to-many relation through a link entity: links by one side, then the other side's rows by id. */
export async function loadThrough<L extends { createdAt: Date }, T extends WithId>(
  ctx: GraphQLContext,
  link: EntityClass<L>,
  from: keyof L & string,
  to: keyof L & string,
  target: EntityClass<T>,
  parentId: string,
): Promise<T[]> {
  const links = await ctx.loaders.children(link as EntityClass<L & WithId>, from, oldestFirst as OrderSpec<L & WithId>).load(parentId);
  const rows = await ctx.loaders.byId(target).loadMany(links.map((l) => (l[to] as WithId).id));
  return visible(ctx, target, rows.map((r) => (r instanceof Error ? null : r)));
}

async function visible<T extends WithId>(ctx: GraphQLContext, entity: EntityClass<T>, rows: readonly (T | null)[]): Promise<T[]> {
  return (await keepVisible(ctx, await grantsOf(ctx), entity, rows)).filter((r): r is T => r !== null);
}
