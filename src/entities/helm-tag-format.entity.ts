import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';

/** A regex with named groups (version, revision, branch, commit) that parses chart tags. */
@ObjectType()
@Entity({ tableName: 'helm_tag_formats' })
export class HelmTagFormat extends BaseEntity {
  @Field()
  @Property({ type: 'text', unique: true })
  pattern!: string;
}
