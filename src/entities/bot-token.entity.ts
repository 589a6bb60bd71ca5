import { Entity, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';
import { Bot } from './bot.entity.js';
import { User } from './user.entity.js';

/** An API token of a bot, created by a site admin; stored like a user token. */
@ObjectType()
@Entity({ tableName: 'bot_tokens' })
export class BotToken extends BaseEntity {
  @ManyToOne(() => Bot, { deleteRule: 'cascade' })
  bot!: Bot;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  createdByUser?: User | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  name?: string | null;

  @Property({ type: 'text', hidden: true })
  secretHash!: string;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  expiresAt?: Date | null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  lastUsedAt?: Date | null;
}
