import { Entity, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';
import { Env } from './env.entity.js';

/** A Kubernetes cluster: every Platz column plus how Berth reaches its API server. */
@ObjectType()
@Entity({ tableName: 'k8s_clusters' })
@Index({ properties: ['env'] })
export class K8sCluster extends BaseEntity {
  @ManyToOne(() => Env, { nullable: true, deleteRule: 'set null' })
  env?: Env | null;

  @Field()
  @Property({ type: 'text', unique: true })
  providerId!: string;

  @Field()
  @Property({ type: 'text' })
  name!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  alias?: string | null;

  @Field()
  @Property({ type: 'text', default: 'local' })
  regionName: string = 'local';

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  lastSeenAt?: Date | null;

  @Field()
  @Property({ type: 'boolean', default: false })
  isOk: boolean = false;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  notOkReason?: string | null;

  /** new clusters are ignored until an admin clears this */
  @Field()
  @Property({ type: 'boolean', default: true })
  ignore: boolean = true;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true, unique: true })
  ingressDomain?: string | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  ingressClass?: string | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  ingressTlsSecretName?: string | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  grafanaUrl?: string | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  grafanaDatasourceName?: string | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  apiServerUrl?: string | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  kubeconfigContext?: string | null;

  /** the kubeconfig user entry (token, client certificate), AES-256-GCM encrypted. Never exposed. */
  @Property({ type: 'text', nullable: true, hidden: true })
  credentialsEncrypted?: string | null;
}
