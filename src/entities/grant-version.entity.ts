import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/**
 * What one identity (`user:<id>`, `bot:<id>`, `deployment:<id>`) could see from `cursor` on, as
 * `berth_grants` computed it in the transaction that changed it (migration Issue9Scope); null once
 * the identity is gone or deactivated. Subscriptions judge each event with the version in force at
 * its cursor, live and on replay alike. Not exposed; read by src/events/grant-history.ts.
 */
@Entity({ tableName: 'grant_versions' })
@Index({ properties: ['cursor'] })
export class GrantVersion {
  @PrimaryKey({ type: 'text' })
  identity!: string;

  @PrimaryKey({ type: 'bigint' })
  cursor!: string;

  @Property({ type: 'json', nullable: true })
  grants?: Record<string, unknown> | null;
}
