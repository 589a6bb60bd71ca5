import { DeploymentPermission, Env, EnvUserPermission, K8sCluster, User } from '../entities/index.js';
import { EnvUserRole } from '../entities/enums.js';
import { badInput, conflict, forbidden, notFound } from '../errors/domain-error.js';
import type { ClusterNode } from '../k8s/cluster-api.js';
import { grantsOf } from '../policy/grants.js';
import { isEnvAdmin } from '../policy/permissions.js';
import { keepVisible } from '../policy/visibility.js';
import type { ServiceContext } from '../request/context.js';
import { iEquals } from '../request/where.js';
import { setUserEnvRole } from './env-user-permission.service.js';
import type { K8sClusterService } from './k8s-cluster.service.js';
import { snapshot, type Audit, type UnitOfWork } from './unit-of-work.js';

/**
 * Lighthouse's beacons are Berth's clusters, and a user's level on a beacon is its role in the cluster's env:
 * Access (0) is the env role User, Modify (1) and Owner (2) are both the env role Admin, read back as Owner (an
 * Admin is changed by other Admins only, which is what Owner adds to Modify); a level below 0 takes the role away.
 * A site admin owns every beacon. A beacon connected through Lighthouse gets an env of its own.
 */
export const BeaconLevel = { Access: 0, Modify: 1, Owner: 2 } as const;

const levelOfRole = (role: EnvUserRole): number => (role === EnvUserRole.Admin ? BeaconLevel.Owner : BeaconLevel.Access);
const roleOfLevel = (level: number): EnvUserRole | null => (level < BeaconLevel.Access ? null : level >= BeaconLevel.Modify ? EnvUserRole.Admin : EnvUserRole.User);

/** A beacon: a cluster Berth reaches at an address. */
export interface Beacon {
  cluster: K8sCluster;
  /** the API server's URL, `https://` left out: Lighthouse's addresses name no scheme */
  address: string;
  /** the cluster's alias, empty when it has none */
  alias: string;
}

/** The API server's URL a beacon address names (one without a scheme means https), or null for one that is no URL. */
function urlOf(address: string): string | null {
  const text = address.trim();
  const url = /^https?:\/\//i.test(text) ? text : `https://${text}`;
  return text && URL.canParse(url) ? url : null;
}

function beaconUrl(address: string, field: string): string {
  const url = urlOf(address);
  if (!url) throw badInput(field, `${field} must be an address (host:port, or an http(s) URL)`);
  return url;
}

