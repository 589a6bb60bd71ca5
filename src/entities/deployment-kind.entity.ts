import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';

@ObjectType()
@Entity({ tableName: 'deployment_kinds' })
export class DeploymentKind extends BaseEntity {
  @Field()
  @Property({ type: 'text', unique: true })
  name!: string;
}
