import { Migration } from '@mikro-orm/migrations';

export class Migration20261122101952_Initial extends Migration {

  override name = 'Migration20261122101952_Initial';

  override up(): void | Promise<void> {
    this.addSql(`create type "helm_registry_provider" as enum ('Ecr', 'Oci');`);
    this.addSql(`create type "user_approval_state" as enum ('NEW', 'ACCESS_REQUESTED', 'ACCESS_APPROVED', 'ACCESS_REJECTED');`);
    this.addSql(`create type "env_user_role" as enum ('Admin', 'User');`);
    this.addSql(`create type "deployment_task_status" as enum ('Pending', 'Started', 'Failed', 'Canceled', 'Done');`);
    this.addSql(`create type "deployment_status" as enum ('Unknown', 'Installing', 'Renaming', 'Upgrading', 'Running', 'Error', 'Uninstalling', 'Uninstalled', 'Deleting');`);
    this.addSql(`create type "deployment_resource_sync_status" as enum ('Creating', 'Updating', 'Deleting', 'Ready', 'Error');`);
    this.addSql(`create type "user_deployment_role" as enum ('Owner', 'Maintainer');`);
    this.addSql(`create table "bots" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "display_name" text not null, primary key ("id"));`);

    this.addSql(`create table "deployment_kinds" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "name" text not null, primary key ("id"));`);
    this.addSql(`alter table "deployment_kinds" add constraint "deployment_kinds_name_unique" unique ("name");`);

    this.addSql(`create table "groups" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "name" text not null, "special_all_accounts" boolean not null default false, "special_k8s_accounts" boolean not null default false, "can_admin" boolean not null default false, primary key ("id"));`);
    this.addSql(`alter table "groups" add constraint "groups_name_unique" unique ("name");`);

    this.addSql(`create table "helm_registries" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "domain_name" text not null, "repo_name" text not null, "kind_id" uuid not null, "available" boolean not null default true, "fa_icon" text not null default 'question', "provider" "helm_registry_provider" not null default 'Ecr', primary key ("id"));`);
    this.addSql(`alter table "helm_registries" add constraint "helm_registries_domain_name_repo_name_unique" unique ("domain_name", "repo_name");`);

    this.addSql(`create table "helm_tag_formats" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "pattern" text not null, primary key ("id"));`);
    this.addSql(`alter table "helm_tag_formats" add constraint "helm_tag_formats_pattern_unique" unique ("pattern");`);

    this.addSql(`create table "helm_charts" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "helm_registry_id" uuid not null, "image_digest" text not null, "image_tag" text not null, "available" boolean not null default true, "values_ui" jsonb null, "actions_schema" jsonb null, "features" jsonb null, "resource_types" jsonb null, "error" text null, "tag_format_id" uuid null, "parsed_version" text null, "parsed_revision" text null, "parsed_branch" text null, "parsed_commit" text null, primary key ("id"));`);
    this.addSql(`create index "helm_charts_helm_registry_id_created_at_index" on "helm_charts" ("helm_registry_id", "created_at");`);

    this.addSql(`create table "settings" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "key" text not null, "value" text not null, primary key ("id"));`);
    this.addSql(`alter table "settings" add constraint "settings_key_unique" unique ("key");`);

    this.addSql(`create table "users" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "email" text not null, "username" text not null, "display_name" text not null, "first_name" text null, "last_name" text null, "password_hash" text null, "is_admin" boolean not null default false, "is_active" boolean not null default true, "auth_level" int not null default 0, "approval_state" "user_approval_state" not null default 'NEW', "alternative_emails" text[] not null default '{}', "project_limit" int null, "raw_kubeconfig_encrypted" text null, "service_account_id" uuid null, "last_login_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "users" add constraint "users_username_unique" unique ("username");`);
    this.addSql(`create unique index "users_email_lower_unique" on "users" (lower("email"));`);

    this.addSql(`create table "group_members" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "group_id" uuid not null, "user_id" uuid not null, primary key ("id"));`);
    this.addSql(`create index "group_members_user_id_index" on "group_members" ("user_id");`);
    this.addSql(`alter table "group_members" add constraint "group_members_group_id_user_id_unique" unique ("group_id", "user_id");`);

    this.addSql(`create table "envs" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "name" text not null, "node_selector" jsonb not null default '{}', "tolerations" jsonb not null default '[]', "auto_add_new_users" boolean not null default false, "description" text null, "owner_id" uuid null, "limits" jsonb not null default '{}', primary key ("id"));`);
    this.addSql(`create unique index "envs_name_lower_unique" on "envs" (lower("name"));`);

    this.addSql(`create table "secrets" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "env_id" uuid not null, "collection" text not null, "name" text not null, "updated_at" timestamptz not null default now(), "contents_encrypted" text not null, primary key ("id"));`);
    this.addSql(`alter table "secrets" add constraint "secrets_env_id_collection_name_unique" unique ("env_id", "collection", "name");`);

    this.addSql(`create table "k8s_clusters" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "env_id" uuid null, "provider_id" text not null, "name" text not null, "alias" text null, "region_name" text not null default 'local', "last_seen_at" timestamptz null, "is_ok" boolean not null default false, "not_ok_reason" text null, "ignore" boolean not null default true, "ingress_domain" text null, "ingress_class" text null, "ingress_tls_secret_name" text null, "grafana_url" text null, "grafana_datasource_name" text null, "api_server_url" text null, "kubeconfig_context" text null, "credentials_encrypted" text null, primary key ("id"));`);
    this.addSql(`alter table "k8s_clusters" add constraint "k8s_clusters_provider_id_unique" unique ("provider_id");`);
    this.addSql(`alter table "k8s_clusters" add constraint "k8s_clusters_ingress_domain_unique" unique ("ingress_domain");`);
    this.addSql(`create index "k8s_clusters_env_id_index" on "k8s_clusters" ("env_id");`);

    this.addSql(`create table "k8s_namespaces" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "cluster_id" uuid null, "name" text not null, "uid" text null, "visible" boolean not null default true, primary key ("id"));`);
    this.addSql(`alter table "k8s_namespaces" add constraint "k8s_namespaces_cluster_id_name_unique" unique ("cluster_id", "name");`);

    this.addSql(`create table "k8s_service_accounts" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "name" text not null, "uid" text null, "namespace_id" uuid not null, primary key ("id"));`);
    this.addSql(`alter table "k8s_service_accounts" add constraint "k8s_service_accounts_namespace_id_name_unique" unique ("namespace_id", "name");`);

    this.addSql(`create table "env_user_permissions" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "env_id" uuid not null, "user_id" uuid null, "bot_id" uuid null, "role" "env_user_role" not null, primary key ("id"));`);
    this.addSql(`alter table "env_user_permissions" add constraint "env_user_permissions_env_id_bot_id_unique" unique ("env_id", "bot_id");`);
    this.addSql(`alter table "env_user_permissions" add constraint "env_user_permissions_env_id_user_id_unique" unique ("env_id", "user_id");`);

    this.addSql(`create table "deployment_resource_types" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "env_id" uuid null, "deployment_kind_id" uuid not null, "key" text not null, "spec" jsonb not null, primary key ("id"));`);
    this.addSql(`alter table "deployment_resource_types" add constraint "deployment_resource_types_env_id_deployment_kind_id_key_unique" unique ("env_id", "deployment_kind_id", "key");`);

    this.addSql(`create table "deployment_tasks" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "execute_at" timestamptz(3) not null default now(), "first_attempted_at" timestamptz null, "started_at" timestamptz null, "finished_at" timestamptz null, "cluster_id" uuid not null, "deployment_id" uuid not null, "acting_user_id" uuid null, "acting_bot_id" uuid null, "acting_deployment_id" uuid null, "canceled_by_user_id" uuid null, "canceled_by_bot_id" uuid null, "canceled_by_deployment_id" uuid null, "operation" jsonb not null, "status" "deployment_task_status" not null default 'Pending', "reason" text null, primary key ("id"));`);
    this.addSql(`create index "deployment_tasks_execute_at_index" on "deployment_tasks" ("execute_at");`);
    this.addSql(`create index "deployment_tasks_status_index" on "deployment_tasks" ("status");`);
    this.addSql(`create index "deployment_tasks_cluster_id_index" on "deployment_tasks" ("cluster_id");`);
    this.addSql(`create index "deployment_tasks_deployment_id_created_at_index" on "deployment_tasks" ("deployment_id", "created_at");`);

    this.addSql(`create table "deployments" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "name" text not null default '', "kind_id" uuid not null, "cluster_id" uuid not null, "enabled" boolean not null default true, "status" "deployment_status" not null default 'Unknown', "description_md" text null, "reason" text null, "revision_id" uuid null, "reported_status" jsonb null, "helm_chart_id" uuid not null, "config" jsonb not null default '{}', "values_override" jsonb not null default '{}', primary key ("id"));`);
    this.addSql(`alter table "deployments" add constraint "deployments_cluster_kind_name_unique" unique ("cluster_id", "kind_id", "name");`);

    this.addSql(`create table "k8s_resources" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "cluster_id" uuid not null, "deployment_id" uuid null, "kind" text not null, "api_version" text not null, "name" text not null, "status_color" text[] not null default '{}', "metadata" jsonb not null default '{}', "last_updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "k8s_resources_cluster_id_index" on "k8s_resources" ("cluster_id");`);
    this.addSql(`create index "k8s_resources_deployment_id_index" on "k8s_resources" ("deployment_id");`);

    this.addSql(`create table "deployment_resources" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "type_id" uuid not null, "deployment_id" uuid null, "name" text not null, "exists" boolean not null default true, "props" jsonb not null default '{}', "sync_status" "deployment_resource_sync_status" not null default 'Creating', "sync_reason" text null, primary key ("id"));`);
    this.addSql(`alter table "deployment_resources" add constraint "deployment_resources_type_id_name_unique" unique ("type_id", "name");`);

    this.addSql(`create table "deployment_permissions" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "env_id" uuid not null, "user_id" uuid null, "bot_id" uuid null, "kind_id" uuid not null, "role" "user_deployment_role" not null, primary key ("id"));`);
    this.addSql(`alter table "deployment_permissions" add constraint "deployment_permissions_env_id_bot_id_kind_id_unique" unique ("env_id", "bot_id", "kind_id");`);
    this.addSql(`alter table "deployment_permissions" add constraint "deployment_permissions_env_id_user_id_kind_id_unique" unique ("env_id", "user_id", "kind_id");`);

    this.addSql(`create table "bot_tokens" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "name" text null, "secret_hash" text not null, "expires_at" timestamptz null, "last_used_at" timestamptz null, "bot_id" uuid not null, "created_by_user_id" uuid null, primary key ("id"));`);

    this.addSql(`create table "user_sessions" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "user_id" uuid not null, "refresh_secret_hash" text not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, "last_refreshed_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "user_sessions_user_id_index" on "user_sessions" ("user_id");`);

    this.addSql(`create table "user_tokens" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "name" text null, "secret_hash" text not null, "expires_at" timestamptz null, "last_used_at" timestamptz null, "user_id" uuid not null, primary key ("id"));`);

    this.addSql(`create table "web_apps" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "name" text not null, "link_name" text null, "link_url" text null, "link_show" boolean not null default false, primary key ("id"));`);

    this.addSql(`create table "group_web_apps" ("id" uuid not null, "created_at" timestamptz(3) not null default now(), "group_id" uuid not null, "web_app_id" uuid not null, primary key ("id"));`);
    this.addSql(`create index "group_web_apps_web_app_id_index" on "group_web_apps" ("web_app_id");`);
    this.addSql(`alter table "group_web_apps" add constraint "group_web_apps_group_id_web_app_id_unique" unique ("group_id", "web_app_id");`);

    this.addSql(`alter table "helm_registries" add constraint "helm_registries_kind_id_foreign" foreign key ("kind_id") references "deployment_kinds" ("id") on delete cascade;`);

    this.addSql(`alter table "helm_charts" add constraint "helm_charts_helm_registry_id_foreign" foreign key ("helm_registry_id") references "helm_registries" ("id") on delete cascade;`);
    this.addSql(`alter table "helm_charts" add constraint "helm_charts_tag_format_id_foreign" foreign key ("tag_format_id") references "helm_tag_formats" ("id") on delete set null;`);

    this.addSql(`alter table "users" add constraint "users_service_account_id_foreign" foreign key ("service_account_id") references "k8s_service_accounts" ("id") on delete set null;`);

    this.addSql(`alter table "group_members" add constraint "group_members_group_id_foreign" foreign key ("group_id") references "groups" ("id") on delete cascade;`);
    this.addSql(`alter table "group_members" add constraint "group_members_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`);

    this.addSql(`alter table "envs" add constraint "envs_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on delete set null;`);

    this.addSql(`alter table "secrets" add constraint "secrets_env_id_foreign" foreign key ("env_id") references "envs" ("id") on delete cascade;`);

    this.addSql(`alter table "k8s_clusters" add constraint "k8s_clusters_env_id_foreign" foreign key ("env_id") references "envs" ("id") on delete set null;`);

    this.addSql(`alter table "k8s_namespaces" add constraint "k8s_namespaces_cluster_id_foreign" foreign key ("cluster_id") references "k8s_clusters" ("id") on delete cascade;`);

    this.addSql(`alter table "k8s_service_accounts" add constraint "k8s_service_accounts_namespace_id_foreign" foreign key ("namespace_id") references "k8s_namespaces" ("id") on delete cascade;`);

    this.addSql(`alter table "env_user_permissions" add constraint "env_user_permissions_env_id_foreign" foreign key ("env_id") references "envs" ("id") on delete cascade;`);
    this.addSql(`alter table "env_user_permissions" add constraint "env_user_permissions_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`);
    this.addSql(`alter table "env_user_permissions" add constraint "env_user_permissions_bot_id_foreign" foreign key ("bot_id") references "bots" ("id") on delete cascade;`);
    this.addSql(`alter table "env_user_permissions" add constraint "env_user_permissions_one_identity" check ((user_id is null) <> (bot_id is null));`);

    this.addSql(`alter table "deployment_resource_types" add constraint "deployment_resource_types_env_id_foreign" foreign key ("env_id") references "envs" ("id") on delete cascade;`);
    this.addSql(`alter table "deployment_resource_types" add constraint "deployment_resource_types_deployment_kind_id_foreign" foreign key ("deployment_kind_id") references "deployment_kinds" ("id") on delete cascade;`);

    this.addSql(`alter table "deployment_tasks" add constraint "deployment_tasks_cluster_id_foreign" foreign key ("cluster_id") references "k8s_clusters" ("id") on delete cascade;`);
    this.addSql(`alter table "deployment_tasks" add constraint "deployment_tasks_deployment_id_foreign" foreign key ("deployment_id") references "deployments" ("id") on delete cascade;`);
    this.addSql(`alter table "deployment_tasks" add constraint "deployment_tasks_acting_user_id_foreign" foreign key ("acting_user_id") references "users" ("id") on delete set null;`);
    this.addSql(`alter table "deployment_tasks" add constraint "deployment_tasks_acting_bot_id_foreign" foreign key ("acting_bot_id") references "bots" ("id") on delete set null;`);
    this.addSql(`alter table "deployment_tasks" add constraint "deployment_tasks_acting_deployment_id_foreign" foreign key ("acting_deployment_id") references "deployments" ("id") on delete set null;`);
    this.addSql(`alter table "deployment_tasks" add constraint "deployment_tasks_canceled_by_user_id_foreign" foreign key ("canceled_by_user_id") references "users" ("id") on delete set null;`);
    this.addSql(`alter table "deployment_tasks" add constraint "deployment_tasks_canceled_by_bot_id_foreign" foreign key ("canceled_by_bot_id") references "bots" ("id") on delete set null;`);
    this.addSql(`alter table "deployment_tasks" add constraint "deployment_tasks_canceled_by_deployment_id_foreign" foreign key ("canceled_by_deployment_id") references "deployments" ("id") on delete set null;`);
    this.addSql(`alter table "deployment_tasks" add constraint "deployment_tasks_one_actor" check (((acting_user_id is not null)::int + (acting_bot_id is not null)::int + (acting_deployment_id is not null)::int) <= 1);`);

    this.addSql(`alter table "deployments" add constraint "deployments_kind_id_foreign" foreign key ("kind_id") references "deployment_kinds" ("id") on delete no action;`);
    this.addSql(`alter table "deployments" add constraint "deployments_cluster_id_foreign" foreign key ("cluster_id") references "k8s_clusters" ("id") on delete cascade;`);
    this.addSql(`alter table "deployments" add constraint "deployments_revision_id_foreign" foreign key ("revision_id") references "deployment_tasks" ("id") on delete set null;`);
    this.addSql(`alter table "deployments" add constraint "deployments_helm_chart_id_foreign" foreign key ("helm_chart_id") references "helm_charts" ("id") on delete cascade;`);

    this.addSql(`alter table "k8s_resources" add constraint "k8s_resources_cluster_id_foreign" foreign key ("cluster_id") references "k8s_clusters" ("id") on delete cascade;`);
    this.addSql(`alter table "k8s_resources" add constraint "k8s_resources_deployment_id_foreign" foreign key ("deployment_id") references "deployments" ("id") on delete cascade;`);

    this.addSql(`alter table "deployment_resources" add constraint "deployment_resources_type_id_foreign" foreign key ("type_id") references "deployment_resource_types" ("id") on delete cascade;`);
    this.addSql(`alter table "deployment_resources" add constraint "deployment_resources_deployment_id_foreign" foreign key ("deployment_id") references "deployments" ("id") on delete set null;`);

    this.addSql(`alter table "deployment_permissions" add constraint "deployment_permissions_env_id_foreign" foreign key ("env_id") references "envs" ("id") on delete cascade;`);
    this.addSql(`alter table "deployment_permissions" add constraint "deployment_permissions_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`);
    this.addSql(`alter table "deployment_permissions" add constraint "deployment_permissions_bot_id_foreign" foreign key ("bot_id") references "bots" ("id") on delete cascade;`);
    this.addSql(`alter table "deployment_permissions" add constraint "deployment_permissions_kind_id_foreign" foreign key ("kind_id") references "deployment_kinds" ("id") on delete cascade;`);
    this.addSql(`alter table "deployment_permissions" add constraint "deployment_permissions_one_identity" check ((user_id is null) <> (bot_id is null));`);

    this.addSql(`alter table "bot_tokens" add constraint "bot_tokens_bot_id_foreign" foreign key ("bot_id") references "bots" ("id") on delete cascade;`);
    this.addSql(`alter table "bot_tokens" add constraint "bot_tokens_created_by_user_id_foreign" foreign key ("created_by_user_id") references "users" ("id") on delete set null;`);

    this.addSql(`alter table "user_sessions" add constraint "user_sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`);

    this.addSql(`alter table "user_tokens" add constraint "user_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`);

    this.addSql(`alter table "group_web_apps" add constraint "group_web_apps_group_id_foreign" foreign key ("group_id") references "groups" ("id") on delete cascade;`);
    this.addSql(`alter table "group_web_apps" add constraint "group_web_apps_web_app_id_foreign" foreign key ("web_app_id") references "web_apps" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "env_user_permissions" drop constraint "env_user_permissions_bot_id_foreign";`);
    this.addSql(`alter table "deployment_tasks" drop constraint "deployment_tasks_acting_bot_id_foreign";`);
    this.addSql(`alter table "deployment_tasks" drop constraint "deployment_tasks_canceled_by_bot_id_foreign";`);
    this.addSql(`alter table "deployment_permissions" drop constraint "deployment_permissions_bot_id_foreign";`);
    this.addSql(`alter table "bot_tokens" drop constraint "bot_tokens_bot_id_foreign";`);
    this.addSql(`alter table "helm_registries" drop constraint "helm_registries_kind_id_foreign";`);
    this.addSql(`alter table "deployment_resource_types" drop constraint "deployment_resource_types_deployment_kind_id_foreign";`);
    this.addSql(`alter table "deployments" drop constraint "deployments_kind_id_foreign";`);
    this.addSql(`alter table "deployment_permissions" drop constraint "deployment_permissions_kind_id_foreign";`);
    this.addSql(`alter table "group_members" drop constraint "group_members_group_id_foreign";`);
    this.addSql(`alter table "group_web_apps" drop constraint "group_web_apps_group_id_foreign";`);
    this.addSql(`alter table "helm_charts" drop constraint "helm_charts_helm_registry_id_foreign";`);
    this.addSql(`alter table "helm_charts" drop constraint "helm_charts_tag_format_id_foreign";`);
    this.addSql(`alter table "deployments" drop constraint "deployments_helm_chart_id_foreign";`);
    this.addSql(`alter table "group_members" drop constraint "group_members_user_id_foreign";`);
    this.addSql(`alter table "envs" drop constraint "envs_owner_id_foreign";`);
    this.addSql(`alter table "env_user_permissions" drop constraint "env_user_permissions_user_id_foreign";`);
    this.addSql(`alter table "deployment_tasks" drop constraint "deployment_tasks_acting_user_id_foreign";`);
    this.addSql(`alter table "deployment_tasks" drop constraint "deployment_tasks_canceled_by_user_id_foreign";`);
    this.addSql(`alter table "deployment_permissions" drop constraint "deployment_permissions_user_id_foreign";`);
    this.addSql(`alter table "bot_tokens" drop constraint "bot_tokens_created_by_user_id_foreign";`);
    this.addSql(`alter table "user_sessions" drop constraint "user_sessions_user_id_foreign";`);
    this.addSql(`alter table "user_tokens" drop constraint "user_tokens_user_id_foreign";`);
    this.addSql(`alter table "secrets" drop constraint "secrets_env_id_foreign";`);
    this.addSql(`alter table "k8s_clusters" drop constraint "k8s_clusters_env_id_foreign";`);
    this.addSql(`alter table "env_user_permissions" drop constraint "env_user_permissions_env_id_foreign";`);
    this.addSql(`alter table "deployment_resource_types" drop constraint "deployment_resource_types_env_id_foreign";`);
    this.addSql(`alter table "deployment_permissions" drop constraint "deployment_permissions_env_id_foreign";`);
    this.addSql(`alter table "k8s_namespaces" drop constraint "k8s_namespaces_cluster_id_foreign";`);
    this.addSql(`alter table "deployment_tasks" drop constraint "deployment_tasks_cluster_id_foreign";`);
    this.addSql(`alter table "deployments" drop constraint "deployments_cluster_id_foreign";`);
    this.addSql(`alter table "k8s_resources" drop constraint "k8s_resources_cluster_id_foreign";`);
    this.addSql(`alter table "k8s_service_accounts" drop constraint "k8s_service_accounts_namespace_id_foreign";`);
    this.addSql(`alter table "users" drop constraint "users_service_account_id_foreign";`);
    this.addSql(`alter table "deployment_resources" drop constraint "deployment_resources_type_id_foreign";`);
    this.addSql(`alter table "deployments" drop constraint "deployments_revision_id_foreign";`);
    this.addSql(`alter table "deployment_tasks" drop constraint "deployment_tasks_deployment_id_foreign";`);
    this.addSql(`alter table "deployment_tasks" drop constraint "deployment_tasks_acting_deployment_id_foreign";`);
    this.addSql(`alter table "deployment_tasks" drop constraint "deployment_tasks_canceled_by_deployment_id_foreign";`);
    this.addSql(`alter table "k8s_resources" drop constraint "k8s_resources_deployment_id_foreign";`);
    this.addSql(`alter table "deployment_resources" drop constraint "deployment_resources_deployment_id_foreign";`);
    this.addSql(`alter table "group_web_apps" drop constraint "group_web_apps_web_app_id_foreign";`);

    this.addSql(`drop table if exists "bots" cascade;`);
    this.addSql(`drop table if exists "deployment_kinds" cascade;`);
    this.addSql(`drop table if exists "groups" cascade;`);
    this.addSql(`drop table if exists "helm_registries" cascade;`);
    this.addSql(`drop table if exists "helm_tag_formats" cascade;`);
    this.addSql(`drop table if exists "helm_charts" cascade;`);
    this.addSql(`drop table if exists "settings" cascade;`);
    this.addSql(`drop table if exists "users" cascade;`);
    this.addSql(`drop table if exists "group_members" cascade;`);
    this.addSql(`drop table if exists "envs" cascade;`);
    this.addSql(`drop table if exists "secrets" cascade;`);
    this.addSql(`drop table if exists "k8s_clusters" cascade;`);
    this.addSql(`drop table if exists "k8s_namespaces" cascade;`);
    this.addSql(`drop table if exists "k8s_service_accounts" cascade;`);
    this.addSql(`drop table if exists "env_user_permissions" cascade;`);
    this.addSql(`drop table if exists "deployment_resource_types" cascade;`);
    this.addSql(`drop table if exists "deployment_tasks" cascade;`);
    this.addSql(`drop table if exists "deployments" cascade;`);
    this.addSql(`drop table if exists "k8s_resources" cascade;`);
    this.addSql(`drop table if exists "deployment_resources" cascade;`);
    this.addSql(`drop table if exists "deployment_permissions" cascade;`);
    this.addSql(`drop table if exists "bot_tokens" cascade;`);
    this.addSql(`drop table if exists "user_sessions" cascade;`);
    this.addSql(`drop table if exists "user_tokens" cascade;`);
    this.addSql(`drop table if exists "web_apps" cascade;`);
    this.addSql(`drop table if exists "group_web_apps" cascade;`);

    this.addSql(`drop type "helm_registry_provider";`);
    this.addSql(`drop type "user_approval_state";`);
    this.addSql(`drop type "env_user_role";`);
    this.addSql(`drop type "deployment_task_status";`);
    this.addSql(`drop type "deployment_status";`);
    this.addSql(`drop type "deployment_resource_sync_status";`);
    this.addSql(`drop type "user_deployment_role";`);
  }

}
