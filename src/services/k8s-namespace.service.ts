import { Field, ID, InputType } from 'type-graphql';
import { K8sNamespace } from '../entities/index.js';
import { compact, iEquals, optionalUuid } from '../request/where.js';
import { ReadService } from './read-service.js';

@InputType()
export class K8sNamespaceFilter {
  @Field(() => ID, { nullable: true }) clusterId?: string;
  @Field({ nullable: true, description: 'case-insensitive, exact' }) name?: string;
  @Field({ nullable: true }) visible?: boolean;
}

export class K8sNamespaceService extends ReadService<K8sNamespace, K8sNamespaceFilter> {
  constructor() {
    super({
      entity: K8sNamespace,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) =>
        compact({ cluster: optionalUuid(f.clusterId, 'clusterId'), name: f.name ? iEquals(f.name) : undefined, visible: f.visible }),
    });
  }
}
