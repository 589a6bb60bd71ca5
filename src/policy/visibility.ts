import type { EntityClass } from '@mikro-orm/core';
import {
  AuditRecord, Bot, BotToken, Deployment, DeploymentKind, DeploymentPermission, DeploymentResource, DeploymentResourceType,
  DeploymentTask, Env, EnvApiKey, EnvUserPermission, Group, HelmChart, HelmRegistry, HelmTagFormat, K8sCluster, K8sNamespace,
  K8sResource, K8sServiceAccount, Secret, User, UserToken, WebApp,
} from '../entities/index.js';
import { EnvUserRole } from '../entities/enums.js';
import { camelCase } from '../util/case.js';
import type { ServiceContext } from '../request/context.js';
import { userFacts } from '../request/identity.js';
import type { Where } from '../request/where.js';
import { adminOfSomeEnv, type Grants } from './grants.js';

type Row = { id: string } & Record<string, unknown>;

/**
 * Who may see a row of one aggregate, stated once and used two ways: as a filter for lists
 * (`where`, null when the caller sees every row) and as a check on a row already loaded
 * (by id and through relations). An object out of scope looks exactly like a missing one.
 */
interface VisibilityRule {
  where(g: Grants): Where | null;
  visible(g: Grants, row: Row, ctx: ServiceContext): boolean | Promise<boolean>;
  /** what the verdicts depend on in the grants (see sameScope); set for the aggregates that produce events */
  scope?(g: Grants): string;
  /**
   * the same across identities (see sharedScopeKey): equal strings, equal verdicts for whoever holds the
   * grants; null, or absent, when the verdicts depend on who holds them (their own user, bot or account)
   */
  shared?(g: Grants): string | null;
  /** set for rows inside an env: an event about one is visible by the env it recorded */
  byEnv?: true;
  /** for rows inside an env, the relations from a row to its env */
  envPath?: readonly string[];
}

const NOTHING: Where = { id: { $in: [] } };

const envIdsMemo = new WeakMap<object, Set<string>>();

/** Envs where the caller holds any role: an env role, or a deployment-kind role there. Grants never change once read. */
export function visibleEnvIds(g: Grants): Set<string> {
  let ids = envIdsMemo.get(g.memoKey);
  if (!ids) {
    ids = new Set(g.envRoles.keys());
    for (const key of g.kindRoles.keys()) ids.add(key.slice(0, key.indexOf('/')));
    envIdsMemo.set(g.memoKey, ids);
  }
  return ids;
}

const everyone: VisibilityRule = { where: () => null, visible: () => true, scope: () => '', shared: () => '' };
const siteAdminsOnly: VisibilityRule = { where: (g) => (g.siteAdmin ? null : NOTHING), visible: (g) => g.siteAdmin, scope: (g) => String(g.siteAdmin), shared: (g) => String(g.siteAdmin) };
const envScope = (g: Grants) => (g.siteAdmin ? '*' : [...visibleEnvIds(g)].sort().join(','));
/** for rules that show everything to whoever passes `all`, and otherwise the caller's own rows */
const allOrOwn = (all: (g: Grants) => boolean) => (g: Grants) => (all(g) ? '*' : null);

/** Rows inside an env, reached from the row through `path` (relation names ending at the env). */
function insideEnv(path: string[]): VisibilityRule {
  return {
    byEnv: true,
    envPath: path,
    scope: envScope,
    shared: envScope,
    where(g) {
      if (g.siteAdmin) return null;
      let where: Where = { $in: [...visibleEnvIds(g)] };
      for (const step of [...path].reverse()) where = { [step]: where };
      return path.length ? where : { id: where };
    },
    async visible(g, row, ctx) {
      if (g.siteAdmin) return true;
      const envId = await envIdOf(ctx, row, path);
      return !!envId && visibleEnvIds(g).has(envId);
    },
  };
}

