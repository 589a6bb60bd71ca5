import { Migration } from '@mikro-orm/migrations';

/** Kubportal's and Porter's integer ids for Berth's objects (src/entities/numeric-alias.entity.ts). */
export class Migration20261225090000_NumericAliases extends Migration {

  override name = 'Migration20261225090000_NumericAliases';

  override up(): void | Promise<void> {
    this.addSql(`create table "numeric_aliases" ("number" serial primary key, "kind" text not null, "target_id" uuid not null, "created_at" timestamptz(3) not null default now());`);
    this.addSql(`alter table "numeric_aliases" add constraint "numeric_aliases_kind_target_id_unique" unique ("kind", "target_id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "numeric_aliases" cascade;`);
  }

}
