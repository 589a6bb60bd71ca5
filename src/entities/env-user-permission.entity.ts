import { Check, Entity, Enum, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { EnvGrantBase } from './env-grant.base.js';
import { EnvUserRole } from './enums.js';

/** An env role (Admin or User) held by a user or a bot. */
@ObjectType()
@Entity({ tableName: 'env_user_permissions' })
@Unique({ properties: ['env', 'user'] })
@Unique({ properties: ['env', 'bot'] })
@Check({ name: 'env_user_permissions_one_identity', expression: '(user_id is null) <> (bot_id is null)' })
export class EnvUserPermission extends EnvGrantBase {
  @Field(() => EnvUserRole)
  @Enum({ items: () => EnvUserRole, nativeEnumName: 'env_user_role' })
  role!: EnvUserRole;
}
