import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';

/** A non-human identity holding roles like a user. */
@ObjectType()
@Entity({ tableName: 'bots' })
export class Bot extends BaseEntity {
  @Field()
  @Property({ type: 'text' })
  displayName!: string;
}
