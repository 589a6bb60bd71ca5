import { Field, ID, InputType } from 'type-graphql';
import { GraphQLJSONObject } from '../util/json-scalars.js';
import { Deployment, DeploymentKind, DeploymentTask, HelmChart, HelmRegistry, K8sCluster } from '../entities/index.js';
import { DeploymentStatus, UserDeploymentRole } from '../entities/enums.js';
import { Cardinality, chartFeatures } from '../deployments/chart-ext.js';
import { validateConfig } from '../deployments/config-validation.js';
import { findDeployment } from '../deployments/access.js';
import { deploymentsUsing, describeDeployments } from '../deployments/dependencies.js';
import { deriveUpdateTasks, installOperation, namespaceOf, type DeploymentState } from '../deployments/derivation.js';
import { newTask, reinstallEnabled } from '../deployments/tasks.js';
import { badInput, conflict } from '../errors/domain-error.js';
import { findVisible, requireDeploymentMaintainer, requireKindRole, requireSystem } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { snapshot, type Audit, type UnitOfWork } from './unit-of-work.js';
import { compact, iContains, optionalUuid } from '../request/where.js';
import { ReadService } from './read-service.js';
import { latestRelation } from './relations.js';

/** A deployment's newest task, which lists show beside it (joined into their statement when selected). */
export const latestTask = latestRelation({
  parent: Deployment,
  name: 'latestTask',
  target: DeploymentTask,
  foreignKey: 'deployment',
  order: [{ field: 'createdAt', direction: 'DESC' }],
});

@InputType()
export class DeploymentFilter {
  @Field({ nullable: true, description: 'case-insensitive substring' }) name?: string;
  @Field(() => ID, { nullable: true }) kindId?: string;
  @Field(() => ID, { nullable: true }) clusterId?: string;
  @Field(() => ID, { nullable: true, description: "the cluster's env" }) envId?: string;
  @Field({ nullable: true }) enabled?: boolean;
  @Field(() => DeploymentStatus, { nullable: true }) status?: DeploymentStatus;
}

@InputType()
export class CreateDeploymentInput {
  @Field(() => String, { nullable: true, description: 'a DNS-1123 label; empty for OnePerCluster charts (default "")' }) name?: string | null;
  @Field(() => ID) kindId!: string;
  @Field(() => ID) clusterId!: string;
  @Field(() => ID) helmChartId!: string;
  @Field(() => GraphQLJSONObject, { nullable: true, description: "inputs of the chart's values_ui (default {})" }) config?: Record<string, unknown> | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'default {}' }) valuesOverride?: Record<string, unknown> | null;
  @Field(() => String, { nullable: true }) descriptionMd?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'default true; a disabled deployment is not installed' }) enabled?: boolean | null;
}

@InputType({ description: 'fields left out are unchanged' })
export class UpdateDeploymentInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => ID, { nullable: true }) clusterId?: string | null;
  @Field(() => ID, { nullable: true }) helmChartId?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true }) config?: Record<string, unknown> | null;
  @Field(() => GraphQLJSONObject, { nullable: true }) valuesOverride?: Record<string, unknown> | null;
  @Field(() => Boolean, { nullable: true }) enabled?: boolean | null;
  @Field(() => String, { nullable: true, description: 'null clears it' }) descriptionMd?: string | null;
}