/** Follows `path` from a row to its env id, loading each intermediate row through the request's batch loaders. */
async function envIdOf(ctx: ServiceContext, row: Row, path: string[]): Promise<string | null> {
  if (!path.length) return row.id;
  let current: Row | null = row;
  let meta = ctx.loaders.reader.getMetadata().get(row.constructor as EntityClass<Row>);
  for (const [i, step] of path.entries()) {
    const ref = current?.[step] as { id: string } | null | undefined;
    if (!ref) return null;
    if (i === path.length - 1) return ref.id;
    const target = meta.properties[step].targetMeta!;
    current = (await ctx.loaders.byId(target.class as EntityClass<Row>).load(ref.id)) as Row | null;
    meta = target;
  }
  return null;
}

const users: VisibilityRule = {
  scope: (g) => `${g.siteAdmin || adminOfSomeEnv(g)}|${String(g.authLevel)}`,
  shared: allOrOwn((g) => g.siteAdmin || adminOfSomeEnv(g)),
  // Lighthouse: yourself and users of a strictly lower auth level; env Admins also see everyone they could grant a role to
  where(g) {
    if (g.siteAdmin || adminOfSomeEnv(g)) return null;
    if (g.identity.kind !== 'user') return NOTHING;
    return { $or: [{ id: userFacts(g.identity).id }, { authLevel: { $lt: g.authLevel ?? 0 } }] };
  },
  visible(g, row) {
    if (g.siteAdmin || adminOfSomeEnv(g)) return true;
    if (g.identity.kind !== 'user') return false;
    return row.id === userFacts(g.identity).id || (row as unknown as User).authLevel < (g.authLevel ?? 0);
  },
};

const bots: VisibilityRule = {
  scope: (g) => String(g.siteAdmin || adminOfSomeEnv(g)),
  shared: allOrOwn((g) => g.siteAdmin || adminOfSomeEnv(g)),
  where: (g) => (g.siteAdmin || adminOfSomeEnv(g) ? null : g.identity.kind === 'bot' ? { id: g.identity.bot.id } : NOTHING),
  visible: (g, row) => g.siteAdmin || adminOfSomeEnv(g) || (g.identity.kind === 'bot' && g.identity.bot.id === row.id),
};

const userTokens: VisibilityRule = {
  scope: (g) => String(g.siteAdmin),
  shared: allOrOwn((g) => g.siteAdmin),
  where: (g) => (g.siteAdmin ? null : g.identity.kind === 'user' ? { user: userFacts(g.identity).id } : NOTHING),
  visible: (g, row) => g.siteAdmin || (g.identity.kind === 'user' && (row as unknown as UserToken).user.id === userFacts(g.identity).id),
};

/** Kubportal: your own groups, and the web apps your groups show. */
const memberOf = (ids: (g: Grants) => Set<string>): VisibilityRule => {
  const scope = (g: Grants) => (g.siteAdmin ? '*' : [...ids(g)].sort().join());
  return {
    scope,
    shared: scope,
    where: (g) => (g.siteAdmin ? null : { id: { $in: [...ids(g)] } }),
    visible: (g, row) => g.siteAdmin || ids(g).has(row.id),
  };
};

/** Namespaces and service accounts of clusters in your envs, and your own service account. */
const serviceAccounts: VisibilityRule = {
  shared: allOrOwn((g) => g.siteAdmin),
  where(g) {
    const inside = insideEnv(['namespace', 'cluster', 'env']).where(g);
    const own = g.identity.kind === 'user' ? userFacts(g.identity).serviceAccountId : undefined;
    return inside && own ? { $or: [inside, { id: own }] } : inside;
  },
  async visible(g, row, ctx) {
    const own = g.identity.kind === 'user' && userFacts(g.identity).serviceAccountId === row.id;
    return own || insideEnv(['namespace', 'cluster', 'env']).visible(g, row, ctx);
  },
};

