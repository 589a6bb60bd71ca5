import { Migration } from '@mikro-orm/migrations';

export class Migration20261122105133_Issue3Writes extends Migration {

  override name = 'Migration20261122105133_Issue3Writes';

  override up(): void | Promise<void> {
    this.addSql(`create table "audit_records" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "actor_kind" text not null, "actor_id" uuid null, "operation" text not null, "target_type" text not null, "target_id" uuid null, "env_id" uuid null, "before" jsonb null, "after" jsonb null, "request_id" text not null, primary key ("id"));`);
    this.addSql(`create index "audit_records_target_id_index" on "audit_records" ("target_id");`);
    this.addSql(`create index "audit_records_env_id_created_at_index" on "audit_records" ("env_id", "created_at");`);

    this.addSql(`create table "oidc_logins" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "state_hash" text not null, "code_verifier" text not null, "nonce" text not null, "redirect_uri" text not null, "expires_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`alter table "oidc_logins" add constraint "oidc_logins_state_hash_unique" unique ("state_hash");`);

    this.addSql(`alter table "users" add "approval_id" uuid null, add "approval_answered_by_id" uuid null, add "approval_comments" text null, add "oidc_issuer" text null, add "oidc_subject" text null;`);
    this.addSql(`alter table "users" add constraint "users_approval_answered_by_id_foreign" foreign key ("approval_answered_by_id") references "users" ("id") on delete set null;`);
    this.addSql(`alter table "users" add constraint "users_oidc_issuer_oidc_subject_unique" unique ("oidc_issuer", "oidc_subject");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "audit_records" cascade;`);
    this.addSql(`drop table if exists "oidc_logins" cascade;`);

    this.addSql(`alter table "users" drop constraint "users_approval_answered_by_id_foreign";`);

    this.addSql(`alter table "users" drop constraint "users_oidc_issuer_oidc_subject_unique";`);
    this.addSql(`alter table "users" drop column "approval_id", drop column "approval_answered_by_id", drop column "approval_comments", drop column "oidc_issuer", drop column "oidc_subject";`);
  }

}