export const beaconOf = (cluster: K8sCluster): Beacon => ({ cluster, address: cluster.apiServerUrl!.replace(/^https:\/\//i, ''), alias: cluster.alias ?? '' });

/** Lighthouse's beacons (src/rest/lighthouse/), over clusters, their envs and the env roles in them. */
export class BeaconService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly clusters: K8sClusterService,
  ) {}

  /** The beacons the caller may see: the clusters it sees that have an address, oldest first. */
  async list(ctx: ServiceContext): Promise<Beacon[]> {
    return (await this.clusters.all(ctx, {})).filter((c) => c.apiServerUrl).map(beaconOf);
  }

  /**
   * Site admins and users of auth level 1 or more (Berth will call the address with the token: a level-0 user could
   * otherwise make it call anywhere). The cluster goes into a new env, its creator that env's Admin (Owner); it is
   * not contacted now, and is ignored, as an imported cluster is, until a site admin clears it.
   */
  create(ctx: ServiceContext, input: { address: string; token?: string | null; alias?: string | null }): Promise<Beacon> {
    return this.uow.mutation(ctx, 'createBeacon', async (tx, audit) => {
      const apiServerUrl = beaconUrl(input.address, 'Address');
      const alias = input.alias?.trim() || null;
      const g = await grantsOf(tx);
      const user = g.identity.kind === 'user' ? g.identity.user : null;
      if (!g.siteAdmin && (user?.authLevel ?? 0) < 1) throw forbidden('Only site admins and users of auth level 1 or more may connect beacons');
      if (await tx.em.count(K8sCluster, { apiServerUrl })) throw conflict(`A beacon at ${input.address} already exists`);
      if (alias) await assertAliasFree(tx, alias);
      const cluster = Object.assign(new K8sCluster(), { providerId: `lighthouse:${apiServerUrl}`, name: alias ?? input.address.trim(), alias, apiServerUrl, ignore: true });
      const envName = `Beacon ${beaconOf(cluster).address}`;
      if (await tx.em.count(Env, { name: iEquals(envName) })) throw conflict(`An env named "${envName}" already exists`);
      cluster.env = Object.assign(new Env(), { name: envName, owner: user, description: 'The env of a beacon connected through Lighthouse' });
      this.clusters.sealBearerToken(cluster, input.token || null);
      tx.em.persist([cluster.env, cluster]);
      audit({ targetType: 'Env', targetId: cluster.env.id, envId: cluster.env.id, after: snapshot(cluster.env) });
      audit({ targetType: 'K8sCluster', targetId: cluster.id, envId: cluster.env.id, after: snapshot(cluster) });
      if (user) await setUserEnvRole(tx, audit, cluster.env, user, EnvUserRole.Admin);
      return beaconOf(cluster);
    });
  }

  /** Modify on the beacon: its token, sealed as the cluster's credentials. */
  setToken(ctx: ServiceContext, name: string, token: string): Promise<Beacon> {
    return this.uow.mutation(ctx, 'setBeaconToken', async (tx, audit) => {
      const cluster = await this.requireModify(tx, name, 'token');
      this.clusters.sealBearerToken(cluster, token);
      // the credentials are hidden from snapshots: the record says who changed them, and when
      audit({ targetType: 'K8sCluster', targetId: cluster.id, envId: cluster.env?.id, before: snapshot(cluster), after: snapshot(cluster) });
      return beaconOf(cluster);
    });
  }

  /** A beacon's instances, its nodes read from its API server; null for a beacon the caller may not see (or none). */
  async instances(ctx: ServiceContext, name: string): Promise<{ beacon: Beacon; nodes: ClusterNode[] } | null> {
    const cluster = await this.find(ctx, name);
    return cluster && { beacon: beaconOf(cluster), nodes: await this.clusters.nodes(cluster) };
  }

  /**
   * Modify on the beacon: its alias. `first` and `second` are an alias and the beacon's address, in either order:
   * Lighthouse's document puts the alias in the path and the address in the body, its code the reverse.
   */
  setAlias(ctx: ServiceContext, first: string, second: string): Promise<Beacon> {
    return this.uow.mutation(ctx, 'setBeaconAlias', async (tx, audit) => {
      const atSecond = await this.find(tx, second, { byAlias: false });
      const cluster = atSecond ?? (await this.find(tx, first, { byAlias: false }));
      if (!cluster) throw notFound('Beacon');
      const alias = (atSecond ? first : second).trim();
      if (!alias) throw badInput('alias', 'The alias must not be empty');
      await this.requireModify(tx, cluster, 'alias');
      await assertAliasFree(tx, alias, cluster.id);
      const before = snapshot(cluster);
      cluster.alias = alias;
      audit({ targetType: 'K8sCluster', targetId: cluster.id, envId: cluster.env?.id, before, after: snapshot(cluster) });
      return beaconOf(cluster);
    });
  }

  /**
   * The levels `user` holds on the beacons the caller may see, by address: from its env roles; a role on one of the
   * env's deployment kinds, which lets it see the cluster, is access.
   */
  async levels(ctx: ServiceContext, user: User): Promise<Record<string, number>> {
    const beacons = await this.list(ctx);
    const where = { user: user.id, env: { $in: beacons.flatMap((b) => (b.cluster.env ? [b.cluster.env.id] : [])) } };
    const [roles, kindRoles] = await Promise.all([ctx.em.find(EnvUserPermission, where), ctx.em.find(DeploymentPermission, where)]);
    const levelIn = new Map<string, number>(kindRoles.map((p) => [p.env.id, BeaconLevel.Access]));
    for (const p of roles) levelIn.set(p.env.id, levelOfRole(p.role));
    const levels = beacons.map((b) => [b.address, user.isAdmin ? BeaconLevel.Owner : (levelIn.get(b.cluster.env?.id ?? '') ?? -1)] as const);
    return Object.fromEntries(levels.filter(([, level]) => level >= 0));
  }

  /**
   * Inside the caller's transaction (Lighthouse's PUT /users/{Email}): `user`'s level on each beacon, named by its
   * address or alias, each needing Modify on the beacon (FORBIDDEN otherwise, for a beacon the caller does not see too).
   */
  async setLevels(tx: ServiceContext, audit: Audit, user: User, levels: Record<string, number>): Promise<void> {
    for (const [name, level] of Object.entries(levels)) {
      if (level > BeaconLevel.Owner) throw badInput('Beacons', `A beacon level is at most ${BeaconLevel.Owner}`);
      const cluster = await this.requireModify(tx, name, 'users');
      if (!cluster.env) throw conflict(`Beacon ${name} is in no env: only site admins reach it`);
      await setUserEnvRole(tx, audit, cluster.env, user, roleOfLevel(level));
    }
  }

  /** The beacon named, if the caller has Modify on it (an Admin of its env); FORBIDDEN otherwise, NOT_FOUND if it sees none. */
  private async requireModify(tx: ServiceContext, beacon: string | K8sCluster, what: string): Promise<K8sCluster> {
    const cluster = typeof beacon === 'string' ? await this.find(tx, beacon) : beacon;
    if (!cluster) throw notFound('Beacon');
    if (!isEnvAdmin(await grantsOf(tx), cluster.env?.id)) throw forbidden(`user not permitted to modify the beacon's ${what}`);
    return cluster;
  }

  /**
   * The beacon the caller sees at an address, else (`byAlias`) the oldest it sees of that alias: Lighthouse resolves
   * aliases wherever a beacon is named.
   */
  async find(ctx: ServiceContext, name: string, { byAlias = true } = {}): Promise<K8sCluster | null> {
    const url = urlOf(name);
    const named = [...(url ? [{ apiServerUrl: url }] : []), ...(byAlias ? [{ alias: name }] : [])];
    if (!named.length) return null;
    const candidates = await ctx.em.find(K8sCluster, { $or: named }, { orderBy: { createdAt: 'ASC', id: 'ASC' } });
    const visible = (await keepVisible(ctx, await grantsOf(ctx), K8sCluster, candidates)).filter((c) => c !== null);
    return visible.find((c) => c.apiServerUrl === url) ?? visible[0] ?? null;
  }
}

/** Aliases name one beacon each (they are resolved wherever a beacon is named). */
async function assertAliasFree(tx: ServiceContext, alias: string, exceptId?: string): Promise<void> {
  if (await tx.em.count(K8sCluster, { alias, ...(exceptId ? { id: { $ne: exceptId } } : {}) })) throw conflict(`The alias ${alias} is taken`);
}