/** Global resource types (no env) are catalog entries; the rest belong to their env. */
const resourceTypes: VisibilityRule = {
  shared: envScope,
  where(g) {
    const inside = insideEnv(['env']).where(g);
    return inside ? { $or: [{ env: null }, inside] } : null;
  },
  visible: (g, row, ctx) => !(row as unknown as DeploymentResourceType).env || insideEnv(['env']).visible(g, row, ctx),
};

/** Site admins read every record; env Admins those of their envs. */
const adminEnvIds = (g: Grants) => [...g.envRoles].filter(([, role]) => role === EnvUserRole.Admin).map(([id]) => id);
const auditRecords: VisibilityRule = {
  shared: (g) => (g.siteAdmin ? '*' : adminEnvIds(g).sort().join(',')),
  where: (g) => (g.siteAdmin ? null : { env: { $in: adminEnvIds(g) } }),
  visible(g, row) {
    const env = (row as unknown as AuditRecord).env;
    return g.siteAdmin || (!!env && g.envRoles.get(env) === EnvUserRole.Admin);
  },
};

/** Every exposed aggregate has exactly one rule; an aggregate without one is visible to nobody. */
const rules = new Map<EntityClass<unknown>, VisibilityRule>([
  // catalogs
  [DeploymentKind, everyone],
  [HelmRegistry, everyone],
  [HelmChart, everyone],
  [HelmTagFormat, everyone],
  [DeploymentResourceType, resourceTypes],
  // people and credentials
  [User, users],
  [Bot, bots],
  [UserToken, userTokens],
  [BotToken, siteAdminsOnly],
  // Storj's project API keys, handed out by its admin
  [EnvApiKey, siteAdminsOnly],
  [Group, memberOf((g) => g.groupIds)],
  [WebApp, memberOf((g) => g.webAppIds)],
  // everything inside an env
  [Env, insideEnv([])],
  [EnvUserPermission, insideEnv(['env'])],
  [DeploymentPermission, insideEnv(['env'])],
  [Secret, insideEnv(['env'])],
  [K8sCluster, insideEnv(['env'])],
  [K8sNamespace, insideEnv(['cluster', 'env'])],
  [K8sServiceAccount, serviceAccounts],
  [Deployment, insideEnv(['cluster', 'env'])],
  [DeploymentTask, insideEnv(['cluster', 'env'])],
  [K8sResource, insideEnv(['cluster', 'env'])],
  [DeploymentResource, insideEnv(['deployment', 'cluster', 'env'])],
  [AuditRecord, auditRecords],
]);

function ruleOf(entity: EntityClass<unknown>): VisibilityRule {
  return rules.get(entity) ?? { where: () => NOTHING, visible: () => false };
}

/**
 * Whether the row a visible `parent` row reaches through its to-one relation `relation` is visible to whoever sees the
 * parent: both live inside an env, and the parent's way to its env goes through that relation (a deployment's env is
 * its cluster's), so both are in the same env. A read through such a relation needs no scope of its own.
 */
export function visibleThrough(parent: EntityClass<unknown>, relation: string, target: EntityClass<unknown>): boolean {
  const from = ruleOf(parent).envPath;
  const to = ruleOf(target).envPath;
  return !!from && !!to && from.length === to.length + 1 && from[0] === relation && to.every((step, i) => step === from[i + 1]);
}

const scopeMemo = new WeakMap<object, Map<EntityClass<unknown>, Where | null>>();

/**
 * The rows of this aggregate the caller may see, as a query; null when every row is visible. Lists and relations
 * on the read path apply it in SQL, so a hidden row never leaves the database. The same object for every copy of one
 * reading of grants (`memoKey`: a credential's requests), which batch loaders and statement memos key on.
 */
export function scopeWhere(g: Grants, entity: EntityClass<unknown>): Where | null {
  let scopes = scopeMemo.get(g.memoKey);
  if (!scopes) scopeMemo.set(g.memoKey, (scopes = new Map()));
  let scope = scopes.get(entity);
  if (scope === undefined) scopes.set(entity, (scope = ruleOf(entity).where(g)));
  return scope;
}

