import { Field, ID, InputType } from 'type-graphql';
import { DeploymentPermission } from '../entities/index.js';
import { UserDeploymentRole } from '../entities/enums.js';
import { EnvGrantFilter, envGrantWhere } from './env-grant.filter.js';
import { compact, optionalUuid, ReadService } from './read-service.js';

@InputType()
export class DeploymentPermissionFilter extends EnvGrantFilter {
  @Field(() => ID, { nullable: true }) kindId?: string;
  @Field(() => UserDeploymentRole, { nullable: true }) role?: UserDeploymentRole;
}

export class DeploymentPermissionService extends ReadService<DeploymentPermission, DeploymentPermissionFilter> {
  constructor() {
    super({
      entity: DeploymentPermission,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => compact({ ...envGrantWhere(f), kind: optionalUuid(f.kindId, 'filter.kindId'), role: f.role }),
    });
  }
}
