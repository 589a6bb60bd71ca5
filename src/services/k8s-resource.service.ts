import { Field, ID, InputType } from 'type-graphql';
import { K8sResource } from '../entities/index.js';
import { compact, iEquals, optionalUuid } from '../request/where.js';
import { ReadService } from './read-service.js';

@InputType()
export class K8sResourceFilter {
  @Field(() => ID, { nullable: true }) clusterId?: string;
  @Field(() => ID, { nullable: true }) deploymentId?: string;
  @Field({ nullable: true, description: 'case-insensitive, exact' }) kind?: string;
  @Field({ nullable: true, description: 'case-insensitive, exact' }) name?: string;
}

export class K8sResourceService extends ReadService<K8sResource, K8sResourceFilter> {
  constructor() {
    super({
      entity: K8sResource,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) =>
        compact({
          cluster: optionalUuid(f.clusterId, 'filter.clusterId'),
          deployment: optionalUuid(f.deploymentId, 'filter.deploymentId'),
          kind: f.kind ? iEquals(f.kind) : undefined,
          name: f.name ? iEquals(f.name) : undefined,
        }),
    });
  }
}
