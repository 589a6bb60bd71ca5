import { Field, ID, InputType } from 'type-graphql';
import { BotToken } from '../entities/index.js';
import { compact, optionalUuid, ReadService } from './read-service.js';

@InputType()
export class BotTokenFilter {
  @Field(() => ID, { nullable: true }) botId?: string;
  @Field(() => ID, { nullable: true }) createdByUserId?: string;
}

export class BotTokenService extends ReadService<BotToken, BotTokenFilter> {
  constructor() {
    super({
      entity: BotToken,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) => compact({ bot: optionalUuid(f.botId, 'filter.botId'), createdByUser: optionalUuid(f.createdByUserId, 'filter.createdByUserId') }),
    });
  }
}
