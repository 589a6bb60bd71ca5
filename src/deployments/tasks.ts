import type { KnownIdentity } from '../auth/identity.js';
import { Bot, Deployment, DeploymentTask, User } from '../entities/index.js';
import type { DeploymentTaskOperation } from '../entities/deployment-task-operation.js';
import type { ServiceContext } from '../services/context.js';

/**
 * Who a task acts for: exactly the caller, whatever kind of identity it is (Platz could not record
 * bots). References of the transaction's unit of work, not the request's entities.
 */
export function actingIdentity(tx: ServiceContext, identity: KnownIdentity): Pick<DeploymentTask, 'actingUser' | 'actingBot' | 'actingDeployment'> {
  switch (identity.kind) {
    case 'user':
      return { actingUser: tx.em.getReference(User, identity.user.id) };
    case 'bot':
      return { actingBot: tx.em.getReference(Bot, identity.bot.id) };
    case 'deployment':
      return { actingDeployment: tx.em.getReference(Deployment, identity.deployment.id) };
  }
}

/** A Pending task on a deployment, acting for the caller, persisted in the caller's transaction. */
export function newTask(
  tx: ServiceContext,
  deployment: Deployment,
  operation: DeploymentTaskOperation,
  options: { executeAt?: Date; reason?: string | null } = {},
): DeploymentTask {
  const identity = tx.identity;
  if (identity.kind === 'anonymous') throw new Error('tasks are created by authenticated callers only');
  const task = Object.assign(new DeploymentTask(), {
    deployment,
    cluster: deployment.cluster,
    operation,
    executeAt: options.executeAt ?? new Date(),
    reason: options.reason ?? null,
    ...actingIdentity(tx, identity),
  });
  tx.em.persist(task);
  return task;
}

/** Reinstall tasks for the given deployments that are enabled (Platz: env, secret and resource updates). */
export function reinstallEnabled(tx: ServiceContext, deployments: Deployment[], reason: string): DeploymentTask[] {
  return deployments.filter((d) => d.enabled).map((d) => newTask(tx, d, { Reinstall: { reason } }, { reason }));
}
