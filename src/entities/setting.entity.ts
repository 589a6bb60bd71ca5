import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/** Internal key/value settings (the generated JWT key). Not exposed. */
@Entity({ tableName: 'settings' })
export class Setting {
  @PrimaryKey({ type: 'text' })
  key!: string;

  @Property({ type: 'text' })
  value!: string;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
