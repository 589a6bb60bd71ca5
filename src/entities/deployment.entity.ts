import { Entity, Enum, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSON, GraphQLJSONObject } from '../util/json-scalars.js';
import { BaseEntity } from './base.entity.js';
import { DeploymentKind } from './deployment-kind.entity.js';
import { DeploymentTask } from './deployment-task.entity.js';
import { DeploymentStatus } from './enums.js';
import { HelmChart } from './helm-chart.entity.js';
import { K8sCluster } from './k8s-cluster.entity.js';

/** A Helm chart deployed into one cluster. (cluster, kind, name) is unique, a rule Platz lost. */
@ObjectType()
@Entity({ tableName: 'deployments' })
@Unique({ name: 'deployments_cluster_kind_name_unique', properties: ['cluster', 'kind', 'name'] })
export class Deployment extends BaseEntity {
  /** empty for OnePerCluster charts */
  @Field()
  @Property({ type: 'text', default: '' })
  name: string = '';

  @ManyToOne(() => DeploymentKind, { deleteRule: 'no action' })
  kind!: DeploymentKind;

  @ManyToOne(() => K8sCluster, { deleteRule: 'cascade' })
  cluster!: K8sCluster;

  @Field()
  @Property({ type: 'boolean', default: true })
  enabled: boolean = true;

  @Field(() => DeploymentStatus)
  @Enum({ items: () => DeploymentStatus, nativeEnumName: 'deployment_status', default: DeploymentStatus.Unknown })
  status: DeploymentStatus = DeploymentStatus.Unknown;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  descriptionMd?: string | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  reason?: string | null;

  /** the last successful Install or Upgrade task */
  @ManyToOne(() => DeploymentTask, { nullable: true, deleteRule: 'set null' })
  revision?: DeploymentTask | null;

  @Field(() => GraphQLJSON, { nullable: true })
  @Property({ type: 'json', nullable: true })
  reportedStatus?: unknown;

  @ManyToOne(() => HelmChart, { deleteRule: 'cascade' })
  helmChart!: HelmChart;

  @Field(() => GraphQLJSONObject)
  @Property({ type: 'json', default: '{}' })
  config: Record<string, unknown> = {};

  @Field(() => GraphQLJSONObject)
  @Property({ type: 'json', default: '{}' })
  valuesOverride: Record<string, unknown> = {};
}
