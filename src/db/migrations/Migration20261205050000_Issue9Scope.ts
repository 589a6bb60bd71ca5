import { Migration } from '@mikro-orm/migrations';

/** The lock every event-writing transaction takes first, so cursors grow in commit order (src/events/event-log.ts). */
const EVENT_LOCK = 0x62657276; // "berv"

/** A SQL expression over a row alias (`r` for the row as written, `o` for the row before an update). */
type Expr = (row: string) => string;

const clusterEnv: Expr = (row) => `(select env_id from k8s_clusters where id = ${row}.cluster_id)`;
const deploymentEnv: Expr = (row) => `(select c.env_id from deployments d join k8s_clusters c on c.id = d.cluster_id where d.id = ${row}.deployment_id)`;
/** The users whose groups a group's change touches: its members, or everyone for Kubportal's automatic groups. */
const groupAudience = (groupId: string, special: string) =>
  `array(select 'user:' || m.user_id from group_members m where m.group_id = ${groupId} union select 'user:' || u.id from users u where ${special})`;
const isSpecial = (group: string) => `(${group}.special_all_accounts or ${group}.special_k8s_accounts)`;
/** only when the env changed (or the row came or went): a deployment's identity sees its env, not its status */
const whenMoved = `TG_OP <> 'UPDATE' or old_env is distinct from new_env`;

/** The ids a subscription filters on, per table, from a row alias. */
const refs = {
  deployments: (row: string) => `jsonb_build_object('cluster_id', ${row}.cluster_id, 'kind_id', ${row}.kind_id)`,
  deployment_tasks: (row: string) => `jsonb_build_object('cluster_id', ${row}.cluster_id, 'deployment_id', ${row}.deployment_id)`,
  deployment_resources: (row: string) => `jsonb_build_object('deployment_id', ${row}.deployment_id, 'type_id', ${row}.type_id)`,
  k8s_resources: (row: string) => `jsonb_build_object('cluster_id', ${row}.cluster_id, 'deployment_id', ${row}.deployment_id, 'kind', ${row}.kind)`,
};

/**
 * What moves with an object whose env changes: rows whose env is read through it, so their own
 * tables see no write. Each gets an UPDATE event from the old env to the new one, written with one
 * set-based statement per table (`parent` is the moving row).
 */
const movesWith: Record<string, { table: keyof typeof refs; from: string; where: (parent: string) => string }[]> = {
  k8s_clusters: [
    { table: 'deployments', from: 'deployments x', where: (p) => `x.cluster_id = ${p}.id` },
    { table: 'deployment_tasks', from: 'deployment_tasks x', where: (p) => `x.cluster_id = ${p}.id` },
    { table: 'k8s_resources', from: 'k8s_resources x', where: (p) => `x.cluster_id = ${p}.id` },
    { table: 'deployment_resources', from: 'deployment_resources x join deployments d on d.id = x.deployment_id', where: (p) => `d.cluster_id = ${p}.id` },
  ],
  deployments: [{ table: 'deployment_resources', from: 'deployment_resources x', where: (p) => `x.deployment_id = ${p}.id` }],
};

/**
 * The event sources of Issue4Events, now also recording the scope an update moved the object from
 * (`old_env_id`, `old_refs`) and, for rows that decide what someone may see, a new version of each
 * affected identity's grants (`grants`: a text[] of identity keys).
 */
