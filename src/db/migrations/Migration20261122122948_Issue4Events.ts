import { Migration } from '@mikro-orm/migrations';

/** The lock every event-writing transaction takes first, so cursors grow in commit order (src/events/event-log.ts). */
const EVENT_LOCK = 0x62657276; // "berv"

const clusterEnv = '(select env_id from k8s_clusters where id = r.cluster_id)';

/**
 * The tables whose changes are events, frozen as of this migration: how to find the reported
 * object (`id`), its env and the ids subscriptions filter on, all from the row `r` (OLD for deletes).
 * Group memberships and a group's web apps are reported as an UPDATE of the group.
 */
const sources: { table: string; reportAs?: string; id?: string; env: string; refs?: string; ignoreColumns?: string[] }[] = [
  { table: 'deployments', env: clusterEnv, refs: `jsonb_build_object('cluster_id', r.cluster_id, 'kind_id', r.kind_id)` },
  { table: 'deployment_tasks', env: clusterEnv, refs: `jsonb_build_object('cluster_id', r.cluster_id, 'deployment_id', r.deployment_id)` },
  {
    table: 'deployment_resources',
    env: '(select c.env_id from deployments d join k8s_clusters c on c.id = d.cluster_id where d.id = r.deployment_id)',
    refs: `jsonb_build_object('deployment_id', r.deployment_id, 'type_id', r.type_id)`,
  },
  { table: 'k8s_resources', env: clusterEnv, refs: `jsonb_build_object('cluster_id', r.cluster_id, 'deployment_id', r.deployment_id, 'kind', r.kind)` },
  { table: 'k8s_clusters', env: 'r.env_id' },
  { table: 'envs', env: 'r.id' },
  { table: 'env_user_permissions', env: 'r.env_id', refs: `jsonb_build_object('user_id', r.user_id, 'bot_id', r.bot_id)` },
  { table: 'deployment_permissions', env: 'r.env_id', refs: `jsonb_build_object('user_id', r.user_id, 'bot_id', r.bot_id, 'kind_id', r.kind_id)` },
  // metadata only: events never carry contents, and a change of contents alone is still a change
  { table: 'secrets', env: 'r.env_id' },
  // a sign-in stamps last_login_at: not a change anyone subscribes to
  { table: 'users', env: 'null', refs: `jsonb_build_object('auth_level', r.auth_level)`, ignoreColumns: ['last_login_at'] },
  { table: 'bots', env: 'null' },
  { table: 'groups', env: 'null' },
  { table: 'group_members', reportAs: 'groups', id: 'r.group_id', env: 'null', refs: `jsonb_build_object('user_id', r.user_id)` },
  { table: 'group_web_apps', reportAs: 'groups', id: 'r.group_id', env: 'null', refs: `jsonb_build_object('web_app_id', r.web_app_id)` },
  { table: 'web_apps', env: 'null' },
  { table: 'helm_charts', env: 'null', refs: `jsonb_build_object('helm_registry_id', r.helm_registry_id)` },
  { table: 'helm_registries', env: 'null', refs: `jsonb_build_object('kind_id', r.kind_id)` },
  { table: 'deployment_kinds', env: 'null' },
  { table: 'helm_tag_formats', env: 'null' },
];

export class Migration20261122122948_Issue4Events extends Migration {

  override name = 'Migration20261122122948_Issue4Events';

  override up(): void | Promise<void> {
    this.addSql(`create table "events" ("cursor" bigserial primary key, "created_at" timestamptz not null default now(), "table_name" text not null, "operation" text not null, "object_id" uuid not null, "env_id" uuid null, "refs" jsonb not null default '{}');`);
    this.addSql(`create index "events_created_at_index" on "events" ("created_at");`);
    this.addSql(`create index "events_object_id_index" on "events" ("object_id");`);

    // A delete cascading from a cluster or env finds the parent gone: the env the object last had
    // is then taken from its latest event. The cursor of the transaction's last event is left in a
    // transaction-local setting, for the announcement after commit.
    this.addSql(`
      create function berth_record_event(op text, tbl text, obj uuid, env uuid, refs jsonb) returns void language plpgsql as $$
      declare c bigint;
      begin
        perform pg_advisory_xact_lock(${EVENT_LOCK});
        if env is null and op = 'DELETE' then
          env := (select e.env_id from events e where e.object_id = obj and e.env_id is not null order by e.cursor desc limit 1);
        end if;
        insert into events (table_name, operation, object_id, env_id, refs) values (tbl, op, obj, env, coalesce(refs, '{}'::jsonb)) returning cursor into c;
        perform set_config('berth.event_cursor', c::text, true);
      end $$;`);
    for (const source of sources) {
      const fn = `berth_event_${source.table}`;
      const reportAs = source.reportAs ?? source.table;
      // memberships are reported as a change of their group, never as its insert or delete
      const op = source.reportAs ? `'UPDATE'` : 'TG_OP';
      this.addSql(`
        create function ${fn}() returns trigger language plpgsql as $$
        declare r record;
        begin
          if TG_OP = 'DELETE' then r := OLD; else r := NEW; end if;
          perform berth_record_event(${op}, '${reportAs}', ${source.id ?? 'r.id'}, ${source.env}, ${source.refs ?? 'null'});
          return null;
        end $$;`);
      const ignored = (source.ignoreColumns ?? []).map((c) => ` - '${c}'`).join('');
      // a no-op update (every column the same) is not a change
      const changed = `(to_jsonb(OLD)${ignored}) is distinct from (to_jsonb(NEW)${ignored})`;
      this.addSql(`create trigger ${fn}_write after insert or delete on "${source.table}" for each row execute function ${fn}();`);
      this.addSql(`create trigger ${fn}_update after update on "${source.table}" for each row when (${changed}) execute function ${fn}();`);
    }
  }

  override down(): void | Promise<void> {
    for (const source of sources) this.addSql(`drop function if exists berth_event_${source.table}() cascade;`);
    this.addSql(`drop function if exists berth_record_event(text, text, uuid, uuid, jsonb);`);
    this.addSql(`drop table if exists "events" cascade;`);
  }

}
