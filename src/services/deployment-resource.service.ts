import { Field, ID, InputType } from 'type-graphql';
import { DeploymentResource } from '../entities/index.js';
import { DeploymentResourceSyncStatus } from '../entities/enums.js';
import { compact, optionalUuid, ReadService } from './read-service.js';

@InputType()
export class DeploymentResourceFilter {
  @Field(() => ID, { nullable: true }) typeId?: string;
  @Field(() => ID, { nullable: true }) deploymentId?: string;
  @Field(() => ID, { nullable: true, description: "the resource type's env" }) envId?: string;
  @Field({ nullable: true, description: 'false lists deleted resources' }) exists?: boolean;
  @Field(() => DeploymentResourceSyncStatus, { nullable: true }) syncStatus?: DeploymentResourceSyncStatus;
}

export class DeploymentResourceService extends ReadService<DeploymentResource, DeploymentResourceFilter> {
  constructor() {
    super({
      entity: DeploymentResource,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => {
        const envId = optionalUuid(f.envId, 'filter.envId');
        const typeId = optionalUuid(f.typeId, 'filter.typeId');
        return compact({
          type: envId ? { env: envId, ...compact({ id: typeId }) } : typeId,
          deployment: optionalUuid(f.deploymentId, 'filter.deploymentId'),
          exists: f.exists,
          syncStatus: f.syncStatus,
        });
      },
    });
  }
}

/** The ids of the inputs a resource type's values_ui marks `sensitive` (chart-ext ResourceType spec). */
export function sensitiveInputIds(spec: unknown): Set<string> {
  const inputs = (spec as { values_ui?: { inputs?: unknown } } | null)?.values_ui?.inputs;
  if (!Array.isArray(inputs)) return new Set();
  return new Set(
    inputs
      .filter((i): i is { id: string; sensitive: true } => typeof i === 'object' && i !== null && (i as { sensitive?: unknown }).sensitive === true)
      .map((i) => i.id),
  );
}

/** Props without the sensitive ones, for every API response (Platz stripped them on GET only). */
export function visibleProps(props: Record<string, unknown>, typeSpec: unknown): Record<string, unknown> {
  const hidden = sensitiveInputIds(typeSpec);
  return Object.fromEntries(Object.entries(props).filter(([key]) => !hidden.has(key)));
}
