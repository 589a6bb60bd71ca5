import { ReferenceKind, type EntityClass, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { Kind, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import type { Include } from '../services/relations.js';

/**
 * The to-one relations a connection's nodes select, as relation paths (`cluster { env }` → ['cluster'],
 * ['cluster', 'env']): a field named like a to-one relation of the entity is that relation, the convention
 * every resolver follows. The list reads them in its own statement (src/services/relations.ts).
 */
export function selectedToOnes(info: GraphQLResolveInfo, em: SqlEntityManager, entity: EntityClass<unknown>): Include {
  const fragments = info.fragments;
  const nodes = info.fieldNodes.flatMap((field) => subfields(field.selectionSet, fragments, 'edges')).flatMap((edges) => subfields(edges.selectionSet, fragments, 'node'));
  const paths: string[][] = [];
  const seen = new Set<string>();
  const walk = (selections: FieldNode[], meta: EntityMetadata, path: string[]) => {
    for (const field of selections) {
      const prop = (meta.properties as Record<string, EntityProperty | undefined>)[field.name.value];
      if (!prop || !(prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner)) || !prop.targetMeta) continue;
      const next = [...path, prop.name];
      const key = next.join('.');
      if (!seen.has(key)) {
        seen.add(key);
        paths.push(next);
      }
      walk(subfields(field.selectionSet, fragments), prop.targetMeta, next);
    }
  };
  walk(nodes.flatMap((node) => subfields(node.selectionSet, fragments)), em.getMetadata().get(entity), []);
  return paths;
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
