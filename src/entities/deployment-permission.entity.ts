import { Check, Entity, Enum, ManyToOne, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';
import { Bot } from './bot.entity.js';
import { DeploymentKind } from './deployment-kind.entity.js';
import { Env } from './env.entity.js';
import { UserDeploymentRole } from './enums.js';
import { User } from './user.entity.js';

/** A deployment-kind role (Owner or Maintainer) in one env, held by a user or a bot. */
@ObjectType()
@Entity({ tableName: 'deployment_permissions' })
@Unique({ properties: ['env', 'user', 'kind'] })
@Unique({ properties: ['env', 'bot', 'kind'] })
@Check({ name: 'deployment_permissions_one_identity', expression: '(user_id is null) <> (bot_id is null)' })
export class DeploymentPermission extends BaseEntity {
  @ManyToOne(() => Env, { deleteRule: 'cascade' })
  env!: Env;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'cascade' })
  user?: User | null;

  @ManyToOne(() => Bot, { nullable: true, deleteRule: 'cascade' })
  bot?: Bot | null;

  @ManyToOne(() => DeploymentKind, { deleteRule: 'cascade' })
  kind!: DeploymentKind;

  @Field(() => UserDeploymentRole)
  @Enum({ items: () => UserDeploymentRole, nativeEnumName: 'user_deployment_role' })
  role!: UserDeploymentRole;
}
