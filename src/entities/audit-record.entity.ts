import { Entity, Index, Property } from '@mikro-orm/decorators/legacy';
import { Field, ID, ObjectType } from 'type-graphql';
import { GraphQLJSON } from '../util/json-scalars.js';
import { BaseEntity } from './base.entity.js';

/**
 * One committed mutation: who, which operation, which object, before and after (secrets stripped).
 * Actor, target and env are plain ids, not foreign keys, so the record outlives what it names.
 */
@ObjectType()
@Entity({ tableName: 'audit_records' })
@Index({ properties: ['env', 'createdAt'] })
@Index({ properties: ['targetId'] })
export class AuditRecord extends BaseEntity {
  /** user, bot, deployment or anonymous (sign-up, single sign-on) */
  @Field()
  @Property({ type: 'text' })
  actorKind!: string;

  @Field(() => ID, { nullable: true })
  @Property({ type: 'uuid', nullable: true })
  actorId?: string | null;

  /** the mutation, e.g. createDeployment */
  @Field()
  @Property({ type: 'text' })
  operation!: string;

  /** the aggregate, e.g. Deployment */
  @Field()
  @Property({ type: 'text' })
  targetType!: string;

  @Field(() => ID, { nullable: true })
  @Property({ type: 'uuid', nullable: true })
  targetId?: string | null;

  /** the env the target belongs to; env Admins read their env's records */
  @Field(() => ID, { nullable: true })
  @Property({ type: 'uuid', nullable: true, fieldName: 'env_id' })
  env?: string | null;

  @Field(() => GraphQLJSON, { nullable: true })
  @Property({ type: 'json', nullable: true })
  before?: unknown;

  @Field(() => GraphQLJSON, { nullable: true })
  @Property({ type: 'json', nullable: true })
  after?: unknown;

  @Field()
  @Property({ type: 'text' })
  requestId!: string;
}
