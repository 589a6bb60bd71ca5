import { Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';

/**
 * What user and bot tokens share: the row id is the token's first half, and only the SHA-256 of
 * the secret half is stored (never exposed).
 */
@ObjectType()
export abstract class ApiTokenBase extends BaseEntity {
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
