import type { KnownIdentity } from '../request/identity.js';
import { Bot, Deployment, DeploymentTask, User } from '../entities/index.js';
import type { DeploymentTaskOperation } from '../entities/deployment-task-operation.js';
import type { ServiceContext } from '../request/context.js';

/** The caller as a reference of the transaction's unit of work (not the request's entity): exactly one is set. */
function callerReference(tx: ServiceContext, identity: KnownIdentity): { user?: User; bot?: Bot; deployment?: Deployment } {
  switch (identity.kind) {
    case 'user':
      return { user: tx.em.getReference(User, identity.user.id) };
    case 'bot':
      return { bot: tx.em.getReference(Bot, identity.bot.id) };
    case 'deployment':
      return { deployment: tx.em.getReference(Deployment, identity.deployment.id) };
    case 'system':
      // Berth itself (the task worker): no one to name
      return {};
  }
}

/** Who a task acts for: exactly the caller, whatever kind of identity it is (Platz could not record bots). */
export function actingIdentity(tx: ServiceContext, identity: KnownIdentity): Pick<DeploymentTask, 'actingUser' | 'actingBot' | 'actingDeployment'> {
  const ref = callerReference(tx, identity);
  return { actingUser: ref.user ?? null, actingBot: ref.bot ?? null, actingDeployment: ref.deployment ?? null };
}

/** Who canceled a task: the caller, recorded like the acting identity. */
export function cancelingIdentity(tx: ServiceContext, identity: KnownIdentity): Pick<DeploymentTask, 'canceledByUser' | 'canceledByBot' | 'canceledByDeployment'> {
  const ref = callerReference(tx, identity);
  return { canceledByUser: ref.user ?? null, canceledByBot: ref.bot ?? null, canceledByDeployment: ref.deployment ?? null };
}

/** Whether the caller is the identity the task acts for. */
export function isTaskActor(task: DeploymentTask, identity: KnownIdentity): boolean {
  switch (identity.kind) {
    case 'user':
      return task.actingUser?.id === identity.user.id;
    case 'bot':
      return task.actingBot?.id === identity.bot.id;
    case 'deployment':
      return task.actingDeployment?.id === identity.deployment.id;
    case 'system':
      return false;
  }
}

let lastCreatedAt = 0;

/** Tasks run in creation order: two made by one request (Recreate, then Upgrade) must not share a millisecond. */
function nextCreatedAt(): Date {
  lastCreatedAt = Math.max(Date.now(), lastCreatedAt + 1);
  return new Date(lastCreatedAt);
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
    createdAt: nextCreatedAt(),
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
