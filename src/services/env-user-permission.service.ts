import { Field, InputType } from 'type-graphql';
import { EnvUserPermission } from '../entities/index.js';
import { EnvUserRole } from '../entities/enums.js';
import { EnvGrantFilter, envGrantWhere } from './env-grant.filter.js';
import { compact, ReadService } from './read-service.js';

@InputType()
export class EnvUserPermissionFilter extends EnvGrantFilter {
  @Field(() => EnvUserRole, { nullable: true }) role?: EnvUserRole;
}

export class EnvUserPermissionService extends ReadService<EnvUserPermission, EnvUserPermissionFilter> {
  constructor() {
    super({
      entity: EnvUserPermission,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => compact({ ...envGrantWhere(f), role: f.role }),
    });
  }
}
