import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/**
 * One committed change, written by a database trigger in the same transaction as the change
 * (migration Issue4Events), so nothing committed can be missed. The cursor grows in commit order:
 * every write takes the event lock first (src/services/unit-of-work.ts). Not exposed; read by src/events/.
 */
@Entity({ tableName: 'events' })
@Index({ properties: ['objectId'] })
@Index({ properties: ['createdAt'] })
export class EventRecord {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  cursor!: string;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  /** the changed table: deployments, envs, … (group memberships are reported as their group) */
  @Property({ type: 'text' })
  tableName!: string;

  /** INSERT, UPDATE or DELETE */
  @Property({ type: 'text' })
  operation!: string;

  @Property({ type: 'uuid' })
  objectId!: string;

  /** the env the object was in, for visibility (kept for deletes, when the row is gone) */
  @Property({ type: 'uuid', nullable: true })
  envId?: string | null;

  /** the ids subscriptions filter on (cluster_id, kind_id, deployment_id, …), as the row had them */
  @Property({ type: 'json', default: '{}' })
  refs: Record<string, unknown> = {};

  /** for an update that moved the object (another env, cluster, kind…): its env before (migration Issue9Scope) */
  @Property({ type: 'uuid', nullable: true })
  oldEnvId?: string | null;

  /** for an update that moved the object: its refs before; null when its scope did not change */
  @Property({ type: 'json', nullable: true })
  oldRefs?: Record<string, unknown> | null;

  /** someone's grants changed at this cursor: a new row in grant_versions */
  @Property({ type: 'boolean', default: false })
  regrants: boolean = false;
}
