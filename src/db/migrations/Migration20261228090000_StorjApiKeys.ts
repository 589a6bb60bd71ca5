import { Migration } from '@mikro-orm/migrations';

/** The API keys of envs, Storj's project API keys (src/entities/env-api-key.entity.ts). */
export class Migration20261228090000_StorjApiKeys extends Migration {

  override name = 'Migration20261228090000_StorjApiKeys';

  override up(): void | Promise<void> {
    this.addSql(`create table "env_api_keys" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "env_id" uuid not null, "name" text not null, "secret_hash" text not null, "partner_id" uuid null, primary key ("id"));`);
    this.addSql(`alter table "env_api_keys" add constraint "env_api_keys_env_name_unique" unique ("env_id", "name");`);
    this.addSql(`alter table "env_api_keys" add constraint "env_api_keys_env_id_foreign" foreign key ("env_id") references "envs" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "env_api_keys" cascade;`);
  }

}
