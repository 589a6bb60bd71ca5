import { Field, InputType } from 'type-graphql';
import { DeploymentKind } from '../entities/index.js';
import { compact, ReadService } from './read-service.js';

@InputType()
export class DeploymentKindFilter {
  @Field({ nullable: true, description: 'exact' }) name?: string;
}

export class DeploymentKindService extends ReadService<DeploymentKind, DeploymentKindFilter> {
  constructor() {
    super({ entity: DeploymentKind, order: [{ field: 'createdAt', direction: 'ASC' }], where: (f) => compact({ name: f.name }) });
  }
}
