import { Entity, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';

/**
 * The integer by which an API that numbers its objects (Kubportal's users, groups and web apps; Porter's users) knows
 * a Berth object: given on first use, never changed, never reused. One sequence for every kind.
 */
@Entity({ tableName: 'numeric_aliases' })
@Unique({ properties: ['kind', 'targetId'] })
export class NumericAlias {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  number!: number;

  /** the aliased object's table (`users`, `groups`, `web_apps`) */
  @Property({ type: 'text' })
  kind!: string;

  @Property({ type: 'uuid' })
  targetId!: string;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
