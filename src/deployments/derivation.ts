import { isDeepStrictEqual } from 'node:util';
import type { DeploymentTaskOperation } from '../entities/deployment-task-operation.js';
import type { ChartFeatures } from './chart-ext.js';
import { jsonDiff } from './json-diff.js';

/** The namespace and Helm release of a deployment: `lower(kind)` for OnePerCluster, else `lower(kind)-name`. */
export const namespaceOf = (kindName: string, name: string) => (name ? `${kindName.toLowerCase()}-${name}` : kindName.toLowerCase());

/** What task derivation compares, before and after an update. */
export interface DeploymentState {
  name: string;
  clusterId: string;
  namespace: string;
  enabled: boolean;
  helmChartId: string;
  config: Record<string, unknown>;
  valuesOverride: Record<string, unknown>;
}

export const installOperation = (d: DeploymentState): DeploymentTaskOperation => ({
  Install: { helm_chart_id: d.helmChartId, config_inputs: d.config, values_override: d.valuesOverride },
});

const upgradeOperation = (before: DeploymentState, after: DeploymentState): DeploymentTaskOperation => ({
  Upgrade: {
    helm_chart_id: after.helmChartId,
    prev_helm_chart_id: before.helmChartId,
    config_inputs: after.config,
    config_delta: jsonDiff(before.config, after.config),
    values_override: after.valuesOverride,
  },
});

export interface Derivation {
  /** created in this order */
  operations: DeploymentTaskOperation[];
  /** whether the enabled deployments that use this one get a Reinstall */
  reinstallDependents: boolean;
}

/** Platz's task derivation for an update (api/src/routes/v2/deployments.rs), first matching case wins. */
export function deriveUpdateTasks(before: DeploymentState, after: DeploymentState, features: ChartFeatures): Derivation {
  if (!after.enabled) return { operations: before.enabled ? [{ Uninstall: {} }] : [], reinstallDependents: false };
  if (!before.enabled) return { operations: [installOperation(after)], reinstallDependents: true };
  if (before.clusterId !== after.clusterId || before.name !== after.name) {
    const recreate: DeploymentTaskOperation = {
      Recreate: { old_cluster_id: before.clusterId, old_namespace: before.namespace, new_cluster_id: after.clusterId, new_namespace: after.namespace },
    };
    return { operations: [recreate, upgradeOperation(before, after)], reinstallDependents: true };
  }
  const changed =
    before.helmChartId !== after.helmChartId || !isDeepStrictEqual(before.config, after.config) || !isDeepStrictEqual(before.valuesOverride, after.valuesOverride);
  return changed ? { operations: [upgradeOperation(before, after)], reinstallDependents: features.reinstallDependencies } : { operations: [], reinstallDependents: false };
}
