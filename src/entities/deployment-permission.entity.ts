import { Check, Entity, Enum, ManyToOne, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { DeploymentKind } from './deployment-kind.entity.js';
import { EnvGrantBase } from './env-grant.base.js';
import { UserDeploymentRole } from './enums.js';

/** A deployment-kind role (Owner or Maintainer) in one env, held by a user or a bot. */
@ObjectType()
@Entity({ tableName: 'deployment_permissions' })
@Unique({ properties: ['env', 'user', 'kind'] })
@Unique({ properties: ['env', 'bot', 'kind'] })
@Check({ name: 'deployment_permissions_one_identity', expression: '(user_id is null) <> (bot_id is null)' })
export class DeploymentPermission extends EnvGrantBase {
  @ManyToOne(() => DeploymentKind, { deleteRule: 'cascade' })
  kind!: DeploymentKind;

  @Field(() => UserDeploymentRole)
  @Enum({ items: () => UserDeploymentRole, nativeEnumName: 'user_deployment_role' })
  role!: UserDeploymentRole;
}
