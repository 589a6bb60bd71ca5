import { Field, ID, InputType } from 'type-graphql';
import { DeploymentResourceType } from '../entities/index.js';
import { compact, optionalUuid } from '../request/where.js';
import { ReadService } from './read-service.js';

@InputType()
export class DeploymentResourceTypeFilter {
  @Field(() => ID, { nullable: true }) envId?: string;
  @Field(() => ID, { nullable: true }) deploymentKindId?: string;
  @Field({ nullable: true, description: 'exact' }) key?: string;
}

export class DeploymentResourceTypeService extends ReadService<DeploymentResourceType, DeploymentResourceTypeFilter> {
  constructor() {
    super({
      entity: DeploymentResourceType,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) =>
        compact({
          env: optionalUuid(f.envId, 'envId'),
          deploymentKind: optionalUuid(f.deploymentKindId, 'deploymentKindId'),
          key: f.key,
        }),
    });
  }
}