/** Keeps the rows this caller may see, in order; the others become null. */
export async function keepVisible<T extends { id: string }>(ctx: ServiceContext, g: Grants, entity: EntityClass<T>, rows: readonly (T | null)[]): Promise<(T | null)[]> {
  const rule = ruleOf(entity as EntityClass<unknown>);
  const verdicts = await Promise.all(rows.map((row) => (row ? rule.visible(g, row as unknown as Row, ctx) : false)));
  return rows.map((row, i) => (verdicts[i] ? row : null));
}

const scopeKeyMemo = new WeakMap<object, Map<VisibilityRule, string>>();

/** What a rule's verdicts depend on in these grants, as a string: equal strings, equal verdicts on every row. */
function scopeKey(g: Grants, rule: VisibilityRule): string {
  let keys = scopeKeyMemo.get(g.memoKey);
  if (!keys) scopeKeyMemo.set(g.memoKey, (keys = new Map()));
  let key = keys.get(rule);
  if (key === undefined) keys.set(rule, (key = rule.scope?.(g) ?? ''));
  return key;
}

/** Whether these two sets of grants see exactly the same rows of this aggregate (a change of roles that changes nothing here). */
export function sameScope(a: Grants, b: Grants, entity: EntityClass<unknown>): boolean {
  const rule = ruleOf(entity);
  return !!rule.scope && scopeKey(a, rule) === scopeKey(b, rule);
}

const sharedKeyMemo = new WeakMap<object, WeakMap<readonly EntityClass<unknown>[], string | null>>();

/**
 * What the verdicts of these aggregates' rules depend on in these grants, whoever holds them: two identities
 * with equal strings see exactly the same rows of each (a subscription's selection reading them through
 * relations can then be executed once for both). Null when some rule looks at the identity itself (its own
 * user, bot, token or service account). `entities` is kept by the caller: the answer is remembered per array.
 */
export function sharedScopeKey(g: Grants, entities: readonly EntityClass<unknown>[]): string | null {
  let keys = sharedKeyMemo.get(g.memoKey);
  if (!keys) sharedKeyMemo.set(g.memoKey, (keys = new WeakMap()));
  let key = keys.get(entities);
  if (key === undefined) {
    const parts = entities.map((entity) => ruleOf(entity).shared?.(g) ?? null);
    key = parts.includes(null) ? null : parts.join('|');
    keys.set(entities, key);
  }
  return key;
}

/** An object as a change event recorded it, on one side of the change: its env and the ids it referred to. */
export interface RecordedScope {
  envId: string | null;
  refs: Record<string, unknown>;
}

/**
 * Change events are judged on what the event recorded, never on the row as it is now, so a live
 * stream and a replay of the same cursors agree: rows inside an env by the recorded env, the others
 * by their rule on the recorded ids (auth_level → authLevel). `verdicts` caches verdicts per env and
 * distinct scope, so one event is judged once per set of visible envs rather than once per subscriber.
 */
export function eventVisible(g: Grants, entity: EntityClass<unknown>, id: string, scope: RecordedScope, verdicts: Map<string, boolean>): boolean | Promise<boolean> {
  const rule = ruleOf(entity);
  // no request context here: the rules of event types outside envs (users, bots, groups, web apps, catalogs) load nothing
  if (!rule.byEnv) return rule.visible(g, recordedRow(id, scope), undefined as never);
  if (g.siteAdmin) return true;
  if (!scope.envId) return false;
  const key = `${scope.envId} ${scopeKey(g, rule)}`;
  let verdict = verdicts.get(key);
  if (verdict === undefined) verdicts.set(key, (verdict = visibleEnvIds(g).has(scope.envId)));
  return verdict;
}

function recordedRow(id: string, scope: RecordedScope): Row {
  const recorded = Object.entries(scope.refs).map(([key, value]) => [camelCase(key), value]);
  return { ...Object.fromEntries(recorded), id };
}
