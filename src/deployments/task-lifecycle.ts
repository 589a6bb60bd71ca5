import { operationParts, type DeploymentTaskOperation } from '../entities/deployment-task-operation.js';
import { DeploymentStatus } from '../entities/enums.js';

const operationName = (operation: DeploymentTaskOperation) => operationParts(operation).name;

/**
 * What a task does to its deployment's status, as Platz's agent writes it (platz.md section 6): on start, and on
 * its end. `revision`: 'task' points the deployment at this task (a successful Install or Upgrade), 'none' clears it
 * (Uninstall), undefined leaves it.
 */
export interface StatusChange {
  status?: DeploymentStatus;
  /** the deployment's reason: the task's on failure, cleared on success */
  reason?: string | null;
  revision?: 'task' | 'none';
}

/** Whether the operation changes its deployment (InvokeAction and RestartK8sResource leave it as it is). */
export const changesDeployment = (operation: DeploymentTaskOperation) => !['InvokeAction', 'RestartK8sResource'].includes(operationName(operation));

export function whenStarted(operation: DeploymentTaskOperation, current: DeploymentStatus): StatusChange {
  switch (operationName(operation)) {
    case 'Install':
      return { status: DeploymentStatus.Installing };
    case 'Upgrade':
    case 'Reinstall':
      return { status: DeploymentStatus.Upgrading };
    case 'Recreate':
      return { status: DeploymentStatus.Renaming };
    case 'Uninstall':
      // a deployment being deleted stays Deleting: the watch deletes it once its namespace is gone
      return current === DeploymentStatus.Deleting ? {} : { status: DeploymentStatus.Uninstalling };
    case 'InvokeAction':
    case 'RestartK8sResource':
      return {};
  }
}

export function whenFinished(operation: DeploymentTaskOperation, current: DeploymentStatus, failure: string | null): StatusChange {
  const name = operationName(operation);
  if (name === 'InvokeAction' || name === 'RestartK8sResource') return {};
  if (failure !== null) return { status: DeploymentStatus.Error, reason: failure };
  switch (name) {
    case 'Install':
    case 'Upgrade':
      return { status: DeploymentStatus.Running, reason: null, revision: 'task' };
    case 'Reinstall':
      return { status: DeploymentStatus.Running, reason: null };
    case 'Recreate':
      // the Upgrade that always follows ends it
      return {};
    case 'Uninstall':
      // Uninstalling (or Deleting) until the watch sees the namespace gone
      return { reason: null, revision: 'none', status: current };
  }
}
