import { registerEnumType } from 'type-graphql';

// Values exactly as Platz stores and serializes them (reference/platz.md §7), plus Kubportal's approval states.

export enum DeploymentStatus {
  Unknown = 'Unknown',
  Installing = 'Installing',
  Renaming = 'Renaming',
  Upgrading = 'Upgrading',
  Running = 'Running',
  Error = 'Error',
  Uninstalling = 'Uninstalling',
  Uninstalled = 'Uninstalled',
  Deleting = 'Deleting',
}

export enum DeploymentTaskStatus {
  Pending = 'Pending',
  Started = 'Started',
  Failed = 'Failed',
  Canceled = 'Canceled',
  Done = 'Done',
}

export enum DeploymentResourceSyncStatus {
  Creating = 'Creating',
  Updating = 'Updating',
  Deleting = 'Deleting',
  Ready = 'Ready',
  Error = 'Error',
}

export enum UserDeploymentRole {
  Owner = 'Owner',
  Maintainer = 'Maintainer',
}

export enum EnvUserRole {
  Admin = 'Admin',
  User = 'User',
}

export enum HelmRegistryProvider {
  Ecr = 'Ecr',
  Oci = 'Oci',
}

/** Kubportal's user approval workflow */
export enum UserApprovalState {
  NEW = 'NEW',
  ACCESS_REQUESTED = 'ACCESS_REQUESTED',
  ACCESS_APPROVED = 'ACCESS_APPROVED',
  ACCESS_REJECTED = 'ACCESS_REJECTED',
}

/** K8s resource status colors, stored capitalized as Platz's tracker writes them */
export enum K8sResourceStatusColor {
  Primary = 'Primary',
  Success = 'Success',
  Danger = 'Danger',
  Warning = 'Warning',
  Secondary = 'Secondary',
}

registerEnumType(DeploymentStatus, { name: 'DeploymentStatus' });
registerEnumType(DeploymentTaskStatus, { name: 'DeploymentTaskStatus' });
registerEnumType(DeploymentResourceSyncStatus, { name: 'DeploymentResourceSyncStatus' });
registerEnumType(UserDeploymentRole, { name: 'UserDeploymentRole' });
registerEnumType(EnvUserRole, { name: 'EnvUserRole' });
registerEnumType(HelmRegistryProvider, { name: 'HelmRegistryProvider' });
registerEnumType(UserApprovalState, { name: 'UserApprovalState' });
registerEnumType(K8sResourceStatusColor, { name: 'K8sResourceStatusColor' });
