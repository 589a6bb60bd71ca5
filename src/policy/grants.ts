import type { SqlEntityManager } from '@mikro-orm/sql';
import { requireIdentity, type ServiceContext } from '../request/context.js';
import { userFacts, type KnownIdentity } from '../request/identity.js';
import type { User } from '../entities/index.js';
import { EnvUserRole, UserApprovalState, UserDeploymentRole } from '../entities/enums.js';

/** What the caller holds: read once per request (one statement) and consulted by every policy check. */
export interface Grants {
  identity: KnownIdentity;
  /** an active user with is_admin, or a member of a can_admin group (Kubportal) */
  siteAdmin: boolean;
  /** the user's auth level (Lighthouse): it sees users of a lower one */
  authLevel: number | null;
  /** env id → role */
  envRoles: Map<string, EnvUserRole>;
  /** `${envId}/${kindId}` → role */
  kindRoles: Map<string, UserDeploymentRole>;
  /** groups the user is in, the automatic ones included (Kubportal) */
  groupIds: Set<string>;
  /** web apps of those groups with link_show set */
  webAppIds: Set<string>;
  /**
   * The same object for every copy of one reading of these grants (the grants cache hands each request a copy with
   * its own identity): what memos of what grants imply (scopes, statements) key on, so a credential's requests share them.
   */
  memoKey: object;
}

export const kindKey = (envId: string, kindId: string) => `${envId}/${kindId}`;

/** Grants as `berth_grants(identity)` computes them (migration Issue9Scope): null when the identity is gone or deactivated. */
export interface GrantsRecord {
  siteAdmin: boolean;
  authLevel: number | null;
  envRoles: Record<string, string>;
  kindRoles: Record<string, string>;
  groupIds: string[];
  webAppIds: string[];
}

const identityKeys = new WeakMap<KnownIdentity, string>();

/** The key grants are recorded under: `user:<id>`, `bot:<id>`, `deployment:<id>`, `system:<name>` (kept per identity object: the event hub asks for it per subscriber and event). */
export function identityKey(identity: KnownIdentity): string {
  let key = identityKeys.get(identity);
  if (key === undefined) identityKeys.set(identity, (key = `${identity.kind}:${idOf(identity)}`));
  return key;
}

function idOf(identity: KnownIdentity): string {
  switch (identity.kind) {
    case 'user':
      return userFacts(identity).id;
    case 'bot':
      return identity.bot.id;
    case 'deployment':
      return identity.deployment.id;
    case 'system':
      return identity.name;
  }
}

/** The grants of a record, for this identity. */
export function grantsFrom(identity: KnownIdentity, record: GrantsRecord | null): Grants {
  return {
    identity,
    siteAdmin: record?.siteAdmin ?? false,
    authLevel: record?.authLevel ?? null,
    envRoles: new Map(Object.entries(record?.envRoles ?? {}) as [string, EnvUserRole][]),
    kindRoles: new Map(Object.entries(record?.kindRoles ?? {}) as [string, UserDeploymentRole][]),
    groupIds: new Set(record?.groupIds),
    webAppIds: new Set(record?.webAppIds),
    memoKey: {},
  };
}

/** What the identity holds now, in one statement; the same SQL function records the history subscribers are judged with. */
export async function loadGrants(em: SqlEntityManager, identity: KnownIdentity): Promise<Grants> {
  // a site admin passes every check, so its roles and groups are never consulted
  if (identity.kind === 'user' && userFacts(identity).isAdmin) return { ...grantsFrom(identity, null), siteAdmin: true, authLevel: userFacts(identity).authLevel };
  if (identity.kind === 'system') return { ...grantsFrom(identity, null), siteAdmin: true };
  // on the caller's transaction when there is one: the embedded database has a single connection
  const [row] = await em
    .getConnection()
    .execute<{ grants: GrantsRecord | string | null }[]>('select berth_grants(?) as grants', [identityKey(identity)], 'all', em.getTransactionContext());
  const record = typeof row?.grants === 'string' ? (JSON.parse(row.grants) as GrantsRecord) : (row?.grants ?? null);
  return grantsFrom(identity, record);
}

const GRANTS = Symbol('grants');

/** The caller's grants, read once per request on first use (or from the grants cache); UNAUTHENTICATED for anonymous callers. */
export function grantsOf(ctx: ServiceContext): Promise<Grants> {
  let grants = ctx.memo.get(GRANTS) as Promise<Grants> | undefined;
  if (!grants) {
    const identity = requireIdentity(ctx);
    const load = () => loadGrants(ctx.loaders.reader, identity);
    // inside a transaction grants may reflect writes not committed yet: never shared
    const cache = ctx.loaders.reader.isInTransaction() ? undefined : ctx.grantsCache;
    grants = cache ? (cache.get(identityKey(identity), identity, load) as Promise<Grants>) : load();
    ctx.memo.set(GRANTS, grants);
  }
  return grants;
}

/** Grants known otherwise (a stream judging an event with the grants in force at it). */
export const useGrants = (ctx: ServiceContext, grants: Grants) => void ctx.memo.set(GRANTS, Promise.resolve(grants));

/** The caller changed within the request (login): its grants are read again. */
export const forgetGrants = (ctx: ServiceContext) => void ctx.memo.delete(GRANTS);

/** Kubportal's "k8s accounts" groups hold the approved users that have a service account (as berth_grants decides). */
export const hasK8sAccount = (user: User) => user.approvalState === UserApprovalState.ACCESS_APPROVED && !!user.serviceAccount;

/** Admin of any env: picks users and bots to grant roles to, so may list them. */
export const adminOfSomeEnv = (g: Grants) => [...g.envRoles.values()].includes(EnvUserRole.Admin);
