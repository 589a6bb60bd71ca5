import { Field, ID, InputType } from 'type-graphql';
import { Deployment } from '../entities/index.js';
import { DeploymentStatus } from '../entities/enums.js';
import { compact, iContains, optionalUuid, ReadService } from './read-service.js';

@InputType()
export class DeploymentFilter {
  @Field({ nullable: true, description: 'case-insensitive substring' }) name?: string;
  @Field(() => ID, { nullable: true }) kindId?: string;
  @Field(() => ID, { nullable: true }) clusterId?: string;
  @Field(() => ID, { nullable: true, description: "the cluster's env" }) envId?: string;
  @Field({ nullable: true }) enabled?: boolean;
  @Field(() => DeploymentStatus, { nullable: true }) status?: DeploymentStatus;
}

export class DeploymentService extends ReadService<Deployment, DeploymentFilter> {
  constructor() {
    super({
      entity: Deployment,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => {
        const envId = optionalUuid(f.envId, 'filter.envId');
        return compact({
          name: f.name ? iContains(f.name) : undefined,
          kind: optionalUuid(f.kindId, 'filter.kindId'),
          cluster: envId ? { env: envId, ...compact({ id: optionalUuid(f.clusterId, 'filter.clusterId') }) } : optionalUuid(f.clusterId, 'filter.clusterId'),
          enabled: f.enabled,
          status: f.status,
        });
      },
    });
  }
}
