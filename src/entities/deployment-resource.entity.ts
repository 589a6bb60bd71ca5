import { Entity, Enum, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';
import { Deployment } from './deployment.entity.js';
import { DeploymentResourceType } from './deployment-resource-type.entity.js';
import { DeploymentResourceSyncStatus } from './enums.js';

/** An instance of a resource type (Platz's deployment resource); deleted softly (exists = false). */
@ObjectType()
@Entity({ tableName: 'deployment_resources' })
@Unique({ properties: ['type', 'name'] })
export class DeploymentResource extends BaseEntity {
  @ManyToOne(() => DeploymentResourceType, { deleteRule: 'cascade' })
  type!: DeploymentResourceType;

  @ManyToOne(() => Deployment, { nullable: true, deleteRule: 'set null' })
  deployment?: Deployment | null;

  @Field()
  @Property({ type: 'text' })
  name!: string;

  @Field()
  @Property({ type: 'boolean', default: true })
  exists: boolean = true;

  /** exposed through a resolver that strips the props the type marks sensitive */
  @Property({ type: 'json', default: '{}' })
  props: Record<string, unknown> = {};

  @Field(() => DeploymentResourceSyncStatus)
  @Enum({
    items: () => DeploymentResourceSyncStatus,
    nativeEnumName: 'deployment_resource_sync_status',
    default: DeploymentResourceSyncStatus.Creating,
  })
  syncStatus: DeploymentResourceSyncStatus = DeploymentResourceSyncStatus.Creating;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  syncReason?: string | null;
}
