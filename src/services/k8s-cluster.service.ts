import type { FilterQuery } from '@mikro-orm/core';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import type { Keyring } from '../auth/encryption.js';
import { Deployment, Env, K8sCluster, User } from '../entities/index.js';
import { badInput, clusterUnavailable, conflict, notFound } from '../errors/domain-error.js';
import { KubeconfigError, parseKubeconfig, type KubeconfigEntry } from '../k8s/kubeconfig.js';
import { findVisible, requireSiteAdmin, requireSystem } from '../policy/permissions.js';
import type { ServiceContext } from '../request/context.js';
import { userFacts } from '../request/identity.js';
import { snapshot, type UnitOfWork } from './unit-of-work.js';
import { compact, iEquals, optionalUuid } from '../request/where.js';
import type { ClusterCredentials } from '../k8s/kube-config.js';
import type { ClusterCall, ClusterFigures, ClusterNode, ProvisionedAccount } from '../k8s/cluster-api.js';
import { ReadService } from './read-service.js';
import { accountAndNamespace } from './k8s-service-account.service.js';

/**
 * The calls to a cluster's API server (and, in call(), its client configuration) are loaded with the first of them:
 * @kubernetes/client-node takes about 300 ms and 70 MB to load, which a server with no cluster to call never needs.
 */
const clusterApi = () => import('../k8s/cluster-api.js');

@InputType()
export class K8sClusterFilter {
  @Field(() => ID, { nullable: true }) envId?: string;
  @Field({ nullable: true, description: 'case-insensitive, exact' }) name?: string;
  @Field({ nullable: true }) ignore?: boolean;
  @Field({ nullable: true }) isOk?: boolean;
}

@ObjectType({ description: 'A context of a kubeconfig that can be imported as a cluster (credentials are never returned)' })
export class KubeconfigContext {
  @Field({ description: "the cluster entry's name" }) name!: string;
  @Field({ description: "the API server's URL" }) server!: string;
  @Field({ description: 'the context name' }) context!: string;
  @Field({ description: "the user entry's name" }) user!: string;
}

@InputType()
export class CreateClustersFromKubeconfigInput {
  @Field() kubeconfig!: string;
  @Field(() => [String], { description: 'names of the contexts to import, one cluster each' }) contexts!: string[];
  @Field(() => ID, { nullable: true, description: 'the env to put the clusters in; without it they are created ignored' }) envId?: string | null;
}

@InputType({ description: 'absent fields are left unchanged; null clears a field' })
export class UpdateClusterInput {
  @Field(() => ID, { nullable: true, description: 'null takes the cluster out of its env' }) envId?: string | null;
  @Field(() => Boolean, { nullable: true }) ignore?: boolean | null;
  @Field(() => String, { nullable: true }) alias?: string | null;
  @Field(() => String, { nullable: true, description: 'unique among clusters' }) ingressDomain?: string | null;
  @Field(() => String, { nullable: true }) ingressClass?: string | null;
  @Field(() => String, { nullable: true }) ingressTlsSecretName?: string | null;
  @Field(() => String, { nullable: true, description: 'an http(s) URL' }) grafanaUrl?: string | null;
  @Field(() => String, { nullable: true }) grafanaDatasourceName?: string | null;
}

@ObjectType({ description: "Kubportal's cluster statistics, read from the cluster through Berth's credentials (reused for a few seconds)" })
export class ClusterStatistics {
  @Field(() => String, { nullable: true, description: "the tag of kube-system's kube-proxy image, else the API server's gitVersion" })
  k8sVersion!: string | null;
  @Field(() => Int) nodeCount!: number;
  @Field(() => Int, { description: "the nodes' CPU capacity, summed per node in whole cores" }) cpuCount!: number;
  @Field(() => Float, { description: "the nodes' memory capacity in Kubportal's unit: KiB / 10^6 (close to GB)" }) memory!: number;
  @Field(() => Int, { description: 'pods in all namespaces' }) podCount!: number;
  @Field(() => Int, { description: 'PersistentVolumes' }) volumeCount!: number;
  @Field(() => String, { nullable: true, description: "the API server's URL, as imported" }) apiServerUrl!: string | null;
  @Field({ description: "the cluster's alias, else its name" }) clusterName!: string;
  @Field(() => Int, { description: 'users of this Berth' }) portalUserCount!: number;
  @Field({ description: "this Berth's version" }) portalVersion!: string;
}

