import { Entity, ManyToOne } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import { ApiTokenBase } from './api-token.base.js';
import { User } from './user.entity.js';

/** An API token of a user. */
@ObjectType()
@Entity({ tableName: 'user_tokens' })
export class UserToken extends ApiTokenBase {
  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: User;
}
