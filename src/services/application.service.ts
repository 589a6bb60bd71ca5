import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Deployment, DeploymentTask, HelmChart, K8sCluster } from '../entities/index.js';
import { operationParts } from '../entities/deployment-task-operation.js';
import { findMaintainedDeployment } from '../deployments/access.js';
import { DeploymentStatus, DeploymentTaskStatus } from '../entities/enums.js';
import { conflict, DomainError, ErrorCode, notFound } from '../errors/domain-error.js';
import { grantsOf } from '../policy/grants.js';
import { scopeWhere } from '../policy/visibility.js';
import type { ServiceContext } from '../request/context.js';
import { beaconOf, type BeaconService } from './beacon.service.js';
import type { DeploymentService, DeploymentWrite } from './deployment.service.js';
import type { EventService } from './event.service.js';
import type { NumericAliasService } from './numeric-alias.service.js';
import type { Audit, UnitOfWork } from './unit-of-work.js';

/** What an application runs: a chart by its image reference (`<registry>/<repository>:<tag>`), and its config. */
export interface ApplicationSpec {
  image: string;
  config: Record<string, unknown>;
}

export interface Application {
  number: number;
  name: string;
  /** the version its instances run now; null before its first Install */
  current: number | null;
  /** the clusters it is deployed to, by address */
  instances: string[];
}

/** One spec the application was deployed with: first installed by `creator` at `date`. */
export interface ApplicationVersion extends ApplicationSpec {
  number: number;
  chartId: string;
  /** 1 for the first */
  version: number;
  creator: string | null;
  date: Date;
}

/** One instance of a step: the task it was given, or why none was needed (`warning`: nothing changed). */
export interface StepInstance {
  instance: string;
  task: { id: string; operation: string } | null;
  note?: string;
  warning?: boolean;
}

/** What a request does, step by step, each on some instances: the tasks it created, to follow. */
export interface Step {
  action: string;
  instances: StepInstance[];
}

/**
 * How a followed task ended: `Gone` when its row went (with its deployment: an Uninstall's end is the deployment
 * deleted once its namespace is gone, which can come before its Done is read), `TimedOut` not within the bound,
 * `Revoked` the caller's identity went meanwhile.
 */
export interface TaskEnd {
  taskId: string;
  status: DeploymentTaskStatus.Done | DeploymentTaskStatus.Failed | DeploymentTaskStatus.Canceled | 'Gone' | 'TimedOut' | 'Revoked';
  reason: string | null;
}

export interface UpdateApplicationInput {
  spec?: ApplicationSpec;
  add?: string[];
  remove?: string[];
  /** start every instance (new ones included) */
  restart?: boolean;
}

/** A Lighthouse-style bad parameter: its words are the message, no field of Berth's to name. */
const badParameter = (message: string) => new DomainError(ErrorCode.BAD_USER_INPUT, message);

/** Where a spec's image names its chart: `<registry domain>/<repository>:<tag>`. */
const IMAGE = /^([^/\s]+)\/([^:\s]+):([^:/\s]+)$/;

