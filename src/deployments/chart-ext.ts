import { isDeepStrictEqual } from 'node:util';
import jsonLogic from 'json-logic-js';

// Readers for the chart-ext documents stored on helm_charts (platzio/chart-ext): lenient, since charts
// are written by chart authors and parsed by the discovery worker, not by this API.

/** A values_ui input, as much of it as the API checks (chart-ext src/ui_schema.rs UiSchemaInput). */
export interface UiInput {
  id: string;
  type?: string;
  itemType?: string;
  required?: boolean;
  sensitive?: boolean;
  collection?: unknown;
  showIf?: unknown;
  showIfAll?: { field: string; value: unknown }[];
  showIfAny?: { field: string; value: unknown }[];
}

/** The inputs of a values_ui document (v0 and v1beta1 keep them at the top level). */
export function uiInputs(valuesUi: unknown): UiInput[] {
  const inputs = (valuesUi as { inputs?: unknown } | null | undefined)?.inputs;
  return Array.isArray(inputs) ? inputs.filter((i): i is UiInput => typeof (i as UiInput | null)?.id === 'string') : [];
}

/** Whether the input is shown for this config: showIf (JSONLogic) wins over showIfAll / showIfAny, as in chart-ext. */
export function isShown(input: UiInput, config: Record<string, unknown>): boolean {
  if (input.showIf !== undefined && input.showIf !== null) return jsonLogic.apply(input.showIf as jsonLogic.RulesLogic, config) === true;
  const matches = (pair: { field: string; value: unknown }) => isDeepStrictEqual(config[pair.field], pair.value);
  if (Array.isArray(input.showIfAll)) return input.showIfAll.every(matches);
  if (Array.isArray(input.showIfAny)) return input.showIfAny.some(matches);
  return true;
}

/** What a CollectionSelect input (single or array) picks from. */
export type CollectionRef = { kind: 'deployments' } | { kind: 'secrets' } | { kind: 'resources'; deploymentKind: string; typeKey: string };

export function collectionOf(input: UiInput): CollectionRef | null {
  const single = input.type === 'array' ? input.itemType : input.type;
  if (single !== 'CollectionSelect') return null;
  const c = input.collection as { deployment?: unknown; type?: unknown } | string | null | undefined;
  if (c === 'deployments' || c === 'secrets') return { kind: c };
  if (c && typeof c === 'object' && typeof c.deployment === 'string' && typeof c.type === 'string') {
    return { kind: 'resources', deploymentKind: c.deployment, typeKey: c.type };
  }
  return null;
}