const sources: { table: string; reportAs?: string; id?: Expr; env: Expr; refs?: Expr; ignoreColumns?: string[]; grants?: Expr; grantsWhen?: string }[] = [
  { table: 'deployments', env: clusterEnv, refs: refs.deployments, grants: (r) => `array['deployment:' || ${r}.id]`, grantsWhen: whenMoved },
  { table: 'deployment_tasks', env: clusterEnv, refs: refs.deployment_tasks },
  { table: 'deployment_resources', env: deploymentEnv, refs: refs.deployment_resources },
  { table: 'k8s_resources', env: clusterEnv, refs: refs.k8s_resources },
  {
    table: 'k8s_clusters',
    env: (r) => `${r}.env_id`,
    grants: (r) => `array(select 'deployment:' || d.id from deployments d where d.cluster_id = ${r}.id)`,
    grantsWhen: whenMoved,
  },
  { table: 'envs', env: (r) => `${r}.id` },
  {
    table: 'env_user_permissions',
    env: (r) => `${r}.env_id`,
    refs: (r) => `jsonb_build_object('user_id', ${r}.user_id, 'bot_id', ${r}.bot_id)`,
    grants: (r) => `array['user:' || ${r}.user_id, 'bot:' || ${r}.bot_id]`,
  },
  {
    table: 'deployment_permissions',
    env: (r) => `${r}.env_id`,
    refs: (r) => `jsonb_build_object('user_id', ${r}.user_id, 'bot_id', ${r}.bot_id, 'kind_id', ${r}.kind_id)`,
    grants: (r) => `array['user:' || ${r}.user_id, 'bot:' || ${r}.bot_id]`,
  },
  { table: 'secrets', env: (r) => `${r}.env_id` },
  {
    table: 'users',
    env: () => 'null',
    refs: (r) => `jsonb_build_object('auth_level', ${r}.auth_level)`,
    ignoreColumns: ['last_login_at'],
    grants: (r) => `array['user:' || ${r}.id]`,
  },
  { table: 'bots', env: () => 'null', grants: (r) => `array['bot:' || ${r}.id]` },
  // a group's flags, members and web apps decide groups, web apps and admin rights (a rename decides nothing)
  {
    table: 'groups',
    env: () => 'null',
    grants: (r) => groupAudience(`${r}.id`, isSpecial(r)),
    grantsWhen: `TG_OP <> 'UPDATE' or (o.can_admin, o.special_all_accounts, o.special_k8s_accounts) is distinct from (r.can_admin, r.special_all_accounts, r.special_k8s_accounts)`,
  },
  { table: 'group_members', reportAs: 'groups', id: (r) => `${r}.group_id`, env: () => 'null', refs: (r) => `jsonb_build_object('user_id', ${r}.user_id)`, grants: (r) => `array['user:' || ${r}.user_id]` },
  {
    table: 'group_web_apps',
    reportAs: 'groups',
    id: (r) => `${r}.group_id`,
    env: () => 'null',
    refs: (r) => `jsonb_build_object('web_app_id', ${r}.web_app_id)`,
    grants: (r) => groupAudience(`${r}.group_id`, `exists (select 1 from groups g where g.id = ${r}.group_id and ${isSpecial('g')})`),
  },
  {
    table: 'web_apps',
    env: () => 'null',
    grants: (r) =>
      `(${groupAudience(`any(array(select gw.group_id from group_web_apps gw where gw.web_app_id = ${r}.id))`, `exists (select 1 from group_web_apps gw join groups g on g.id = gw.group_id where gw.web_app_id = ${r}.id and ${isSpecial('g')})`)})`,
    grantsWhen: `TG_OP <> 'UPDATE' or o.link_show is distinct from r.link_show`,
  },
  { table: 'helm_charts', env: () => 'null', refs: (r) => `jsonb_build_object('helm_registry_id', ${r}.helm_registry_id)` },
  { table: 'helm_registries', env: () => 'null', refs: (r) => `jsonb_build_object('kind_id', ${r}.kind_id)` },
  { table: 'deployment_kinds', env: () => 'null' },
  { table: 'helm_tag_formats', env: () => 'null' },
];

/**
 * Scope changes reach subscribers (issue 9): an update records where the object was before
 * (`old_env_id`, `old_refs`, null when its scope did not change), a cluster or deployment changing
 * env records the move of everything whose env follows it, and `grant_versions` keeps what each
 * user, bot and deployment identity could see from each cursor on, so a replay judges every event
 * with the grants in force at its cursor. `berth_grants` is the one definition of grants, used by
 * requests (src/policy/grants.ts) and by this history alike.
 */
export class Migration20261205050000_Issue9Scope extends Migration {

  override name = 'Migration20261205050000_Issue9Scope';

