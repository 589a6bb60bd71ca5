import { Field, ID, InputType } from 'type-graphql';
import { UserToken } from '../entities/index.js';
import { compact, optionalUuid, ReadService } from './read-service.js';

@InputType()
export class UserTokenFilter {
  @Field(() => ID, { nullable: true }) userId?: string;
}

export class UserTokenService extends ReadService<UserToken, UserTokenFilter> {
  constructor() {
    super({ entity: UserToken, order: [{ field: 'createdAt', direction: 'ASC' }], where: (f) => compact({ user: optionalUuid(f.userId, 'filter.userId') }) });
  }
}