/** An application has no row: the name's own uuid (SHA-1 of it, as a version 5 uuid) is what its number aliases. */
function applicationKey(name: string): string {
  const hex = createHash('sha1').update(`berth:application:${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const imageOf = (chart: HelmChart) => `${chart.helmRegistry.domainName}/${chart.helmRegistry.repoName}:${chart.imageTag}`;

/** The chart and config a task installs, for Install and Upgrade (the tasks that deploy a spec). */
function deployedBy(task: DeploymentTask): { chartId: string; config: Record<string, unknown> } | null {
  const op = operationParts(task.operation);
  if (op.name !== 'Install' && op.name !== 'Upgrade') return null;
  return { chartId: op.body.helm_chart_id, config: (op.body.config_inputs ?? {}) as Record<string, unknown> };
}

const sameSpec = (a: { chartId: string; config: unknown }, b: { chartId: string; config: unknown }) => a.chartId === b.chartId && isDeepStrictEqual(a.config, b.config);

/**
 * Applications (Lighthouse's): one chart deployed under one name to several clusters. An application is no row of
 * its own: it is the deployments of that name the caller may see (one per cluster, its instances), and its versions
 * are the distinct chart and config pairs its Install and Upgrade tasks deployed. Every write goes through
 * DeploymentService's own create, update and delete, all of one request in one transaction: the same rules, rights
 * and audit as GraphQL's, the request's tasks returned as steps for the caller to follow.
 */
export class ApplicationService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly deployments: DeploymentService,
    private readonly aliases: NumericAliasService,
    private readonly beacons: BeaconService,
    private readonly events: EventService,
    /** how long `follow` waits for the tasks to end */
    private readonly followTimeoutMs: number,
  ) {}

  /** The applications the caller sees any instance of, by name. */
  async list(ctx: ServiceContext): Promise<Application[]> {
    const byName = new Map<string, Deployment[]>();
    for (const d of await this.visible(ctx, {})) byName.set(d.name, [...(byName.get(d.name) ?? []), d]);
    const names = [...byName.keys()].sort();
    const numbers = await this.aliases.numbersOf(ctx, 'applications', names.map(applicationKey));
    return Promise.all(
      names.map(async (name) => {
        const deployments = byName.get(name)!;
        const current = currentOf(deployments, await this.versions(ctx, deployments));
        return { number: numbers.get(applicationKey(name))!, name, current: current?.number ?? null, instances: deployments.map((d) => addressOf(d.cluster)) };
      }),
    );
  }

  /** Its versions, newest first, at most `count`; none for an application the caller sees nothing of (or none at all). */
  async history(ctx: ServiceContext, ref: string, count?: number): Promise<ApplicationVersion[]> {
    const name = await this.nameOf(ctx, ref);
    const versions = name === null ? [] : await this.versions(ctx, await this.visible(ctx, { name }, true));
    return versions.reverse().slice(0, count);
  }

  /** Kind Owner on every instance's env: a deployment per instance; installed when `start`, else created disabled. */
  create(ctx: ServiceContext, input: { name: string; spec: ApplicationSpec; instances: string[]; start: boolean }): Promise<Step[]> {
    return this.uow.mutation(ctx, 'createApplication', async (tx, audit) => {
      if (!input.instances.length) throw badParameter('An application needs at least one instance');
      const chart = await this.chartOf(tx, input.spec.image);
      if (await tx.em.count(Deployment, { name: input.name })) throw conflict(`An application named ${input.name} already exists`);
      const clusters = await this.clustersAt(tx, input.instances);
      const writes = [];
      for (const cluster of clusters.values()) {
        const write = await this.deployments.insert(tx, audit, { name: input.name, kindId: chart.helmRegistry.kind.id, clusterId: cluster.id, helmChartId: chart.id, config: input.spec.config, enabled: input.start });
        writes.push(stepInstance(addressOf(cluster), write, 'Created, not started'));
      }
      return [{ action: input.start ? 'Installing' : 'Creating', instances: writes }];
    });
  }

  /** Maintainer of every instance: each is enabled (installed) or disabled (uninstalled); one already so is left. */
  setRunning(ctx: ServiceContext, ref: string, running: boolean): Promise<Step[]> {
    return this.uow.mutation(ctx, running ? 'startApplication' : 'stopApplication', async (tx, audit) => {
      const deployments = await this.find(tx, ref);
      return [{ action: running ? 'Starting' : 'Stopping', instances: await this.enable(tx, audit, deployments, running) }];
    });
  }

  /**
   * Maintainer of every instance: back to an earlier version, by its number (`target` ≥ 0, one of this application's),
   * or `-target` versions before the current one. Running instances are upgraded to it; stopped ones keep it for
   * their next start.
   */
  revert(ctx: ServiceContext, ref: string, target: number): Promise<Step[]> {
    return this.uow.mutation(ctx, 'revertApplication', async (tx, audit) => {
      const deployments = await this.find(tx, ref);
      const versions = await this.versions(tx, deployments);
      let version: ApplicationVersion | undefined;
      if (target >= 0) {
        version = versions.find((v) => v.number === target);
        if (!version) {
          const taskId = await this.aliases.idOf(tx, 'deployment_tasks', target);
          if (!taskId || !(await tx.em.count(DeploymentTask, { $and: [{ id: taskId }, scopeWhere(await grantsOf(tx), DeploymentTask) ?? {}] }))) throw notFound('Deployment');
          throw badParameter(`Deployment ${target} is not a deployment of this application`);
        }
      } else {
        const current = currentOf(deployments, versions);
        const index = current ? versions.indexOf(current) + target : -1;
        if (index < 0) throw badParameter(`This application has fewer than ${-target} deployments before its current one`);
        version = versions[index];
      }
      return [{ action: `Reverting to version ${version.version}`, instances: await this.respec(tx, audit, deployments, version) }];
    });
  }

  /**
   * Maintainer of every instance (Kind Owner where one is added or removed): `remove` deletes those instances'
   * deployments, `spec` upgrades the others, `restart` starts them all, `add` deploys the application (its new spec,
   * else its current one) to more clusters, running if it runs (or `restart`).
   */
  update(ctx: ServiceContext, ref: string, input: UpdateApplicationInput): Promise<Step[]> {
    return this.uow.mutation(ctx, 'updateApplication', async (tx, audit) => {
      if (!input.spec && !input.add?.length && !input.remove?.length && !input.restart) throw badParameter('Nothing to update: give a command, instances to add or remove, or restart');
      const deployments = await this.find(tx, ref);
      const steps: Step[] = [];
      const removed = new Set<Deployment>();
      if (input.remove?.length) {
        const instances: StepInstance[] = [];
        for (const [instance, cluster] of await this.clustersAt(tx, input.remove)) {
          const deployment = deployments.find((d) => d.cluster.id === cluster.id);
          if (!deployment) throw badParameter(`${instance} is not an instance of this application`);
          removed.add(deployment);
          instances.push(stepInstance(addressOf(cluster), await this.deployments.remove(tx, audit, deployment.id)));
        }
        steps.push({ action: 'Removing instances', instances });
      }
      const kept = deployments.filter((d) => !removed.has(d));
      const template = deployments[0];
      const spec = input.spec ? { chartId: (await this.chartOf(tx, input.spec.image)).id, config: input.spec.config } : { chartId: template.helmChart.id, config: template.config };
      if (input.spec) steps.push({ action: 'Upgrading', instances: await this.respec(tx, audit, kept, spec, input.restart) });
      else if (input.restart) steps.push({ action: 'Starting', instances: await this.enable(tx, audit, kept, true) });
      const added = input.add?.length ? [...(await this.clustersAt(tx, input.add))].filter(([, cluster]) => !deployments.some((d) => d.cluster.id === cluster.id)) : [];
      if (added.length) {
        const running = input.restart || deployments.some((d) => d.enabled);
        const instances: StepInstance[] = [];
        for (const [, cluster] of added) {
          const write = await this.deployments.insert(tx, audit, { name: template.name, kindId: template.kind.id, clusterId: cluster.id, helmChartId: spec.chartId, config: spec.config, enabled: running });
          instances.push(stepInstance(addressOf(cluster), write, 'Created, not started'));
        }
        steps.push({ action: 'Adding instances', instances });
      }
      return steps;
    });
  }

  /**
   * How the tasks of `ids` end, as the worker writes them (followed through the event log, as a Platz socket is): each
   * once, in the order they end. The ones still running when `followTimeoutMs` passes end as TimedOut; all end as
   * Revoked if the caller's identity goes. `onEnd` is not called once `signal` aborts (the caller went away).
   */
  follow(ctx: ServiceContext, ids: string[], signal: AbortSignal, onEnd: (end: TaskEnd) => void): Promise<void> {
    const waiting = new Set(ids);
    if (!waiting.size) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const end = (taskId: string, status: TaskEnd['status'], reason: string | null) => {
        if (!waiting.delete(taskId)) return;
        if (!signal.aborted) onEnd({ taskId, status, reason });
        if (!waiting.size) finish();
      };
      const settled = (task: DeploymentTask | null) => {
        if (task && [DeploymentTaskStatus.Done, DeploymentTaskStatus.Failed, DeploymentTaskStatus.Canceled].includes(task.status)) {
          end(task.id, task.status as TaskEnd['status'], task.reason ?? null);
        }
      };
      const stop = this.events.follow(ctx, {
        selects: (table, id) => table === 'deployment_tasks' && waiting.has(id),
        deliver: (event, operation, node) => (node ? settled(node as DeploymentTask) : operation === 'DELETE' && end(event.id, 'Gone', null)),
        revoked: () => [...waiting].forEach((id) => end(id, 'Revoked', 'The caller is no longer valid')),
      });
      const timer = setTimeout(() => [...waiting].forEach((id) => end(id, 'TimedOut', `Not finished within ${Math.round(this.followTimeoutMs / 1000)} s; the task goes on`)), this.followTimeoutMs);
      const abort = () => finish();
      function finish() {
        stop();
        clearTimeout(timer);
        signal.removeEventListener('abort', abort);
        resolve();
      }
      signal.addEventListener('abort', abort);
      // the tasks that ended before the feed was listening: read once, after it listens, so none is missed
      const ids = [...waiting];
      void ctx.em.fork().find(DeploymentTask, { id: { $in: ids } }).then((tasks) => {
        tasks.forEach(settled);
        for (const id of ids) if (!tasks.some((t) => t.id === id)) end(id, 'Gone', null);
      }, () => undefined);
    });
  }

  /** The deployments of `name` (all, or of one `name`) the caller may see; those being deleted only with `deleting`. */
  private async visible(ctx: ServiceContext, where: { name?: string }, deleting = false): Promise<Deployment[]> {
    const scope = scopeWhere(await grantsOf(ctx), Deployment);
    const conditions = [{ name: where.name ?? { $ne: '' } }, ...(deleting ? [] : [{ status: { $ne: DeploymentStatus.Deleting } }]), ...(scope ? [scope] : [])];
    return ctx.em.find(Deployment, { $and: conditions }, { populate: ['cluster', 'helmChart'], orderBy: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** The application's name: `ref` itself, or the name whose number it is; null for a number of no application the caller sees. */
  private async nameOf(ctx: ServiceContext, ref: string): Promise<string | null> {
    if (!/^\d+$/.test(ref)) return ref;
    const key = await this.aliases.idOf(ctx, 'applications', Number(ref));
    if (!key) return null;
    const names = new Set((await this.visible(ctx, {}, true)).map((d) => d.name));
    return [...names].find((name) => applicationKey(name) === key) ?? null;
  }

  /** The application's instances, for a write; NOT_FOUND when the caller sees none. */
  private async find(ctx: ServiceContext, ref: string): Promise<Deployment[]> {
    const name = await this.nameOf(ctx, ref);
    const deployments = name === null ? [] : await this.visible(ctx, { name });
    if (!deployments.length) throw notFound('Application');
    return deployments;
  }

  /** Its versions, oldest first: each distinct chart and config its instances' Install and Upgrade tasks deployed. */
  private async versions(ctx: ServiceContext, deployments: Deployment[]): Promise<ApplicationVersion[]> {
    if (!deployments.length) return [];
    const tasks = await ctx.em.find(DeploymentTask, { deployment: { $in: deployments.map((d) => d.id) } }, { populate: ['actingUser', 'actingBot'], orderBy: { createdAt: 'ASC', id: 'ASC' } });
    const firsts: { task: DeploymentTask; chartId: string; config: Record<string, unknown> }[] = [];
    for (const task of tasks) {
      const spec = deployedBy(task);
      if (spec && !firsts.some((f) => sameSpec(f, spec))) firsts.push({ task, ...spec });
    }
    const charts = new Map((await ctx.em.find(HelmChart, { id: { $in: firsts.map((f) => f.chartId) } }, { populate: ['helmRegistry'] })).map((c) => [c.id, c]));
    const numbers = await this.aliases.numbersOf(ctx, 'deployment_tasks', firsts.map((f) => f.task.id));
    return firsts.map(({ task, chartId, config }, i) => ({
      number: numbers.get(task.id)!,
      chartId,
      version: i + 1,
      creator: task.actingUser?.email ?? task.actingBot?.displayName ?? null,
      date: task.createdAt,
      image: charts.get(chartId) ? imageOf(charts.get(chartId)!) : chartId,
      config,
    }));
  }

  /** The chart an image reference names (its newest of that tag); BAD_USER_INPUT when none does. */
  private async chartOf(ctx: ServiceContext, image: string): Promise<HelmChart> {
    const parts = IMAGE.exec(image);
    if (!parts) throw badParameter(`The image ${JSON.stringify(image)} must be <registry>/<repository>:<tag> of a Helm chart`);
    const [, domainName, repoName, imageTag] = parts;
    const chart = await ctx.em.findOne(HelmChart, { imageTag, helmRegistry: { domainName, repoName } }, { populate: ['helmRegistry.kind'], orderBy: { createdAt: 'DESC', id: 'DESC' } });
    if (!chart) throw badParameter(`No Helm chart is published as ${image}`);
    return chart;
  }

  /** The clusters at these addresses (beacons', or their aliases), each once, by the name the caller gave; BAD_USER_INPUT for an unknown one. */
  private async clustersAt(ctx: ServiceContext, addresses: string[]): Promise<Map<string, K8sCluster>> {
    const found = new Map<string, K8sCluster>();
    for (const address of new Set(addresses)) {
      const cluster = await this.beacons.find(ctx, address);
      if (!cluster) throw badParameter(`Unknown instance ${address}`);
      if (![...found.values()].includes(cluster)) found.set(address, cluster);
    }
    return found;
  }

  private async enable(tx: ServiceContext, audit: Audit, deployments: Deployment[], enabled: boolean): Promise<StepInstance[]> {
    const instances: StepInstance[] = [];
    for (const d of deployments) {
      if (d.enabled === enabled) {
        // nothing to change, but only for one who could have
        await findMaintainedDeployment(tx, d.id, 'id');
        instances.push({ instance: addressOf(d.cluster), task: null, note: enabled ? 'Already started' : 'Already stopped', warning: true });
      } else instances.push(stepInstance(addressOf(d.cluster), await this.deployments.change(tx, audit, d.id, { enabled })));
    }
    return instances;
  }

  private async respec(tx: ServiceContext, audit: Audit, deployments: Deployment[], spec: { chartId: string; config: Record<string, unknown> }, start?: boolean): Promise<StepInstance[]> {
    const instances: StepInstance[] = [];
    for (const d of deployments) {
      const write = await this.deployments.change(tx, audit, d.id, { helmChartId: spec.chartId, config: spec.config, ...(start ? { enabled: true } : {}) });
      instances.push(stepInstance(addressOf(d.cluster), write, write.deployment.enabled ? 'Already at this version' : 'Configured, not started', write.deployment.enabled));
    }
    return instances;
  }
}

/** The version its first instance was last given (its chart and config), if a task ever deployed it. */
function currentOf(deployments: Deployment[], versions: ApplicationVersion[]): ApplicationVersion | undefined {
  const [first] = deployments;
  return versions.find((v) => sameSpec(v, { chartId: first.helmChart.id, config: first.config }));
}

/** A write's instance in a step: its last task (whose end is the write's), or `note` when it made none. */
function stepInstance(instance: string, write: DeploymentWrite, note?: string, warning = false): StepInstance {
  const [task] = write.tasks.slice(-1);
  return task ? { instance, task: { id: task.id, operation: operationParts(task.operation).name } } : { instance, task: null, note, warning };
}

/**
 * A cluster's address, as an instance of an application: its beacon's address; one without an API server URL (Berth's
 * own cluster, reached from inside) is no beacon, and goes by its alias (which names it), else its name.
 */
const addressOf = (cluster: K8sCluster) => (cluster.apiServerUrl ? beaconOf(cluster).address : (cluster.alias ?? cluster.name));
