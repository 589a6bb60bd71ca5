import { Field, ID, InputType } from 'type-graphql';
import { DeploymentPermission } from '../entities/index.js';
import { UserDeploymentRole } from '../entities/enums.js';
import { compact, optionalUuid, ReadService } from './read-service.js';

@InputType()
export class DeploymentPermissionFilter {
  @Field(() => ID, { nullable: true }) envId?: string;
  @Field(() => ID, { nullable: true }) userId?: string;
  @Field(() => ID, { nullable: true }) botId?: string;
  @Field(() => ID, { nullable: true }) kindId?: string;
  @Field(() => UserDeploymentRole, { nullable: true }) role?: UserDeploymentRole;
}

export class DeploymentPermissionService extends ReadService<DeploymentPermission, DeploymentPermissionFilter> {
  constructor() {
    super({
      entity: DeploymentPermission,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) =>
        compact({
          env: optionalUuid(f.envId, 'filter.envId'),
          user: optionalUuid(f.userId, 'filter.userId'),
          bot: optionalUuid(f.botId, 'filter.botId'),
          kind: optionalUuid(f.kindId, 'filter.kindId'),
          role: f.role,
        }),
    });
  }
}
