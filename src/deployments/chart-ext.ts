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
  const doc = (features ?? {}) as { spec?: Record<string, unknown> } & Record<string, unknown>;
  const spec = (doc.spec ?? doc) as { cardinality?: unknown; reinstall_dependencies?: unknown };
  return {
    cardinality: spec.cardinality === Cardinality.OnePerCluster ? Cardinality.OnePerCluster : Cardinality.Many,
    reinstallDependencies: spec.reinstall_dependencies !== false,
  };
}

/** Action ids of an actions schema: `{actions: [{id}]}` (v0), or a list of `{spec: {id}}` (v1beta1). */
export function actionIds(actionsSchema: unknown): Set<string> {
  const list = Array.isArray(actionsSchema) ? actionsSchema.map((a) => (a as { spec?: unknown } | null)?.spec) : (actionsSchema as { actions?: unknown } | null)?.actions;
  if (!Array.isArray(list)) return new Set();
  return new Set(list.map((a) => (a as { id?: unknown } | null)?.id).filter((id): id is string => typeof id === 'string'));
}
