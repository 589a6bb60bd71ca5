import { Entity, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';
import { Env } from './env.entity.js';

/** A secret of an env. Contents are AES-256-GCM encrypted, bound to the row id, and never returned. */
@ObjectType()
@Entity({ tableName: 'secrets' })
@Unique({ properties: ['env', 'collection', 'name'] })
export class Secret extends BaseEntity {
  @ManyToOne(() => Env, { deleteRule: 'cascade' })
  env!: Env;

  @Field()
  @Property({ type: 'text' })
  collection!: string;

  @Field()
  @Property({ type: 'text' })
  name!: string;

  @Field()
  @Property({ type: 'datetime', defaultRaw: 'now()' })
  updatedAt: Date = new Date();

  /** "v1.<keyId>.<iv>.<tag>.<ciphertext>" (base64url parts) */
  @Property({ type: 'text', hidden: true })
  contentsEncrypted!: string;
}
