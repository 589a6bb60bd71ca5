import { Entity, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';
import { K8sCluster } from './k8s-cluster.entity.js';

/** Kubportal's namespace record; uid is null until it exists in Kubernetes. */
@ObjectType()
@Entity({ tableName: 'k8s_namespaces' })
@Unique({ properties: ['cluster', 'name'] })
export class K8sNamespace extends BaseEntity {
  @ManyToOne(() => K8sCluster, { nullable: true, deleteRule: 'cascade' })
  cluster?: K8sCluster | null;

  @Field()
  @Property({ type: 'text' })
  name!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  uid?: string | null;

  @Field()
  @Property({ type: 'boolean', default: true })
  visible: boolean = true;
}
