import { isDeepStrictEqual } from 'node:util';
import { LockMode } from '@mikro-orm/core';
import { Field, ID, InputType } from 'type-graphql';
import { GraphQLJSONObject } from '../util/json-scalars.js';
import { DeploymentKind, DeploymentResource, DeploymentResourceType, K8sCluster } from '../entities/index.js';
import { DeploymentResourceSyncStatus } from '../entities/enums.js';
import { uiInputs } from '../deployments/chart-ext.js';
import { findMaintainedDeployment } from '../deployments/access.js';
import { deploymentsUsing } from '../deployments/dependencies.js';
import { reinstallEnabled } from '../deployments/tasks.js';
import { badInput, conflict } from '../errors/domain-error.js';
import { findVisible, requireSiteAdmin, requireSystem } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
import { compact, optionalUuid } from '../request/where.js';
import { ReadService } from './read-service.js';
import { isJsonObject } from '../util/json.js';

@InputType()
export class DeploymentResourceFilter {
  @Field(() => ID, { nullable: true }) typeId?: string;
  @Field(() => ID, { nullable: true }) deploymentId?: string;
  @Field(() => ID, { nullable: true, description: "the resource type's env" }) envId?: string;
  @Field({ nullable: true, description: 'false lists deleted resources' }) exists?: boolean;
  @Field(() => DeploymentResourceSyncStatus, { nullable: true }) syncStatus?: DeploymentResourceSyncStatus;
}

@InputType()
export class CreateDeploymentResourceInput {
  @Field(() => ID) typeId!: string;
  @Field(() => ID, { description: 'the deployment that owns (and syncs) the resource' }) deploymentId!: string;
  @Field() name!: string;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'default {}' }) props?: Record<string, unknown> | null;
}

@InputType({ description: 'fields left out are unchanged' })
export class UpdateDeploymentResourceInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'deep-merged into the current props' }) props?: Record<string, unknown> | null;
}

export class DeploymentResourceService extends ReadService<DeploymentResource, DeploymentResourceFilter> {
  constructor(private readonly uow: UnitOfWork) {
    super({
      entity: DeploymentResource,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => {
        const envId = optionalUuid(f.envId, 'envId');
        const typeId = optionalUuid(f.typeId, 'typeId');
        return compact({
          type: envId ? { env: envId, ...compact({ id: typeId }) } : typeId,
          deployment: optionalUuid(f.deploymentId, 'deploymentId'),
          exists: f.exists,
          syncStatus: f.syncStatus,
        });
      },
    });
  }

  /**
   * A visible resource's props as every API shows them: without those its type marks sensitive. The type is read
   * outside the caller's scope: it only decides what to hide and is not shown, and a resource whose deployment moved to
   * another env than its type's must still show its props (its type always exists: the foreign key cascades).
   */
  async shownProps(ctx: ServiceContext, resource: DeploymentResource): Promise<Record<string, unknown>> {
    const type = (await ctx.loaders.rowById(DeploymentResourceType, null).load(resource.type.id))!;
    return visibleProps(resource.props, type.spec);
  }

  /** Maintainer of the owning deployment; the worker syncs it (Creating). */
  create(ctx: ServiceContext, input: CreateDeploymentResourceInput): Promise<DeploymentResource> {
    return this.uow.mutation(ctx, 'createDeploymentResource', async (tx, audit) => {
      checkName(input.name);
      const type = await findVisible(tx, DeploymentResourceType, input.typeId, 'input.typeId');
      const { deployment, envId } = await findMaintainedDeployment(tx, input.deploymentId, 'input.deploymentId');
      if (type.env && type.env.id !== envId) throw badInput('input.typeId', "The resource type belongs to another env than the deployment's");
      await checkUnique(tx, type.id, input.name);
      const resource = Object.assign(new DeploymentResource(), {
        type,
        deployment,
        name: input.name,
        props: input.props ?? {},
        syncStatus: DeploymentResourceSyncStatus.Creating,
      });
      tx.em.persist(resource);
      audit({ targetType: 'DeploymentResource', targetId: resource.id, envId, after: resourceSnapshot(resource, type) });
      return resource;
    });
  }

  /** Maintainer. Props are deep-merged; a changed name or props reinstalls the enabled deployments that use it. */
  update(ctx: ServiceContext, id: string, input: UpdateDeploymentResourceInput): Promise<DeploymentResource> {
    return this.uow.mutation(ctx, 'updateDeploymentResource', async (tx, audit) => {
      if (input.name !== undefined && input.name !== null) checkName(input.name);
      const { resource, type, envId } = await findMaintainedResource(tx, id);
      if (input.name && input.name !== resource.name) await checkUnique(tx, type.id, input.name);
      const old = resourceSnapshot(resource, type);
      const name = input.name || resource.name;
      const props = input.props ? deepMerge(resource.props, input.props) : resource.props;
      const changed = name !== resource.name || !isDeepStrictEqual(props, resource.props);
      // a new sync starts: the last one's failure no longer says anything (Platz clears it too)
      Object.assign(resource, { name, props, syncStatus: DeploymentResourceSyncStatus.Updating, syncReason: null });
      if (changed) {
        const kind = (await tx.loaders.byId(DeploymentKind).load(type.deploymentKind.id))!;
        const users = await deploymentsUsing(tx, type.env?.id, { kind: 'resources', id: resource.id, deploymentKind: kind.name, typeKey: type.key });
        reinstallEnabled(tx, users, `${type.key} ${name} updated`);
      }
      audit({ targetType: 'DeploymentResource', targetId: resource.id, envId, before: old, after: resourceSnapshot(resource, type) });
      return resource;
    });
  }