/** The ids a config value holds for a collection input: one id, or an array of them. */
export function referencedIds(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

export enum Cardinality {
  Many = 'Many',
  OnePerCluster = 'OnePerCluster',
}

export interface ChartFeatures {
  cardinality: Cardinality;
  /** reinstall dependents when config, chart or values change (renames and moves always do) */
  reinstallDependencies: boolean;
}

/** features.cardinality and features.reinstall_dependencies; v1beta1+ documents nest them under `spec`. */
export function chartFeatures(features: unknown): ChartFeatures {
  const spec = featuresSpec(features) as { cardinality?: unknown; reinstall_dependencies?: unknown };
  return {
    cardinality: spec.cardinality === Cardinality.OnePerCluster ? Cardinality.OnePerCluster : Cardinality.Many,
    reinstallDependencies: spec.reinstall_dependencies !== false,
  };
}

/** The features document's fields: v1beta1+ documents nest them under `spec`. */
function featuresSpec(features: unknown): Record<string, unknown> {
  const doc = (features ?? {}) as { spec?: Record<string, unknown> } & Record<string, unknown>;
  return doc.spec ?? doc;
}

/** The actions of an actions schema: `{actions: [{id, …}]}` (v0), or a list of `{spec: {id, …}}` (v1beta1). */
function actionList(actionsSchema: unknown): { id: string; [field: string]: unknown }[] {
  const list = Array.isArray(actionsSchema) ? actionsSchema.map((a) => (a as { spec?: unknown } | null)?.spec) : (actionsSchema as { actions?: unknown } | null)?.actions;
  return Array.isArray(list) ? list.filter((a): a is { id: string } => typeof (a as { id?: unknown } | null)?.id === 'string') : [];
}

/** Action ids of an actions schema. */
export function actionIds(actionsSchema: unknown): Set<string> {
  return new Set(actionList(actionsSchema).map((a) => a.id));
}

/**
 * An HTTP call to a deployment that chart-ext describes (ChartExtActionTarget): a method and a path on its
 * endpoint. The endpoint is always `standard_ingress`, the only one chart-ext knows.
 */
export interface EndpointCall {
  method: string;
  path: string;
}

function endpointCall(target: unknown): EndpointCall | null {
  const { method, path } = (target ?? {}) as { method?: unknown; path?: unknown };
  return typeof path === 'string' ? { method: typeof method === 'string' ? method.toUpperCase() : 'POST', path } : null;
}

/** An action of the chart: where it is called, and the UI schema its body is rendered with (if any). */
export interface ChartAction extends EndpointCall {
  uiSchema: unknown;
}

/** The action `id` of an actions schema; null when the schema has no such action, or it names no path to call. */
export function findAction(actionsSchema: unknown, id: string): ChartAction | null {
  const action = actionList(actionsSchema).find((a) => a.id === id);
  const call = endpointCall(action);
  return action && call ? { ...call, uiSchema: action.ui_schema ?? null } : null;
}

/**
 * What a resource type calls when one of its resources is created, updated or deleted (chart-ext ResourceType
 * v1beta1: `lifecycle.<step>.target`, read also when written flat as `lifecycle.<step>`); null: nothing to call.
 */
export function lifecycleTarget(typeSpec: unknown, step: 'create' | 'update' | 'delete'): EndpointCall | null {
  const action = (typeSpec as { lifecycle?: Record<string, { target?: unknown } | null> } | null)?.lifecycle?.[step];
  return endpointCall(action?.target ?? action);
}

/** features.status (chart-ext ChartExtStatusFeature): where the deployment reports its status, and how often to ask. */
export interface StatusFeature {
  path: string;
  refreshIntervalSecs: number;
}

export function statusFeature(features: unknown): StatusFeature | null {
  const status = featuresSpec(features).status as { path?: unknown; refresh_interval_secs?: unknown } | null | undefined;
  if (typeof status?.path !== 'string') return null;
  const secs = Number(status.refresh_interval_secs);
  return { path: status.path, refreshIntervalSecs: Number.isFinite(secs) && secs > 0 ? secs : 0 };
}

/** What the chart's features say about its release values: ingress, and where node selector and tolerations go. */
export interface ReleaseFeatures {
  ingress: { enabled: boolean; hostnameFormat: 'Name' | 'KindAndName' };
  nodeSelectorPaths: string[][];
  tolerationsPaths: string[][];
}

export function releaseFeatures(features: unknown): ReleaseFeatures {
  const spec = featuresSpec(features) as {
    ingress?: { enabled?: unknown; hostname_format?: unknown };
    standard_ingress?: unknown;
    node_selector_paths?: unknown;
    tolerations_paths?: unknown;
  };
  const paths = (value: unknown) => (Array.isArray(value) ? value.filter((p): p is string[] => Array.isArray(p) && p.length > 0 && p.every((s) => typeof s === 'string')) : []);
  return {
    ingress: {
      // v0 and v1beta1 say `standard_ingress: true`, which chart-ext reads as an enabled ingress named KindAndName
      enabled: spec.ingress?.enabled === true || spec.standard_ingress === true,
      hostnameFormat: spec.ingress?.hostname_format === 'Name' ? 'Name' : 'KindAndName',
    },
    nodeSelectorPaths: paths(spec.node_selector_paths),
    tolerationsPaths: paths(spec.tolerations_paths),
  };
}

/** Where a values_ui output takes its value: an input's value, or a property of what a CollectionSelect input picked. */
export type InputRef = { FieldValue: { input: string } } | { FieldProperty: { input: string; property: string } };

/** values_ui outputs (chart-ext UiSchemaOutputs): values at paths, and Secrets of keys. */
export interface UiOutputs {
  values: { path: string[]; value: InputRef }[];
  secrets: Record<string, Record<string, InputRef>>;
}

export function uiOutputs(valuesUi: unknown): UiOutputs {
  const outputs = ((valuesUi as { outputs?: unknown } | null | undefined)?.outputs ?? {}) as { values?: unknown; secrets?: unknown };
  const isRef = (r: unknown): r is InputRef => typeof r === 'object' && r !== null && ('FieldValue' in r || 'FieldProperty' in r);
  const values = Array.isArray(outputs.values)
    ? outputs.values.filter((v): v is UiOutputs['values'][number] => Array.isArray(v?.path) && v.path.every((s: unknown) => typeof s === 'string') && isRef(v?.value))
    : [];
  const secrets: UiOutputs['secrets'] = {};
  if (outputs.secrets && typeof outputs.secrets === 'object') {
    for (const [name, keys] of Object.entries(outputs.secrets as Record<string, unknown>)) {
      if (!keys || typeof keys !== 'object') continue;
      secrets[name] = Object.fromEntries(Object.entries(keys).filter(([, ref]) => isRef(ref)));
    }
  }
  return { values, secrets };
}
