import type { Rel } from '@mikro-orm/core';
import { Check, Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from './base.entity.js';
import { Bot } from './bot.entity.js';
import { Deployment } from './deployment.entity.js';
import type { DeploymentTaskOperation } from './deployment-task-operation.js';
import { DeploymentTaskStatus } from './enums.js';
import { K8sCluster } from './k8s-cluster.entity.js';
import { User } from './user.entity.js';

/** One unit of work on a deployment, carried out by the worker. */
@ObjectType()
@Entity({ tableName: 'deployment_tasks' })
@Check({
  name: 'deployment_tasks_one_actor',
  expression: '((acting_user_id is not null)::int + (acting_bot_id is not null)::int + (acting_deployment_id is not null)::int) <= 1',
})
@Index({ properties: ['deployment', 'createdAt'] })
@Index({ properties: ['cluster'] })
@Index({ properties: ['status'] })
@Index({ properties: ['executeAt'] })
export class DeploymentTask extends BaseEntity {
  @Field()
  // millisecond precision: JS dates round-trip exactly, so keyset cursors never skip or repeat a row
  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  executeAt: Date = new Date();

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  firstAttemptedAt?: Date | null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  startedAt?: Date | null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  finishedAt?: Date | null;

  @ManyToOne(() => K8sCluster, { deleteRule: 'cascade' })
  cluster!: K8sCluster;

  // Rel<>: Deployment and DeploymentTask import each other (ESM circular reference)
  @ManyToOne(() => Deployment, { deleteRule: 'cascade' })
  deployment!: Rel<Deployment>;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  actingUser?: User | null;

  @ManyToOne(() => Bot, { nullable: true, deleteRule: 'set null' })
  actingBot?: Bot | null;

  @ManyToOne(() => Deployment, { nullable: true, deleteRule: 'set null' })
  actingDeployment?: Deployment | null;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  canceledByUser?: User | null;

  @ManyToOne(() => Bot, { nullable: true, deleteRule: 'set null' })
  canceledByBot?: Bot | null;

  @ManyToOne(() => Deployment, { nullable: true, deleteRule: 'set null' })
  canceledByDeployment?: Deployment | null;

  /** externally tagged, as Platz stores it: {"Install": {...}} */
  @Property({ type: 'json' })
  operation!: DeploymentTaskOperation;

  @Field(() => DeploymentTaskStatus)
  @Enum({ items: () => DeploymentTaskStatus, nativeEnumName: 'deployment_task_status', default: DeploymentTaskStatus.Pending })
  status: DeploymentTaskStatus = DeploymentTaskStatus.Pending;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  reason?: string | null;

  /** the task worker running it (Started), and until when its lease holds before another worker may take it over */
  @Property({ type: 'text', nullable: true })
  claimedBy?: string | null;

  @Property({ type: 'datetime', nullable: true })
  leaseExpiresAt?: Date | null;
}