  /** Maintainer. A soft delete: the worker deletes it remotely (Deleting), then sets exists = false. */
  delete(ctx: ServiceContext, id: string): Promise<DeploymentResource> {
    return this.uow.mutation(ctx, 'deleteDeploymentResource', async (tx, audit) => {
      const { resource, type, envId } = await findMaintainedResource(tx, id);
      if (!resource.exists) throw conflict('This resource has already been deleted');
      const old = resourceSnapshot(resource, type);
      Object.assign(resource, { syncStatus: DeploymentResourceSyncStatus.Deleting, syncReason: null });
      audit({ targetType: 'DeploymentResource', targetId: resource.id, envId, before: old, after: resourceSnapshot(resource, type) });
      return resource;
    });
  }

  /** The resources the sync worker has to call their deployment for (Creating, Updating, Deleting), oldest first. */
  async unsynced(ctx: ServiceContext): Promise<string[]> {
    requireSystem(ctx);
    const rows = await ctx.em.find(DeploymentResource, { syncStatus: { $in: UNSYNCED } }, { fields: ['id'], orderBy: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map((r) => r.id);
  }

  /** A resource the sync worker is to call for, with its type; null once it needs nothing (synced, or gone). */
  async syncable(ctx: ServiceContext, id: string): Promise<DeploymentResource | null> {
    requireSystem(ctx);
    return ctx.em.findOne(DeploymentResource, { id, syncStatus: { $in: UNSYNCED } }, { populate: ['type'] });
  }

  /**
   * How the sync worker's call for `seen` ended (Platz's resource-sync): Ready (a delete also sets exists = false),
   * or Error with why; audited as the system. Only if the resource is still as the worker saw it: false when it
   * changed meanwhile (updated, deleted), which leaves it to the next sync.
   */
  recordSync(ctx: ServiceContext, seen: DeploymentResource, failure: string | null): Promise<boolean> {
    return this.uow.mutation(ctx, 'syncDeploymentResource', async (tx, audit) => {
      requireSystem(tx);
      const resource = await tx.em.findOne(DeploymentResource, seen.id, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!resource || resource.syncStatus !== seen.syncStatus || resource.name !== seen.name || !isDeepStrictEqual(resource.props, seen.props)) return false;
      await tx.em.populate(resource, ['type', 'deployment']);
      const cluster = resource.deployment && (await tx.loaders.byId(K8sCluster).load(resource.deployment.cluster.id));
      const old = resourceSnapshot(resource, resource.type);
      if (failure !== null) Object.assign(resource, { syncStatus: DeploymentResourceSyncStatus.Error, syncReason: failure.slice(0, 10_000) });
      else Object.assign(resource, { syncStatus: DeploymentResourceSyncStatus.Ready, syncReason: null, exists: resource.exists && seen.syncStatus !== DeploymentResourceSyncStatus.Deleting });
      const envId = cluster?.env?.id ?? resource.type.env?.id ?? null;
      audit({ targetType: 'DeploymentResource', targetId: resource.id, envId, before: old, after: resourceSnapshot(resource, resource.type) });
      return true;
    });
  }
}

const UNSYNCED = [DeploymentResourceSyncStatus.Creating, DeploymentResourceSyncStatus.Updating, DeploymentResourceSyncStatus.Deleting];

function checkName(name: string): void {
  if (!name.trim()) throw badInput('input.name', 'input.name must not be empty');
}

async function checkUnique(tx: ServiceContext, typeId: string, name: string): Promise<void> {
  if (await tx.em.count(DeploymentResource, { type: typeId, name })) {
    throw conflict(`A resource named "${name}" of this type already exists`);
  }
}

/**
 * A resource with its type, once the caller is known to maintain it: the owning deployment's
 * Maintainers; a resource whose deployment is gone is left to site admins (only they can see it).
 */
async function findMaintainedResource(tx: ServiceContext, id: string) {
  const resource = await findVisible(tx, DeploymentResource, id);
  const type = (await tx.loaders.byId(DeploymentResourceType).load(resource.type.id))!;
  if (!resource.deployment) {
    await requireSiteAdmin(tx);
    return { resource, type, envId: type.env?.id ?? null };
  }
  const { envId } = await findMaintainedDeployment(tx, resource.deployment.id, 'id');
  return { resource, type, envId };
}

/** The audit snapshot, without the props the type marks sensitive. */
function resourceSnapshot(resource: DeploymentResource, type: DeploymentResourceType): Record<string, unknown> {
  return { ...snapshot(resource, ['props']), props: visibleProps(resource.props, type.spec) };
}

/** Objects merge key by key, recursively; any other value replaces what was there. */
function deepMerge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...base };
  for (const [key, value] of Object.entries(patch)) merged[key] = isJsonObject(value) && isJsonObject(merged[key]) ? deepMerge(merged[key], value) : value;
  return merged;
}

/** Props without the sensitive ones, for every API response (Platz stripped them on GET only). */
export function visibleProps(props: Record<string, unknown>, typeSpec: unknown): Record<string, unknown> {
  // the resource type's spec carries a values_ui of its own (chart-ext ResourceType)
  const hidden = new Set(uiInputs((typeSpec as { values_ui?: unknown } | null)?.values_ui).filter((i) => i.sensitive === true).map((i) => i.id));
  return Object.fromEntries(Object.entries(props).filter(([key]) => !hidden.has(key)));
}
