import { Field, ID, InputType } from 'type-graphql';
import { optionalUuid, type Where } from './read-service.js';

/** Filters shared by the two kinds of env grant (env user permissions and deployment permissions). */
@InputType()
export class EnvGrantFilter {
  @Field(() => ID, { nullable: true }) envId?: string;
  @Field(() => ID, { nullable: true }) userId?: string;
  @Field(() => ID, { nullable: true }) botId?: string;
}

export function envGrantWhere(f: EnvGrantFilter): Where {
  return {
    env: optionalUuid(f.envId, 'filter.envId'),
    user: optionalUuid(f.userId, 'filter.userId'),
    bot: optionalUuid(f.botId, 'filter.botId'),
  };
}
