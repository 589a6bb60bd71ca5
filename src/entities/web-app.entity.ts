import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';

/** Kubportal's web application, linked to groups. */
@ObjectType()
@Entity({ tableName: 'web_apps' })
export class WebApp extends BaseEntity {
  @Field()
  @Property({ type: 'text' })
  name!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  linkName?: string | null;

  /** may contain {{namespace}} and {{serviceaccount}} placeholders */
  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  linkUrl?: string | null;

  @Field()
  @Property({ type: 'boolean', default: false })
  linkShow: boolean = false;
}
