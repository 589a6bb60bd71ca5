import { Deployment, K8sCluster } from '../entities/index.js';
import { findVisible, requireDeploymentMaintainer } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';

/** A deployment the caller can see, with its cluster's env (null for a cluster outside any env). */
export async function findDeployment(tx: ServiceContext, id: string, field: string): Promise<{ deployment: Deployment; envId: string | null }> {
  const deployment = await findVisible(tx, Deployment, id, field);
  const cluster = await tx.loaders.byId(K8sCluster).load(deployment.cluster.id);
  return { deployment, envId: cluster?.env?.id ?? null };
}

/** findDeployment, then FORBIDDEN unless the caller maintains it. */
export async function findMaintainedDeployment(tx: ServiceContext, id: string, field: string): Promise<{ deployment: Deployment; envId: string | null }> {
  const found = await findDeployment(tx, id, field);
  await requireDeploymentMaintainer(tx, found.deployment, found.envId);
  return found;
}
