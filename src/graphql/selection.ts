import { ReferenceKind, type EntityClass, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { Kind, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { isToOne } from '../request/rows.js';
import { latestRelationOf, type Projection } from '../services/relations.js';

/**
 * What a connection's nodes read (src/services/relations.ts, Projection): a field named like a scalar property of the
 * entity is that column; a field named like a to-one relation (the convention every resolver follows) or like a
 * declared latest relation is joined, with its own projection. Any other field has a resolver of its own, which may
 * read any column and load any relation: that node reads every column, and so does everything joined below it.
 */
export function selectedProjection(info: GraphQLResolveInfo, em: SqlEntityManager, entity: EntityClass<unknown>): Projection {
  return memoized(listProjections, info, () => {
    const fragments = info.fragments;
    const nodes = info.fieldNodes.flatMap((field) => subfields(field.selectionSet, fragments, 'edges')).flatMap((edges) => subfields(edges.selectionSet, fragments, 'node'));
    return projectionOf(nodes.flatMap((node) => subfields(node.selectionSet, fragments)), em, entity, fragments);
  });
}

/** What a field returning one row of `entity` reads (as selectedProjection, for the field's own selection). */
export function selectedRow(info: GraphQLResolveInfo, em: SqlEntityManager, entity: EntityClass<unknown>): Projection {
  return memoized(rowProjections, info, () => projectionOf(info.fieldNodes.flatMap((field) => subfields(field.selectionSet, info.fragments)), em, entity, info.fragments));
}

// a cached document's field nodes are the same objects on every request: its projections are worked out once
const listProjections = new WeakMap<FieldNode, Projection>();
const rowProjections = new WeakMap<FieldNode, Projection>();

function memoized(cache: WeakMap<FieldNode, Projection>, info: GraphQLResolveInfo, build: () => Projection): Projection {
  // several nodes of one field (a field selected twice) are merged: keyed by the first, they are the same each time
  const key = info.fieldNodes[0];
  let projection = cache.get(key);
  if (!projection) cache.set(key, (projection = build()));
  return projection;
}

function projectionOf(fields: FieldNode[], em: SqlEntityManager, entity: EntityClass<unknown>, fragments: Record<string, FragmentDefinitionNode>): Projection {
  const metadata = em.getMetadata();
  return projectionOfFields(fields, metadata.get(entity), { fragments, metaOf: (e) => metadata.get(e) }, false);
}

interface Walk {
  fragments: Record<string, FragmentDefinitionNode>;
  metaOf(entity: EntityClass<unknown>): EntityMetadata;
}

function projectionOfFields(fields: FieldNode[], meta: EntityMetadata, walk: Walk, everyColumn: boolean): Projection {
  const entity = meta.class as EntityClass<unknown>;
  const computed = computedFields(entity);
  const properties = new Set<string>();
  const joined = new Map<string, { fields: FieldNode[]; meta: EntityMetadata }>();
  let opaque = everyColumn;
  for (const field of fields) {
    const name = field.name.value;
    if (name === '__typename') continue;
    const prop = (meta.properties as Record<string, EntityProperty | undefined>)[name];
    const latest = prop ? undefined : latestRelationOf(entity, name);
    const targetMeta = latest ? walk.metaOf(latest.target as EntityClass<unknown>) : prop && isToOne(prop) ? prop.targetMeta : undefined;
    if (targetMeta) {
      const group = joined.get(name) ?? { fields: [], meta: targetMeta };
      group.fields.push(...subfields(field.selectionSet, walk.fragments));
      joined.set(name, group);
    } else if (prop?.kind === ReferenceKind.SCALAR && prop.persist !== false && !computed.has(name)) properties.add(name);
    else opaque = true;
  }
  const relations = new Map<string, Projection>();
  for (const [name, group] of joined) relations.set(name, projectionOfFields(group.fields, group.meta, walk, opaque));
  return { properties: opaque ? undefined : [...properties], relations };
}

const computedMemo = new Map<EntityClass<unknown>, Set<string>>();

/** The fields of an object type that have a resolver method (type-graphql's @FieldResolver), rather than a property's value. */
function computedFields(entity: EntityClass<unknown>): Set<string> {
  let names = computedMemo.get(entity);
  if (!names) {
    names = new Set(getMetadataStorage().fieldResolvers.filter((r) => r.getObjectType?.() === entity).map((r) => r.schemaName));
    computedMemo.set(entity, names);
  }
  return names;
}

/** The fields of a selection set (through fragments), those named `name` when given. */
function subfields(set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, name?: string): FieldNode[] {
  if (!set) return [];
  const out: FieldNode[] = [];
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (!name || selection.name.value === name) out.push(selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) out.push(...subfields(selection.selectionSet, fragments, name));
    else {
      const fragment = fragments[selection.name.value];
      if (fragment) out.push(...subfields(fragment.selectionSet, fragments, name));
    }
  }
  return out;
}
