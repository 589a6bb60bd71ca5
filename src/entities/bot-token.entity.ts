import { Entity, ManyToOne } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import { ApiTokenBase } from './api-token.base.js';
import { Bot } from './bot.entity.js';
import { User } from './user.entity.js';

/** An API token of a bot, created by a site admin. */
@ObjectType()
@Entity({ tableName: 'bot_tokens' })
export class BotToken extends ApiTokenBase {
  @ManyToOne(() => Bot, { deleteRule: 'cascade' })
  bot!: Bot;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  createdByUser?: User | null;
}