/** A deployment as a write left it, and the tasks the write gave it (in the order they run). */
export interface DeploymentWrite {
  deployment: Deployment;
  tasks: DeploymentTask[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Where a deployment would live: everything the name, chart and config rules look at. */
interface Placement {
  name: string;
  kind: DeploymentKind;
  cluster: K8sCluster;
  chart: HelmChart;
  config: Record<string, unknown>;
}

export class DeploymentService extends ReadService<Deployment, DeploymentFilter> {
  constructor(private readonly uow: UnitOfWork) {
    super({
      entity: Deployment,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => {
        const envId = optionalUuid(f.envId, 'envId');
        return compact({
          name: f.name ? iContains(f.name) : undefined,
          kind: optionalUuid(f.kindId, 'kindId'),
          cluster: envId ? { env: envId, ...compact({ id: optionalUuid(f.clusterId, 'clusterId') }) } : optionalUuid(f.clusterId, 'clusterId'),
          enabled: f.enabled,
          status: f.status,
        });
      },
    });
  }

  /** Kind Owner in the cluster's env. Inserts the deployment and, when enabled, its Install task. */
  async create(ctx: ServiceContext, input: CreateDeploymentInput): Promise<Deployment> {
    return (await this.uow.mutation(ctx, 'createDeployment', (tx, audit) => this.insert(tx, audit, input))).deployment;
  }

  /** `create` inside a caller's mutation (several deployments written as one: src/services/application.service.ts). */
  async insert(tx: ServiceContext, audit: Audit, input: CreateDeploymentInput): Promise<DeploymentWrite> {
    const name = input.name ?? '';
    checkNameSyntax(name);
    const cluster = await findVisible(tx, K8sCluster, input.clusterId, 'input.clusterId');
    const kind = await findVisible(tx, DeploymentKind, input.kindId, 'input.kindId');
    const chart = await findVisible(tx, HelmChart, input.helmChartId, 'input.helmChartId');
    await requireKindRole(tx, cluster.env?.id, kind.id, UserDeploymentRole.Owner);
    const placement = { name, kind, cluster, chart, config: input.config ?? {} };
    await checkPlacement(tx, placement, null);

    const deployment = Object.assign(new Deployment(), {
      name,
      kind,
      cluster,
      helmChart: chart,
      config: placement.config,
      valuesOverride: input.valuesOverride ?? {},
      descriptionMd: input.descriptionMd ?? null,
      enabled: input.enabled ?? true,
      status: DeploymentStatus.Unknown,
    });
    tx.em.persist(deployment);
    const tasks = deployment.enabled ? [newTask(tx, deployment, installOperation(stateOf(deployment, kind)))] : [];
    audit({ targetType: 'Deployment', targetId: deployment.id, envId: cluster.env?.id, after: snapshot(deployment) });
    return { deployment, tasks };
  }

  /** Maintainer of the deployment (in the old and the new cluster's env). Tasks follow Platz's derivation. */
  async update(ctx: ServiceContext, id: string, input: UpdateDeploymentInput): Promise<Deployment> {
    return (await this.uow.mutation(ctx, 'updateDeployment', (tx, audit) => this.change(tx, audit, id, input))).deployment;
  }

  /** `update` inside a caller's mutation. */
  async change(tx: ServiceContext, audit: Audit, id: string, input: UpdateDeploymentInput): Promise<DeploymentWrite> {
    for (const field of ['name', 'clusterId', 'helmChartId', 'config', 'valuesOverride', 'enabled'] as const) {
      if (input[field] === null) throw badInput(`input.${field}`, `input.${field} cannot be null`);
    }
    if (input.name !== undefined) checkNameSyntax(input.name!);

    const { deployment, envId: oldEnvId } = await findDeployment(tx, id, 'id');
    const oldCluster = (await tx.loaders.byId(K8sCluster).load(deployment.cluster.id))!;
    const kind = (await tx.loaders.byId(DeploymentKind).load(deployment.kind.id))!;
    await requireDeploymentMaintainer(tx, deployment, oldEnvId);
    const cluster = input.clusterId ? await findVisible(tx, K8sCluster, input.clusterId, 'input.clusterId') : oldCluster;
    if (cluster !== oldCluster) await requireDeploymentMaintainer(tx, deployment, cluster.env?.id);
    const chart = input.helmChartId
      ? await findVisible(tx, HelmChart, input.helmChartId, 'input.helmChartId')
      : (await tx.loaders.byId(HelmChart).load(deployment.helmChart.id))!;

    const placement = { name: input.name ?? deployment.name, kind, cluster, chart, config: input.config ?? deployment.config };
    const moved = placement.name !== deployment.name || cluster !== oldCluster;
    if (moved || chart.id !== deployment.helmChart.id || input.config) await checkPlacement(tx, placement, moved ? deployment : undefined);

    const before = stateOf(deployment, kind);
    const enabled = input.enabled ?? deployment.enabled;
    if (before.enabled && !enabled) {
      const dependents = (await deploymentsUsing(tx, oldEnvId, { kind: 'deployments', id: deployment.id })).filter((d) => d.enabled);
      if (dependents.length) {
        throw conflict(`This deployment can't be disabled because other deployments depend on it: ${describeDeployments(dependents)}`);
      }
    }

    const old = snapshot(deployment);
    Object.assign(deployment, {
      name: placement.name,
      cluster,
      helmChart: chart,
      config: placement.config,
      valuesOverride: input.valuesOverride ?? deployment.valuesOverride,
      enabled,
      descriptionMd: input.descriptionMd === undefined ? deployment.descriptionMd : input.descriptionMd,
    });
    const derived = deriveUpdateTasks(before, stateOf(deployment, kind), chartFeatures(chart.features));
    // a millisecond apart, so the worker (oldest executeAt first) runs Recreate before its Upgrade
    const now = Date.now();
    const tasks = derived.operations.map((operation, i) => newTask(tx, deployment, operation, { executeAt: new Date(now + i) }));
    if (derived.reinstallDependents) {
      const dependents = await deploymentsUsing(tx, oldEnvId, { kind: 'deployments', id: deployment.id });
      reinstallEnabled(tx, dependents, `The ${before.name} deployment has been updated`);
    }
    audit({ targetType: 'Deployment', targetId: deployment.id, envId: cluster.env?.id, before: old, after: snapshot(deployment) });
    return { deployment, tasks };
  }

  /** Kind Owner. Marks it Deleting with an Uninstall task; the worker removes the row once uninstalled. */
  async delete(ctx: ServiceContext, id: string): Promise<Deployment> {
    return (await this.uow.mutation(ctx, 'deleteDeployment', (tx, audit) => this.remove(tx, audit, id))).deployment;
  }

  /** `delete` inside a caller's mutation. */
  async remove(tx: ServiceContext, audit: Audit, id: string): Promise<DeploymentWrite> {
    const { deployment, envId } = await findDeployment(tx, id, 'id');
    await requireKindRole(tx, envId, deployment.kind.id, UserDeploymentRole.Owner);
    if (deployment.status === DeploymentStatus.Deleting) throw conflict('This deployment is already being deleted');
    const dependents = await deploymentsUsing(tx, envId, { kind: 'deployments', id: deployment.id });
    if (dependents.length) {
      throw conflict(`This deployment can't be deleted because other deployments depend on it: ${describeDeployments(dependents)}`);
    }
    const old = snapshot(deployment);
    deployment.status = DeploymentStatus.Deleting;
    const task = newTask(tx, deployment, { Uninstall: {} });
    audit({ targetType: 'Deployment', targetId: deployment.id, envId, before: old, after: snapshot(deployment) });
    return { deployment, tasks: [task] };
  }

  /**
   * Berth's cluster watch reports the deployments whose namespaces exist in a cluster (after a list, and when one
   * goes). A deployment being deleted whose namespace is gone is deleted (its tasks and K8s resources with it; its
   * deployment resources stay, without a deployment); one being uninstalled becomes Uninstalled (platz.md section 6).
   */
  settleNamespaces(ctx: ServiceContext, clusterId: string, present: string[]): Promise<number> {
    return this.uow.mutation(ctx, 'settleNamespaces', async (tx, audit) => {
      requireSystem(tx);
      const waiting = await tx.em.find(Deployment, {
        cluster: clusterId,
        status: { $in: [DeploymentStatus.Deleting, DeploymentStatus.Uninstalling] },
        id: { $nin: present },
      }, { populate: ['cluster'] });
      for (const deployment of waiting) {
        const before = snapshot(deployment);
        const envId = deployment.cluster.env?.id;
        if (deployment.status === DeploymentStatus.Deleting) {
          audit({ targetType: 'Deployment', targetId: deployment.id, envId, before });
          tx.em.remove(deployment);
        } else {
          deployment.status = DeploymentStatus.Uninstalled;
          audit({ targetType: 'Deployment', targetId: deployment.id, envId, before, after: snapshot(deployment) });
        }
      }
      return waiting.length;
    });
  }

  /**
   * What a deployment says of itself (its chart's status endpoint, polled by the reported-status worker), kept only
   * while it is enabled: false when it is not (disabled or deleted meanwhile). Not audited: it is the deployment's
   * word, asked every few seconds, and its changes are in the event log, as mirrored K8s objects' are.
   */
  reportStatus(ctx: ServiceContext, id: string, status: Record<string, unknown>): Promise<boolean> {
    return this.uow.mutation(ctx, 'reportDeploymentStatus', async (tx) => {
      requireSystem(tx);
      // one statement: a deployment disabled meanwhile does not get a status back
      return (await tx.em.nativeUpdate(Deployment, { id, enabled: true }, { reportedStatus: status })) > 0;
    });
  }

  /** Clears the reported status of disabled deployments, as Platz does; returns how many there were. */
  async clearReportedStatus(ctx: ServiceContext): Promise<number> {
    requireSystem(ctx);
    const where = { enabled: false, reportedStatus: { $ne: null } };
    // asked on every round of the poller, and there is usually none: no transaction (nor event lock) for nothing
    if (!(await ctx.em.count(Deployment, where))) return 0;
    return this.uow.mutation(ctx, 'clearReportedStatus', async (tx) => {
      requireSystem(tx);
      return tx.em.nativeUpdate(Deployment, where, { reportedStatus: null });
    });
  }

  /**
   * Where the deployments' credentials go: enabled deployments whose namespace Berth has made (or is making), with
   * their namespace and cluster; all of them, or those of `ids`.
   */
  async withNamespaces(ctx: ServiceContext, ids?: string[]): Promise<{ id: string; namespace: string; clusterId: string }[]> {
    requireSystem(ctx);
    const deployments = await ctx.em.find(
      Deployment,
      {
        ...(ids ? { id: { $in: ids } } : {}),
        enabled: true,
        status: { $in: [DeploymentStatus.Installing, DeploymentStatus.Upgrading, DeploymentStatus.Renaming, DeploymentStatus.Running, DeploymentStatus.Error] },
      },
      { populate: ['kind'] },
    );
    return deployments.map((d) => ({ id: d.id, namespace: namespaceOf(d.kind.name, d.name), clusterId: d.cluster.id }));
  }
}

function checkNameSyntax(name: string): void {
  if (name && !DNS_LABEL.test(name)) {
    throw badInput('input.name', 'input.name must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit');
  }
}

/**
 * The rules on where a deployment goes, all before anything is written: namespace length, the
 * chart's kind, cardinality, uniqueness (`self` is the deployment being moved or renamed; null for a
 * new one; undefined skips uniqueness when neither cluster nor name changes) and the config.
 */
async function checkPlacement(tx: ServiceContext, p: Placement, self: Deployment | null | undefined): Promise<void> {
  const namespace = namespaceOf(p.kind.name, p.name);
  if (namespace.length > 63) throw badInput('input.name', `The namespace ${namespace} would be longer than 63 characters`);
  const registry = await tx.loaders.byId(HelmRegistry).load(p.chart.helmRegistry.id);
  if (registry?.kind.id !== p.kind.id) throw badInput('input.helmChartId', `This chart is not a chart of the ${p.kind.name} kind`);
  const { cardinality } = chartFeatures(p.chart.features);
  if (cardinality === Cardinality.Many && !p.name) throw badInput('input.name', 'A name is required: this chart allows many deployments per cluster');
  if (cardinality === Cardinality.OnePerCluster && p.name) throw badInput('input.name', 'This chart is deployed once per cluster, so its deployment cannot have a name');
  await validateConfig(tx, p.chart, p.config, p.cluster.env?.id ?? null);
  if (self === undefined) return;
  const others = { cluster: p.cluster.id, kind: p.kind.id, ...(self ? { id: { $ne: self.id } } : {}) };
  if (cardinality === Cardinality.OnePerCluster && (await tx.em.count(Deployment, others))) {
    throw conflict(`A ${p.kind.name} deployment already exists in this cluster, and its chart allows only one`);
  }
  if (await tx.em.count(Deployment, { ...others, name: p.name })) {
    throw conflict(`A ${p.kind.name} deployment named "${p.name}" already exists in this cluster`);
  }
}

function stateOf(d: Deployment, kind: DeploymentKind): DeploymentState {
  return {
    name: d.name,
    clusterId: d.cluster.id,
    namespace: namespaceOf(kind.name, d.name),
    enabled: d.enabled,
    helmChartId: d.helmChart.id,
    config: d.config,
    valuesOverride: d.valuesOverride,
  };
}
