import { Entity, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from '../util/json-scalars.js';
import { BaseEntity } from './base.entity.js';
import { Deployment } from './deployment.entity.js';
import { K8sResourceStatusColor } from './enums.js';
import { K8sCluster } from './k8s-cluster.entity.js';

/** A mirrored Kubernetes object; its id is the Kubernetes uid. */
@ObjectType()
@Entity({ tableName: 'k8s_resources' })
@Index({ properties: ['deployment'] })
@Index({ properties: ['cluster'] })
export class K8sResource extends BaseEntity {
  @ManyToOne(() => K8sCluster, { deleteRule: 'cascade' })
  cluster!: K8sCluster;

  @ManyToOne(() => Deployment, { nullable: true, deleteRule: 'cascade' })
  deployment?: Deployment | null;

  @Field()
  @Property({ type: 'text' })
  kind!: string;

  @Field()
  @Property({ type: 'text' })
  apiVersion!: string;

  @Field()
  @Property({ type: 'text' })
  name!: string;

  /** one entry per replica or pod */
  @Field(() => [K8sResourceStatusColor])
  @Property({ type: 'text[]', defaultRaw: "'{}'" })
  statusColor: K8sResourceStatusColor[] = [];

  /** the full ObjectMeta */
  @Field(() => GraphQLJSONObject)
  @Property({ type: 'json', default: '{}' })
  metadata: Record<string, unknown> = {};

  @Field()
  @Property({ type: 'datetime', defaultRaw: 'now()' })
  lastUpdatedAt: Date = new Date();
}
