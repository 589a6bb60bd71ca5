import { Entity, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSON, GraphQLJSONObject } from '../util/json-scalars.js';
import { BaseEntity } from './base.entity.js';
import { User } from './user.entity.js';

@ObjectType()
@Entity({ tableName: 'envs' })
@Unique({ name: 'envs_name_lower_unique', expression: 'create unique index "envs_name_lower_unique" on "envs" (lower("name"))' })
export class Env extends BaseEntity {
  @Field()
  @Property({ type: 'text' })
  name!: string;

  @Field(() => GraphQLJSONObject)
  @Property({ type: 'json', default: '{}' })
  nodeSelector: Record<string, unknown> = {};

  @Field(() => GraphQLJSON)
  @Property({ type: 'json', default: '[]' })
  tolerations: unknown = [];

  @Field()
  @Property({ type: 'boolean', default: false })
  autoAddNewUsers: boolean = false;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  description?: string | null;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  owner?: User | null;

  /** quota-style limits (Storj-like), free-form */
  @Field(() => GraphQLJSONObject)
  @Property({ type: 'json', default: '{}' })
  limits: Record<string, unknown> = {};
}
