import { Entity, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';
import { K8sNamespace } from './k8s-namespace.entity.js';

/** Kubportal's service account, the Kubernetes identity a user is linked to. */
@ObjectType()
@Entity({ tableName: 'k8s_service_accounts' })
@Unique({ properties: ['namespace', 'name'] })
export class K8sServiceAccount extends BaseEntity {
  @Field()
  @Property({ type: 'text' })
  name!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  uid?: string | null;

  @ManyToOne(() => K8sNamespace, { deleteRule: 'cascade' })
  namespace!: K8sNamespace;
}
