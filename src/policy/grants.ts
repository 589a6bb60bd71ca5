import type { SqlEntityManager } from '@mikro-orm/sql';
import type { KnownIdentity } from '../auth/identity.js';
import type { User } from '../entities/index.js';
import { EnvUserRole, UserApprovalState, UserDeploymentRole } from '../entities/enums.js';

/** What the caller holds: read once per request (one statement) and consulted by every policy check. */
export interface Grants {
  identity: KnownIdentity;
  /** an active user with is_admin, or a member of a can_admin group (Kubportal) */
  siteAdmin: boolean;
  /** env id → role */
  envRoles: Map<string, EnvUserRole>;
  /** `${envId}/${kindId}` → role */
  kindRoles: Map<string, UserDeploymentRole>;
  /** groups the user is in, the automatic ones included (Kubportal) */
  groupIds: Set<string>;
  /** web apps of those groups with link_show set */
  webAppIds: Set<string>;
}

/** Kubportal's "k8s accounts" groups hold the approved users that have a service account. */
export const hasK8sAccount = (user: User) => user.approvalState === UserApprovalState.ACCESS_APPROVED && !!user.serviceAccount;

export const kindKey = (envId: string, kindId: string) => `${envId}/${kindId}`;

type Row = { source: 'env' | 'kind' | 'group' | 'webapp'; id: string; kind_id: string | null; role: string | null };

// Kubportal's automatic groups: "all accounts" holds every user, "k8s accounts" every approved user with a service account.
const USER_GRANTS_SQL = `
  with my_groups as (
    select g.id, g.can_admin from groups g
    where g.special_all_accounts
       or (g.special_k8s_accounts and ?::boolean)
       or exists (select 1 from group_members m where m.group_id = g.id and m.user_id = ?))
  select 'env' as source, env_id as id, null::uuid as kind_id, role::text as role from env_user_permissions where user_id = ?
  union all
  select 'kind', env_id, kind_id, role::text from deployment_permissions where user_id = ?
  union all
  select 'group', id, null::uuid, case when can_admin then 'admin' end from my_groups
  union all
  select distinct 'webapp', gw.web_app_id, null::uuid, null::text from group_web_apps gw
    join web_apps w on w.id = gw.web_app_id
    where w.link_show and gw.group_id in (select id from my_groups)`;

const BOT_GRANTS_SQL = `
  select 'env' as source, env_id as id, null::uuid as kind_id, role::text as role from env_user_permissions where bot_id = ?
  union all
  select 'kind', env_id, kind_id, role::text from deployment_permissions where bot_id = ?`;

export async function loadGrants(em: SqlEntityManager, identity: KnownIdentity): Promise<Grants> {
  const grants: Grants = {
    identity,
    siteAdmin: false,
    envRoles: new Map(),
    kindRoles: new Map(),
    groupIds: new Set(),
    webAppIds: new Set(),
  };
  // on the caller's transaction when there is one: the embedded database has a single connection
  const query = <T extends Record<string, unknown>[]>(sql: string, params: unknown[]) => em.getConnection().execute<T>(sql, params, 'all', em.getTransactionContext());
  let rows: Row[] = [];
  switch (identity.kind) {
    case 'user': {
      const user = identity.user;
      // a site admin passes every check, so its roles and groups are never consulted
      if (user.isAdmin) return { ...grants, siteAdmin: true };
      rows = await query<Row[]>(USER_GRANTS_SQL, [hasK8sAccount(user), user.id, user.id, user.id]);
      grants.siteAdmin = user.isAdmin || rows.some((r) => r.source === 'group' && r.role === 'admin');
      break;
    }
    case 'bot':
      rows = await query<Row[]>(BOT_GRANTS_SQL, [identity.bot.id, identity.bot.id]);
      break;
    case 'deployment': {
      // a deployment sees its own env as an env User would; what it may change is decided per operation
      const [cluster] = await query<{ env_id: string | null }[]>('select env_id from k8s_clusters where id = ?', [identity.deployment.cluster.id]);
      if (cluster?.env_id) grants.envRoles.set(cluster.env_id, EnvUserRole.User);
      break;
    }
  }
  for (const row of rows) {
    if (row.source === 'env') grants.envRoles.set(row.id, row.role as EnvUserRole);
    else if (row.source === 'kind') grants.kindRoles.set(kindKey(row.id, row.kind_id!), row.role as UserDeploymentRole);
    else if (row.source === 'group') grants.groupIds.add(row.id);
    else grants.webAppIds.add(row.id);
  }
  return grants;
}

/** Admin of any env: picks users and bots to grant roles to, so may list them. */
export const adminOfSomeEnv = (g: Grants) => [...g.envRoles.values()].includes(EnvUserRole.Admin);
