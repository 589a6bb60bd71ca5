import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { BaseEntity } from './base.entity.js';

/** Internal key/value settings (the generated JWT key). Not exposed. */
@Entity({ tableName: 'settings' })
export class Setting extends BaseEntity {
  @Property({ type: 'text', unique: true })
  key!: string;

  @Property({ type: 'text' })
  value!: string;
}
