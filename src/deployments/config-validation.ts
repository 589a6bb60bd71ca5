import type { HelmChart } from '../entities/index.js';
import { isUuid } from '../entities/uuid.js';
import { badInput } from '../errors/domain-error.js';
import type { ServiceContext } from '../request/context.js';
import { collectionOf, isShown, referencedIds, uiInputs, type CollectionRef } from './chart-ext.js';

const isEmpty = (value: unknown) =>
  value === undefined || value === null || (typeof value === 'string' && !value.trim()) || (Array.isArray(value) && !value.length);

/**
 * A deployment's config against its chart's values_ui, before anything is written (Platz only found
 * out when the task ran): every shown required input has a value, and every CollectionSelect value
 * names an existing object of that collection in the deployment's env.
 */
export async function validateConfig(tx: ServiceContext, chart: HelmChart, config: Record<string, unknown>, envId: string | null): Promise<void> {
  const references: { field: string; collection: CollectionRef; ids: string[] }[] = [];
  for (const input of uiInputs(chart.valuesUi)) {
    const field = `input.config.${input.id}`;
    const value = config[input.id];
    if (input.required && isEmpty(value) && isShown(input, config)) throw badInput(field, `${input.id} is required`);
    const collection = collectionOf(input);
    if (!collection || isEmpty(value)) continue;
    const ids = referencedIds(value);
    if (!ids.every((id): id is string => typeof id === 'string' && isUuid(id))) throw badInput(field, `${input.id} must hold ids of the ${describe(collection)} collection`);
    references.push({ field, collection, ids: ids.map((id) => id.toLowerCase()) });
  }
  for (const ref of references) {
    const found = new Set((await existingIds(tx, ref.collection, ref.ids, envId)).map((r) => r.id));
    const missing = ref.ids.find((id) => !found.has(id));
    if (missing) throw badInput(ref.field, `${ref.field.slice('input.config.'.length)}: no ${describe(ref.collection)} with id ${missing} in this env`);
  }
}

function describe(collection: CollectionRef): string {
  return collection.kind === 'resources' ? `${collection.deploymentKind}/${collection.typeKey}` : collection.kind;
}

/** One statement per collection input; an env-less cluster's deployments reference only env-less objects. */
function existingIds(tx: ServiceContext, collection: CollectionRef, ids: string[], envId: string | null): Promise<{ id: string }[]> {
  const list = ids.map(() => '?').join(', ');
  switch (collection.kind) {
    case 'deployments':
      return tx.em.execute(
        `select d.id from deployments d join k8s_clusters c on c.id = d.cluster_id where c.env_id is not distinct from ? and d.id in (${list})`,
        [envId, ...ids],
      );
    case 'secrets':
      return tx.em.execute(`select id from secrets where env_id is not distinct from ? and id in (${list})`, [envId, ...ids]);
    case 'resources':
      // resource types are global (no env) or belong to the env
      return tx.em.execute(
        `select r.id from deployment_resources r
           join deployment_resource_types t on t.id = r.type_id
           join deployment_kinds k on k.id = t.deployment_kind_id
         where r.exists and k.name = ? and t.key = ? and (t.env_id is null or t.env_id is not distinct from ?) and r.id in (${list})`,
        [collection.deploymentKind, collection.typeKey, envId, ...ids],
      );
  }
}
