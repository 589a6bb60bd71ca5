import { Deployment } from '../entities/index.js';
import type { ServiceContext } from '../request/context.js';
import { collectionOf, referencedIds, uiInputs, type CollectionRef } from './chart-ext.js';

/** An object deployments can depend on through a CollectionSelect input. */
export type Dependency = { id: string } & CollectionRef;

/**
 * The deployments of an env whose config references the object under an input of their chart's
 * values_ui picking from its collection; envId undefined searches every env (objects of global resource
 * types can be picked from any env). Three statements whatever the env's size (the env's
 * deployments with their charts and kinds), where Platz ran N+2 queries per check.
 */
export async function deploymentsUsing(tx: ServiceContext, envId: string | null | undefined, target: Dependency): Promise<Deployment[]> {
  const deployments = await tx.em.find(Deployment, envId === undefined ? {} : { cluster: { env: envId } }, { populate: ['helmChart', 'kind'] });
  const id = target.id.toLowerCase();
  return deployments.filter(
    (d) =>
      d.id !== target.id &&
      uiInputs(d.helmChart.valuesUi).some((input) => {
        const collection = collectionOf(input);
        return (
          !!collection &&
          sameCollection(collection, target) &&
          referencedIds(d.config[input.id]).some((value) => typeof value === 'string' && value.toLowerCase() === id)
        );
      }),
  );
}

function sameCollection(a: CollectionRef, b: CollectionRef): boolean {
  if (a.kind === 'resources' && b.kind === 'resources') return a.deploymentKind === b.deploymentKind && a.typeKey === b.typeKey;
  return a.kind === b.kind;
}

/** "name (Kind), …" for conflict messages. */
export const describeDeployments = (deployments: Deployment[]) => deployments.map((d) => `${d.name || '(unnamed)'} (${d.kind.name})`).join(', ');