/** How a service reaches clusters: the bounds of each call and of the statistics cache. */
export interface ClusterAccessOptions {
  timeoutMs: number;
  statisticsCacheMs: number;
  portalVersion: string;
}

type ClusterFields = Partial<Pick<K8sCluster, 'ignore' | 'alias' | 'ingressDomain' | 'ingressClass' | 'ingressTlsSecretName' | 'grafanaUrl' | 'grafanaDatasourceName'>>;
const TEXT_FIELDS = ['alias', 'ingressDomain', 'ingressClass', 'ingressTlsSecretName', 'grafanaUrl', 'grafanaDatasourceName'] as const;

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** The fields given, checked and normalized (trimmed; empty means cleared); absent ones are left out. */
function clusterFields(input: UpdateClusterInput): ClusterFields {
  const fields: ClusterFields = {};
  if (input.ignore === null) throw badInput('input.ignore', 'ignore cannot be null');
  if (input.ignore !== undefined) fields.ignore = input.ignore;
  for (const key of TEXT_FIELDS) {
    if (input[key] !== undefined) fields[key] = input[key]?.trim() || null;
  }
  if (fields.ingressDomain) {
    fields.ingressDomain = fields.ingressDomain.toLowerCase();
    if (!HOSTNAME.test(fields.ingressDomain)) throw badInput('input.ingressDomain', 'ingressDomain must be a domain name, like apps.example.com');
  }
  if (fields.grafanaUrl && !isHttpUrl(fields.grafanaUrl)) throw badInput('input.grafanaUrl', 'grafanaUrl must be an http or https URL');
  return fields;
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function readKubeconfig(kubeconfig: string, field: string): KubeconfigEntry[] {
  try {
    return parseKubeconfig(kubeconfig);
  } catch (err) {
    if (err instanceof KubeconfigError) throw badInput(field, err.message);
    throw err;
  }
}

/** CONFLICT naming (up to ten of) the deployments that keep `what` from being deleted. */
export async function assertNoDeployments(tx: ServiceContext, where: FilterQuery<Deployment>, what: string): Promise<void> {
  const [rows, total] = await tx.em.findAndCount(Deployment, where, { populate: ['kind', 'cluster'], orderBy: { createdAt: 'ASC', id: 'ASC' }, limit: 10 });
  if (!total) return;
  const names = rows.map((d) => `${d.kind.name}${d.name ? ` "${d.name}"` : ''} in cluster ${d.cluster.name}`);
  const more = total > rows.length ? ` and ${total - rows.length} more` : '';
  throw conflict(`${what} still has deployments: ${names.join(', ')}${more}`);
}

export class K8sClusterService extends ReadService<K8sCluster, K8sClusterFilter> {
  /** per cluster id: the figures being read or read last (a failed read is dropped at once, never reused) */
  private readonly figures = new Map<string, { at: number; figures: Promise<ClusterFigures> }>();

  constructor(
    private readonly uow: UnitOfWork,
    private readonly keyring: Keyring,
    private readonly access: ClusterAccessOptions,
  ) {
    super({
      entity: K8sCluster,
      order: [{ field: 'createdAt', direction: 'ASC' }],
      where: (f) =>
        compact({ env: optionalUuid(f.envId, 'envId'), name: f.name ? iEquals(f.name) : undefined, ignore: f.ignore, isOk: f.isOk }),
    });
  }

  /** Site admins: what a kubeconfig offers, without its credentials. */
  async kubeconfigContexts(ctx: ServiceContext, kubeconfig: string): Promise<KubeconfigContext[]> {
    await requireSiteAdmin(ctx);
    return readKubeconfig(kubeconfig, 'kubeconfig').map(({ name, server, context, user }) => ({ name, server, context, user }));
  }

  /** Site admins: one cluster per chosen context, its cluster and user entries encrypted and bound to the new row. */
  createFromKubeconfig(ctx: ServiceContext, input: CreateClustersFromKubeconfigInput): Promise<K8sCluster[]> {
    return this.uow.mutation(ctx, 'createClustersFromKubeconfig', async (tx, audit) => {
      const entries = new Map(readKubeconfig(input.kubeconfig, 'input.kubeconfig').map((e) => [e.context, e]));
      const chosen = [...new Set(input.contexts)];
      if (!chosen.length) throw badInput('input.contexts', 'Choose at least one context');
      const unknown = chosen.filter((c) => !entries.has(c));
      if (unknown.length) {
        throw badInput('input.contexts', `Not an importable context of this kubeconfig: ${unknown.map((c) => `"${c}"`).join(', ')}`);
      }
      const env = input.envId ? await findVisible(tx, Env, input.envId, 'input.envId') : null;
      await requireSiteAdmin(tx);
      const clusters = chosen.map((context) => {
        const entry = entries.get(context)!;
        return Object.assign(new K8sCluster(), {
          env,
          providerId: `kubeconfig:${context}@${entry.server}`,
          name: context,
          apiServerUrl: entry.server,
          kubeconfigContext: context,
          regionName: 'local',
          // nothing is contacted until an admin clears it
          ignore: true,
        });
      });
      const taken = await tx.em.find(K8sCluster, { providerId: { $in: clusters.map((c) => c.providerId) } });
      if (taken.length) throw conflict(`Already imported: ${taken.map((c) => c.providerId).join(', ')}`);
      for (const cluster of clusters) {
        const entry = entries.get(cluster.kubeconfigContext!)!;
        this.sealCredentials(cluster, { cluster: entry.clusterConfig, user: entry.userConfig });
        tx.em.persist(cluster);
        audit({ targetType: 'K8sCluster', targetId: cluster.id, envId: env?.id, after: snapshot(cluster) });
      }
      return clusters;
    });
  }

  /** Site admins; moving a cluster that has deployments to another env is allowed, as in Platz. */
  update(ctx: ServiceContext, id: string, input: UpdateClusterInput): Promise<K8sCluster> {
    return this.uow.mutation(ctx, 'updateCluster', async (tx, audit) => {
      const fields = clusterFields(input);
      const cluster = await findVisible(tx, K8sCluster, id);
      // null takes the cluster out of its env; anything else, even "", must name one
      const env = input.envId === undefined || input.envId === null ? input.envId : await findVisible(tx, Env, input.envId, 'input.envId');
      await requireSiteAdmin(tx);
      if (fields.ingressDomain) {
        const other = await tx.em.findOne(K8sCluster, { ingressDomain: fields.ingressDomain, id: { $ne: cluster.id } });
        if (other) throw conflict(`Cluster "${other.name}" already uses ingress domain ${fields.ingressDomain}`);
      }
      const before = snapshot(cluster);
      const oldEnvId = cluster.env?.id;
      Object.assign(cluster, fields, env === undefined ? {} : { env });
      // a cluster leaving an env stays in that env's trail
      audit({ targetType: 'K8sCluster', targetId: cluster.id, envId: cluster.env?.id ?? oldEnvId, before, after: snapshot(cluster) });
      return cluster;
    });
  }

  /**
   * Berth's cluster watch reports how the cluster answers. A change of `isOk` or of its reason is audited, with the
   * system as the actor (people see it); a cluster seen again, which moves only `lastSeenAt`, is not.
   */
  recordHealth(ctx: ServiceContext, id: string, health: { isOk: boolean; notOkReason?: string | null }): Promise<K8sCluster> {
    return this.uow.mutation(ctx, 'recordClusterHealth', async (tx, audit) => {
      requireSystem(tx);
      const cluster = await findVisible(tx, K8sCluster, id);
      const before = snapshot(cluster);
      const notOkReason = health.isOk ? null : (health.notOkReason ?? 'unreachable');
      const changed = cluster.isOk !== health.isOk || (cluster.notOkReason ?? null) !== notOkReason;
      Object.assign(cluster, { isOk: health.isOk, notOkReason }, health.isOk ? { lastSeenAt: new Date() } : {});
      if (changed) audit({ targetType: 'K8sCluster', targetId: cluster.id, envId: cluster.env?.id, before, after: snapshot(cluster) });
      return cluster;
    });
  }

  /**
   * The clusters of the kubeconfig Berth was started with (BERTH_KUBECONFIG), as Platz's agent registers them: one
   * per context, provider id `local:<context>`, region `local`. A new one starts ignored; one registered before keeps
   * its settings and gets the file's current server and credentials. Audited as the system.
   */
  registerLocal(ctx: ServiceContext, kubeconfig: string): Promise<K8sCluster[]> {
    return this.uow.mutation(ctx, 'registerLocalClusters', async (tx, audit) => {
      requireSystem(tx);
      const entries = readKubeconfig(kubeconfig, 'BERTH_KUBECONFIG');
      const known = new Map((await tx.em.find(K8sCluster, { providerId: { $in: entries.map((e) => `local:${e.context}`) } })).map((c) => [c.providerId, c]));
      return entries.map((entry) => {
        const providerId = `local:${entry.context}`;
        const existing = known.get(providerId);
        const before = existing ? snapshot(existing) : undefined;
        const cluster = existing ?? Object.assign(new K8sCluster(), { providerId, name: entry.context, regionName: 'local', ignore: true });
        Object.assign(cluster, { apiServerUrl: entry.server, kubeconfigContext: entry.context });
        this.sealCredentials(cluster, { cluster: entry.clusterConfig, user: entry.userConfig });
        tx.em.persist(cluster);
        audit({ targetType: 'K8sCluster', targetId: cluster.id, envId: cluster.env?.id, before, after: snapshot(cluster) });
        return cluster;
      });
    });
  }

  /**
   * The clusters Berth watches (not ignored), their credentials decrypted on demand: only for Berth's own cluster
   * watch, in the process that connects, and only for a cluster it starts watching (it reads this list every poll).
   * `version` changes when the credentials do.
   */
  async watchable(ctx: ServiceContext): Promise<{ id: string; name: string; version: string; credentials(): ClusterCredentials }[]> {
    requireSystem(ctx);
    const clusters = await ctx.em.find(K8sCluster, { ignore: false, credentialsEncrypted: { $ne: null } }, { orderBy: { createdAt: 'ASC' } });
    return clusters.map((c) => ({
      id: c.id,
      name: c.name,
      version: c.credentialsEncrypted!,
      credentials: () => this.openCredentials(c),
    }));
  }

  /**
   * Kubportal's statistics of a cluster, for whoever may see it (NOT_FOUND otherwise). What the cluster says is
   * reused for `statisticsCacheMs` in this process, so the GraphQL field and Kubportal's `/cluster/{slug}/` route
   * (one value per request) do not ask the cluster each time; concurrent reads share one round of calls.
   */
  async statistics(ctx: ServiceContext, id: string): Promise<ClusterStatistics> {
    return this.statisticsOf(ctx, await findVisible(ctx, K8sCluster, id));
  }

  private async statisticsOf(ctx: ServiceContext, cluster: K8sCluster): Promise<ClusterStatistics> {
    const [figures, portalUserCount] = await Promise.all([this.cachedFigures(cluster), ctx.em.count(User, {})]);
    return {
      ...figures,
      apiServerUrl: cluster.apiServerUrl ?? null,
      clusterName: cluster.alias ?? cluster.name,
      portalUserCount,
      portalVersion: this.access.portalVersion,
    };
  }

  /**
   * Kubportal's statistics of its one cluster, as the caller knows it: the cluster its own service account lives in
   * (Kubportal shows every approved user its cluster, env role or not: its figures are the cluster's totals, nothing
   * of any env), else the oldest cluster it may see (those Berth deploys to first); NOT_FOUND when there is none.
   */
  async ownClusterStatistics(ctx: ServiceContext): Promise<ClusterStatistics> {
    const accountId = ctx.identity.kind === 'user' ? userFacts(ctx.identity).serviceAccountId : null;
    const { namespace } = await accountAndNamespace(ctx, accountId);
    const own = namespace?.cluster ? await ctx.em.findOne(K8sCluster, namespace.cluster.id) : null;
    const { where } = await this.query(ctx, {});
    const cluster = own ?? (await ctx.em.find(K8sCluster, where, { orderBy: { ignore: 'ASC', createdAt: 'ASC', id: 'ASC' }, limit: 1 }))[0];
    if (!cluster) throw notFound('K8sCluster');
    return this.statisticsOf(ctx, cluster);
  }

  private cachedFigures(cluster: K8sCluster): Promise<ClusterFigures> {
    const now = Date.now();
    const cached = this.figures.get(cluster.id);
    if (cached && now - cached.at < this.access.statisticsCacheMs) return cached.figures;
    const figures = this.call(cluster).then(async (call) => (await clusterApi()).readClusterFigures(call));
    const entry = { at: now, figures };
    this.figures.set(cluster.id, entry);
    figures.catch(() => {
      if (this.figures.get(cluster.id) === entry) this.figures.delete(cluster.id);
    });
    return figures;
  }

  /**
   * Kubportal's "create a namespace" approval, in the cluster: the namespace, a service account and its token.
   * Called outside any transaction (the caller writes its records afterwards); `cluster` is one the caller may see.
   */
  async provisionAccount(cluster: K8sCluster, names: { namespace: string; serviceAccount: string }): Promise<ProvisionedAccount> {
    return (await clusterApi()).provisionAccount(await this.call(cluster), names);
  }

  /** Undoes provisionAccount when the records of the account could not be written. */
  async deleteNamespace(cluster: K8sCluster, name: string): Promise<void> {
    return (await clusterApi()).deleteNamespace(await this.call(cluster), name);
  }

  /** A connection to a cluster for Berth's own work (the task worker), its credentials opened for it alone. */
  async connect(ctx: ServiceContext, id: string): Promise<ClusterCall> {
    requireSystem(ctx);
    return this.call(await findVisible(ctx, K8sCluster, id));
  }

  /** The cluster's credentials are decrypted here only, for one call, and go nowhere but into client-node. */
  private async call(cluster: K8sCluster): Promise<ClusterCall> {
    if (!cluster.credentialsEncrypted) throw clusterUnavailable(`Berth has no credentials for cluster "${cluster.name}"`);
    const { kubeConfigFor } = await import('../k8s/kube-config.js');
    return { kc: kubeConfigFor(this.openCredentials(cluster)), name: cluster.name, timeoutMs: this.access.timeoutMs };
  }

  /**
   * Credentials of a cluster reached with a bearer token alone (Lighthouse's beacons) at its apiServerUrl, sealed as
   * an imported kubeconfig's are: https is verified against the system's CAs; plain http, which client-node refuses
   * without it, gets the insecure flag (there is no certificate to verify). No token: the cluster is called anonymously.
   */
  sealBearerToken(cluster: K8sCluster, token: string | null): void {
    const server = cluster.apiServerUrl!;
    const insecure = server.startsWith('http:') ? { 'insecure-skip-tls-verify': true } : {};
    this.sealCredentials(cluster, { cluster: { server, ...insecure }, user: token ? { token } : {} });
  }

  /** The nodes of a cluster the caller may see, read from its API server. */
  async nodes(cluster: K8sCluster): Promise<ClusterNode[]> {
    return (await clusterApi()).readNodes(await this.call(cluster));
  }

  /** A kubeconfig's cluster and user entries, encrypted and bound to the cluster's row. */
  private sealCredentials(cluster: K8sCluster, credentials: ClusterCredentials): void {
    cluster.credentialsEncrypted = this.keyring.encrypt(JSON.stringify(credentials), `k8s_clusters:${cluster.id}`);
  }

  /** The credentials sealCredentials stored (the cluster must have some). */
  private openCredentials(cluster: K8sCluster): ClusterCredentials {
    return JSON.parse(this.keyring.decrypt(cluster.credentialsEncrypted!, `k8s_clusters:${cluster.id}`)) as ClusterCredentials;
  }

  /** Site admins, once the cluster has no deployments; its namespaces and resources go with it. */
  delete(ctx: ServiceContext, id: string): Promise<string> {
    return this.uow.deleteVisible(
      ctx,
      'deleteCluster',
      K8sCluster,
      id,
      async (tx, cluster) => {
        await requireSiteAdmin(tx);
        await assertNoDeployments(tx, { cluster: cluster.id }, `Cluster "${cluster.name}"`);
      },
      (cluster) => cluster.env?.id,
    );
  }
}
