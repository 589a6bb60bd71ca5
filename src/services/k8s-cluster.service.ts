import { Field, ID, InputType } from 'type-graphql';
import { K8sCluster } from '../entities/index.js';
import { compact, iEquals, optionalUuid, ReadService } from './read-service.js';

@InputType()
export class K8sClusterFilter {
  @Field(() => ID, { nullable: true }) envId?: string;
  @Field({ nullable: true, description: 'case-insensitive, exact' }) name?: string;
  @Field({ nullable: true }) ignore?: boolean;
  @Field({ nullable: true }) isOk?: boolean;
}

export class K8sClusterService extends ReadService<K8sCluster, K8sClusterFilter> {
  constructor() {
    super({
      entity: K8sCluster,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) =>
        compact({ env: optionalUuid(f.envId, 'filter.envId'), name: f.name ? iEquals(f.name) : undefined, ignore: f.ignore, isOk: f.isOk }),
    });
  }
}
