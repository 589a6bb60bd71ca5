import { createUnionType, Field, ID, ObjectType } from 'type-graphql';
import { camelCase } from '../util/case.js';
import { GraphQLJSON } from '../util/json-scalars.js';

/**
 * A task's operation as stored: Platz's externally tagged JSON ({"Install": {...}}), snake_case inside.
 * GraphQL exposes it as a union of typed objects, built by toOperationObject.
 */
export type DeploymentTaskOperation =
  | { Install: { helm_chart_id: string; config_inputs: unknown; values_override: unknown } }
  | {
      Upgrade: {
        helm_chart_id: string;
        prev_helm_chart_id: string | null;
        config_inputs: unknown;
        config_delta: unknown;
        values_override: unknown;
      };
    }
  | { Reinstall: { reason: string } }
  | { Recreate: { old_cluster_id: string; old_namespace: string; new_cluster_id: string; new_namespace: string } }
  | { Uninstall: Record<string, never> }
  | { InvokeAction: { helm_chart_id: string; action_id: string; body: unknown } }
  | { RestartK8sResource: { resource_id: string; resource_name: string } };

type KeysOf<U> = U extends unknown ? keyof U : never;

/** Platz's operation names: the key of a task's externally tagged operation. */
export type OperationName = KeysOf<DeploymentTaskOperation> & string;

/** What one operation carries: `OperationBody<'Install'>` is `{ helm_chart_id, config_inputs, values_override }`. */
export type OperationBody<K extends OperationName> = Extract<DeploymentTaskOperation, Record<K, unknown>>[K & keyof Extract<DeploymentTaskOperation, Record<K, unknown>>];

/** An operation's name and body together, so a switch on `name` narrows `body`. */
export type OperationParts = { [K in OperationName]: { name: K; body: OperationBody<K> } }[OperationName];

export function operationParts(operation: DeploymentTaskOperation): OperationParts {
  const name = Object.keys(operation)[0] as OperationName;
  return { name, body: (operation as Record<string, unknown>)[name] } as OperationParts;
}

/** The chart, config and values an Install or Upgrade installed (a revision's); null for any other operation. */
export function installed(operation: DeploymentTaskOperation | undefined | null): OperationBody<'Install'> | OperationBody<'Upgrade'> | null {
  const parts = operation ? operationParts(operation) : null;
  return parts?.name === 'Install' || parts?.name === 'Upgrade' ? parts.body : null;
}

@ObjectType()
export class InstallOperation {
  @Field(() => ID) helmChartId!: string;
  @Field(() => GraphQLJSON, { nullable: true }) configInputs?: unknown;
  @Field(() => GraphQLJSON, { nullable: true }) valuesOverride?: unknown;
}

@ObjectType()
export class UpgradeOperation {
  @Field(() => ID) helmChartId!: string;
  @Field(() => ID, { nullable: true }) prevHelmChartId?: string | null;
  @Field(() => GraphQLJSON, { nullable: true }) configInputs?: unknown;
  /** keys are dotted paths ("" for the root), values [old, new] */
  @Field(() => GraphQLJSON, { nullable: true }) configDelta?: unknown;
  @Field(() => GraphQLJSON, { nullable: true }) valuesOverride?: unknown;
}

@ObjectType()
export class ReinstallOperation {
  @Field() reason!: string;
}

@ObjectType()
export class RecreateOperation {
  @Field(() => ID) oldClusterId!: string;
  @Field() oldNamespace!: string;
  @Field(() => ID) newClusterId!: string;
  @Field() newNamespace!: string;
}

@ObjectType()
export class UninstallOperation {
  /** GraphQL objects need a field; always true */
  @Field() uninstall!: boolean;
}

@ObjectType()
export class InvokeActionOperation {
  @Field(() => ID) helmChartId!: string;
  @Field() actionId!: string;
  @Field(() => GraphQLJSON, { nullable: true }) body?: unknown;
}

@ObjectType()
export class RestartK8sResourceOperation {
  @Field(() => ID) resourceId!: string;
  @Field() resourceName!: string;
}

const operationClasses = {
  Install: InstallOperation,
  Upgrade: UpgradeOperation,
  Reinstall: ReinstallOperation,
  Recreate: RecreateOperation,
  Uninstall: UninstallOperation,
  InvokeAction: InvokeActionOperation,
  RestartK8sResource: RestartK8sResourceOperation,
} as const;

export const DeploymentTaskOperationUnion = createUnionType({
  name: 'DeploymentTaskOperation',
  types: () => Object.values(operationClasses),
});

/** Turns the stored tagged JSON into the matching GraphQL object. */
export function toOperationObject(operation: DeploymentTaskOperation): object {
  const [tag, fields] = Object.entries(operation)[0] as [keyof typeof operationClasses, Record<string, unknown>];
  const target = new operationClasses[tag]() as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields ?? {})) target[camelCase(key)] = value;
  if (tag === 'Uninstall') target.uninstall = true;
  return target;
}
