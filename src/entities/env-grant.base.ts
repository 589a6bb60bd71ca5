import { ManyToOne } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';
import { Bot } from './bot.entity.js';
import { Env } from './env.entity.js';
import { User } from './user.entity.js';

/** A role in one env held by exactly one identity, a user or a bot (each table checks "exactly one"). */
@ObjectType()
export abstract class EnvGrantBase extends BaseEntity {
  @ManyToOne(() => Env, { deleteRule: 'cascade' })
  env!: Env;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'cascade' })
  user?: User | null;

  @ManyToOne(() => Bot, { nullable: true, deleteRule: 'cascade' })
  bot?: Bot | null;
}
