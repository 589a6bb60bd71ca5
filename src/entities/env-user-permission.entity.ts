import { Check, Entity, Enum, ManyToOne, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';
import { Bot } from './bot.entity.js';
import { Env } from './env.entity.js';
import { EnvUserRole } from './enums.js';
import { User } from './user.entity.js';

/** An env role held by a user or a bot. */
@ObjectType()
@Entity({ tableName: 'env_user_permissions' })
@Unique({ properties: ['env', 'user'] })
@Unique({ properties: ['env', 'bot'] })
@Check({ name: 'env_user_permissions_one_identity', expression: '(user_id is null) <> (bot_id is null)' })
export class EnvUserPermission extends BaseEntity {
  @ManyToOne(() => Env, { deleteRule: 'cascade' })
  env!: Env;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'cascade' })
  user?: User | null;

  @ManyToOne(() => Bot, { nullable: true, deleteRule: 'cascade' })
  bot?: Bot | null;

  @Field(() => EnvUserRole)
  @Enum({ items: () => EnvUserRole, nativeEnumName: 'env_user_role' })
  role!: EnvUserRole;
}
