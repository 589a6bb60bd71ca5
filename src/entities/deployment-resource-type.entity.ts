import { Entity, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSON } from '../util/json-scalars.js';
import { BaseEntity } from './base.entity.js';
import { DeploymentKind } from './deployment-kind.entity.js';
import { Env } from './env.entity.js';

/** A resource type declared by a chart (chart-ext ResourceType); env null means global. */
@ObjectType()
@Entity({ tableName: 'deployment_resource_types' })
@Unique({ properties: ['env', 'deploymentKind', 'key'] })
export class DeploymentResourceType extends BaseEntity {
  @ManyToOne(() => Env, { nullable: true, deleteRule: 'cascade' })
  env?: Env | null;

  @ManyToOne(() => DeploymentKind, { deleteRule: 'cascade' })
  deploymentKind!: DeploymentKind;

  @Field()
  @Property({ type: 'text' })
  key!: string;

  @Field(() => GraphQLJSON)
  @Property({ type: 'json' })
  spec!: unknown;
}
