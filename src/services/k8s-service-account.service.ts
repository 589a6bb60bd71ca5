import { Field, ID, InputType } from 'type-graphql';
import { K8sServiceAccount } from '../entities/index.js';
import { compact, iEquals, optionalUuid } from '../request/where.js';
import { ReadService } from './read-service.js';

@InputType()
export class K8sServiceAccountFilter {
  @Field(() => ID, { nullable: true }) namespaceId?: string;
  @Field({ nullable: true, description: 'case-insensitive, exact' }) name?: string;
}

export class K8sServiceAccountService extends ReadService<K8sServiceAccount, K8sServiceAccountFilter> {
  constructor() {
    super({
      entity: K8sServiceAccount,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => compact({ namespace: optionalUuid(f.namespaceId, 'namespaceId'), name: f.name ? iEquals(f.name) : undefined }),
    });
  }
}
