import { Field, InputType } from 'type-graphql';
import { Bot } from '../entities/index.js';
import { compact, iContains, ReadService } from './read-service.js';

@InputType()
export class BotFilter {
  @Field({ nullable: true, description: 'case-insensitive substring' }) displayName?: string;
}

export class BotService extends ReadService<Bot, BotFilter> {
  constructor() {
    super({ entity: Bot, order: [{ field: 'createdAt', direction: 'ASC' }], where: (f) => compact({ displayName: f.displayName ? iContains(f.displayName) : undefined }) });
  }
}