  override up(): void | Promise<void> {
    this.addSql(`alter table "events" add column "old_env_id" uuid null, add column "old_refs" jsonb null, add column "regrants" boolean not null default false;`);
    this.addSql(`create table "grant_versions" ("identity" text not null, "cursor" bigint not null, "grants" jsonb null, primary key ("identity", "cursor"));`);
    this.addSql(`create index "grant_versions_cursor_index" on "grant_versions" ("cursor");`);

    // null: the identity is gone or deactivated. Kubportal's automatic groups: "all accounts" holds
    // every user, "k8s accounts" every approved user with a service account.
    this.addSql(`
      create function berth_grants(identity text) returns jsonb language plpgsql stable as $$
      declare
        kind text := split_part(identity, ':', 1);
        oid uuid := split_part(identity, ':', 2)::uuid;
        u users;
        env uuid;
      begin
        if kind = 'user' then
          select * into u from users where users.id = oid;
          if not found or not u.is_active then return null; end if;
          return (
            with my_groups as (
              select g.id, g.can_admin from groups g
              where g.special_all_accounts
                 or (g.special_k8s_accounts and u.approval_state = 'ACCESS_APPROVED' and u.service_account_id is not null)
                 or exists (select 1 from group_members m where m.group_id = g.id and m.user_id = oid))
            select jsonb_build_object(
              'siteAdmin', u.is_admin or exists (select 1 from my_groups where can_admin),
              'authLevel', u.auth_level,
              'envRoles', coalesce((select jsonb_object_agg(p.env_id, p.role) from env_user_permissions p where p.user_id = oid), '{}'),
              'kindRoles', coalesce((select jsonb_object_agg(p.env_id || '/' || p.kind_id, p.role) from deployment_permissions p where p.user_id = oid), '{}'),
              'groupIds', coalesce((select jsonb_agg(id order by id) from my_groups), '[]'),
              'webAppIds', coalesce((
                select jsonb_agg(distinct gw.web_app_id order by gw.web_app_id) from group_web_apps gw join web_apps w on w.id = gw.web_app_id
                where w.link_show and gw.group_id in (select id from my_groups)), '[]')));
        elsif kind = 'bot' then
          if not exists (select 1 from bots where id = oid) then return null; end if;
          return jsonb_build_object(
            'siteAdmin', false, 'authLevel', null, 'groupIds', '[]'::jsonb, 'webAppIds', '[]'::jsonb,
            'envRoles', coalesce((select jsonb_object_agg(p.env_id, p.role) from env_user_permissions p where p.bot_id = oid), '{}'),
            'kindRoles', coalesce((select jsonb_object_agg(p.env_id || '/' || p.kind_id, p.role) from deployment_permissions p where p.bot_id = oid), '{}'));
        elsif kind = 'deployment' then
          -- a deployment sees its own env as an env User would
          select c.env_id into env from deployments d join k8s_clusters c on c.id = d.cluster_id where d.id = oid;
          if not found then return null; end if;
          return jsonb_build_object(
            'siteAdmin', false, 'authLevel', null, 'groupIds', '[]'::jsonb, 'webAppIds', '[]'::jsonb, 'kindRoles', '{}'::jsonb,
            'envRoles', case when env is null then '{}'::jsonb else jsonb_build_object(env, 'User') end);
        end if;
        return null;
      end $$;`);

    // A version at this transaction's latest cursor for each identity whose grants differ from its
    // latest version; the event is flagged so followers know to look.
    this.addSql(`
      create function berth_record_grants(identities text[]) returns void language plpgsql as $$
      declare c bigint := current_setting('berth.event_cursor')::bigint; n int;
      begin
        insert into grant_versions (identity, cursor, grants)
          select x.i, c, x.g from (select distinct i, berth_grants(i) as g from unnest(identities) i where i is not null) x
          where x.g is distinct from (select v.grants from grant_versions v where v.identity = x.i order by v.cursor desc limit 1)
             or not exists (select 1 from grant_versions v where v.identity = x.i)
          on conflict (identity, cursor) do update set grants = excluded.grants;
        get diagnostics n = row_count;
        if n > 0 then update events set regrants = true where cursor = c; end if;
      end $$;`);

    this.addSql(`drop function if exists berth_record_event(text, text, uuid, uuid, jsonb);`);
    // An update that leaves the object's scope as it was records no old scope. A delete cascading
    // from a cluster or env finds the parent gone: its env is then the one of its latest event.
    this.addSql(`
      create function berth_record_event(op text, tbl text, obj uuid, env uuid, refs jsonb, old_env uuid, old_refs jsonb) returns void language plpgsql as $$
      declare c bigint;
      begin
        perform pg_advisory_xact_lock(${EVENT_LOCK});
        if env is null and op = 'DELETE' then
          env := (select e.env_id from events e where e.object_id = obj and e.env_id is not null order by e.cursor desc limit 1);
        end if;
        refs := coalesce(refs, '{}'::jsonb);
        if old_env is not distinct from env and old_refs is not distinct from refs then old_env := null; old_refs := null; end if;
        insert into events (table_name, operation, object_id, env_id, refs, old_env_id, old_refs) values (tbl, op, obj, env, refs, old_env, old_refs) returning cursor into c;
        perform set_config('berth.event_cursor', c::text, true);
      end $$;`);

    for (const source of sources) {
      const fn = `berth_event_${source.table}`;
      const reportAs = source.reportAs ?? source.table;
      // memberships are reported as a change of their group, never as its insert or delete
      const op = source.reportAs ? `'UPDATE'` : 'TG_OP';
      const refsOf = source.refs ?? (() => `'{}'::jsonb`);
      const moves = (movesWith[source.table] ?? []).map(
        (child) => `
            insert into events (table_name, operation, object_id, env_id, refs, old_env_id, old_refs)
              select '${child.table}', 'UPDATE', x.id, new_env, ${refs[child.table]('x')}, old_env, ${refs[child.table]('x')}
              from ${child.from} where ${child.where('r')} order by x.id;`,
      );
      const record = `perform berth_record_grants(${source.grants?.('r')} || case when TG_OP = 'UPDATE' then ${source.grants?.('o')} else array[]::text[] end);`;
      const grants = !source.grants ? '' : source.grantsWhen ? `if ${source.grantsWhen} then ${record} end if;` : record;
      this.addSql(`
        create or replace function ${fn}() returns trigger language plpgsql as $$
        declare r record; o record; new_env uuid; old_env uuid; c bigint;
        begin
          if TG_OP = 'DELETE' then r := OLD; else r := NEW; end if;
          if TG_OP = 'UPDATE' then o := OLD; else o := r; end if;
          new_env := ${source.env('r')};
          old_env := case when TG_OP = 'UPDATE' then ${source.env('o')} end;
          perform berth_record_event(${op}, '${reportAs}', ${(source.id ?? ((r) => `${r}.id`))('r')}, new_env, ${refsOf('r')},
            old_env, case when TG_OP = 'UPDATE' then ${refsOf('o')} end);
          ${grants}
          ${
            moves.length
              ? `if TG_OP = 'UPDATE' and old_env is distinct from new_env then${moves.join('')}
            select max(cursor) into c from events;
            perform set_config('berth.event_cursor', c::text, true);
          end if;`
              : ''
          }
          return null;
        end $$;`);
      const ignored = (source.ignoreColumns ?? []).map((c) => ` - '${c}'`).join('');
      const changed = `(to_jsonb(OLD)${ignored}) is distinct from (to_jsonb(NEW)${ignored})`;
      this.addSql(`drop trigger if exists ${fn}_write on "${source.table}";`);
      this.addSql(`drop trigger if exists ${fn}_update on "${source.table}";`);
      this.addSql(`create trigger ${fn}_write after insert or delete on "${source.table}" for each row execute function ${fn}();`);
      this.addSql(`create trigger ${fn}_update after update on "${source.table}" for each row when (${changed}) execute function ${fn}();`);
    }

    // every identity starts with its grants as they are now, valid from the beginning of the log
    this.addSql(`
      insert into grant_versions (identity, cursor, grants)
      select i, 0, berth_grants(i) from (
        select 'user:' || id as i from users union all select 'bot:' || id from bots union all select 'deployment:' || id from deployments) ids;`);
  }

  override down(): void | Promise<void> {
    // the trigger functions of Issue4Events were replaced, and the grants history cannot be rebuilt: restore a backup instead
    throw new Error('Migration Issue9Scope cannot be reverted');
  }
}
