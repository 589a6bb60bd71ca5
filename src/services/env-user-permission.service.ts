import { Field, ID, InputType } from 'type-graphql';
import { EnvUserPermission } from '../entities/index.js';
import { EnvUserRole } from '../entities/enums.js';
import { compact, optionalUuid, ReadService } from './read-service.js';

@InputType()
export class EnvUserPermissionFilter {
  @Field(() => ID, { nullable: true }) envId?: string;
  @Field(() => ID, { nullable: true }) userId?: string;
  @Field(() => ID, { nullable: true }) botId?: string;
  @Field(() => EnvUserRole, { nullable: true }) role?: EnvUserRole;
}

export class EnvUserPermissionService extends ReadService<EnvUserPermission, EnvUserPermissionFilter> {
  constructor() {
    super({
      entity: EnvUserPermission,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) =>
        compact({
          env: optionalUuid(f.envId, 'filter.envId'),
          user: optionalUuid(f.userId, 'filter.userId'),
          bot: optionalUuid(f.botId, 'filter.botId'),
          role: f.role,
        }),
    });
  }
}
