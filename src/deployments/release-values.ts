import { isShown, releaseFeatures, uiInputs, uiOutputs, type InputRef } from './chart-ext.js';
import { ingressHost } from './endpoint.js';

/** Everything a release's values are made of, read by the task worker. */
export interface ReleaseInput {
  /** the task that installs or upgrades: the release's revision */
  taskId: string;
  /** where the deployment reaches Berth (BERTH_PUBLIC_URL) */
  ownUrl: string;
  deployment: { id: string; name: string; namespace: string; kind: string };
  env: { id: string; name: string; nodeSelector: unknown; tolerations: unknown } | null;
  cluster: { id: string; name: string; ingressDomain?: string | null; ingressClass?: string | null; ingressTlsSecretName?: string | null; row: Record<string, unknown> };
  chart: { valuesUi: unknown; features: unknown };
  config: Record<string, unknown>;
  valuesOverride: Record<string, unknown>;
  /** what CollectionSelect inputs picked, by id: secrets (`name`, decrypted `contents`) and deployments */
  picked: ReadonlyMap<string, Record<string, unknown>>;
}

export interface ReleaseValues {
  values: Record<string, unknown>;
  /** Opaque Secrets to write in the namespace: name → key → value */
  secrets: Record<string, Record<string, string>>;
}

/** A config the chart cannot be installed with, or an action's body its UI schema cannot render: the task fails with this message. */
export class ReleaseValuesError extends Error {}

/**
 * The Helm values of a release, as Platz's agent renders them (platz.md section 6): the `platz` block (and its
 * legacy alias `shira`), the env's node selector and tolerations (also at the chart's paths), the standard ingress,
 * the values_ui outputs (or the raw config under `config` for a chart without values_ui), then the deployment's
 * values override on top.
 */
export function releaseValues(input: ReleaseInput): ReleaseValues {
  const { deployment, env, cluster } = input;
  const features = releaseFeatures(input.chart.features);
  const platz = {
    env_id: env?.id ?? null,
    env_name: env?.name ?? null,
    cluster_id: cluster.id,
    cluster_name: cluster.name,
    cluster: cluster.row,
    deployment_id: deployment.id,
    deployment_name: deployment.name,
    deployment_kind: deployment.kind,
    revision_id: input.taskId,
    own_url: input.ownUrl,
  };
  const values: Record<string, unknown> = { platz, shira: platz };
  const nodeSelector = env?.nodeSelector ?? {};
  const tolerations = env?.tolerations ?? [];
  values.nodeSelector = nodeSelector;
  values.tolerations = tolerations;
  for (const path of features.nodeSelectorPaths) setPath(values, path, nodeSelector);
  for (const path of features.tolerationsPaths) setPath(values, path, tolerations);

  const ingress = ingressHost(features.ingress, deployment, cluster);
  if ('host' in ingress) {
    const { host } = ingress;
    values.ingress = {
      enabled: true,
      className: cluster.ingressClass ?? null,
      hosts: [{ host, paths: [{ path: '/', pathType: 'Prefix' }] }],
      tls: [{ secretName: cluster.ingressTlsSecretName, hosts: [host] }],
    };
  }

  const secrets: ReleaseValues['secrets'] = {};
  if (input.chart.valuesUi) {
    const ui: UiRendering = { schema: input.chart.valuesUi, inputs: input.config, picked: input.picked, source: 'config' };
    uiValues(ui, values);
    for (const [name, keys] of Object.entries(uiOutputs(input.chart.valuesUi).secrets)) {
      secrets[name] = {};
      for (const [key, ref] of Object.entries(keys)) {
        const resolved = resolve(ui, ref);
        if (resolved !== undefined && resolved !== null) secrets[name][key] = typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
      }
    }
  } else {
    values.config = input.config;
  }
  return { values: merge(values, input.valuesOverride), secrets };
}

/** A UI schema (a chart's values_ui, an action's ui_schema) and the inputs it is rendered from. */
export interface UiRendering {
  schema: unknown;
  inputs: Record<string, unknown>;
  /** what its CollectionSelect inputs picked, by id */
  picked: ReadonlyMap<string, Record<string, unknown>>;
  /** what the inputs are, for messages: `config`, `body` */
  source: string;
}

/**
 * The schema's outputs.values rendered from its inputs (chart-ext's get_values), written into `into`; a required
 * input that is shown must have a value.
 */
export function uiValues(ui: UiRendering, into: Record<string, unknown> = {}): Record<string, unknown> {
  for (const field of uiInputs(ui.schema)) {
    const value = ui.inputs[field.id];
    if (field.required && isShown(field, ui.inputs) && (value === undefined || value === null || value === '')) {
      throw new ReleaseValuesError(`The ${ui.source} has no value for the required input ${field.id}`);
    }
  }
  for (const { path, value } of uiOutputs(ui.schema).values) {
    const resolved = resolve(ui, value);
    if (resolved !== undefined) setPath(into, path, resolved);
  }
  return into;
}

function resolve(ui: UiRendering, ref: InputRef): unknown {
  if ('FieldValue' in ref) return ui.inputs[ref.FieldValue.input];
  const { input: id, property } = ref.FieldProperty;
  const picked = ui.inputs[id];
  const property_ = (pick: unknown) => {
    const object = typeof pick === 'string' ? ui.picked.get(pick.toLowerCase()) : undefined;
    if (!object) throw new ReleaseValuesError(`The input ${id} picks ${String(pick)}, which is not there (deleted, or not in this env)`);
    return object[property];
  };
  return Array.isArray(picked) ? picked.map(property_) : picked === undefined || picked === null ? undefined : property_(picked);
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const step of path.slice(0, -1)) {
    const next = node[step];
    node = (node[step] = next && typeof next === 'object' && !Array.isArray(next) ? next : {}) as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/** Helm's merge of a later values file: objects merge key by key, anything else replaces. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    const bothObjects = [current, value].every((v) => v && typeof v === 'object' && !Array.isArray(v));
    out[key] = bothObjects ? merge(current as Record<string, unknown>, value as Record<string, unknown>) : value;
  }
  return out;
}
