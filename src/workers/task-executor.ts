import { Deployment, DeploymentTask, HelmChart, K8sResource } from '../entities/index.js';
import { installed, operationParts, type OperationBody } from '../entities/deployment-task-operation.js';
import { HelmRegistryProvider } from '../entities/enums.js';
import { collectionOf, findAction, referencedIds, uiInputs, uiOutputs } from '../deployments/chart-ext.js';
import { namespaceOf } from '../deployments/derivation.js';
import { describeAnswer, isSuccess, type DeploymentEndpoints } from '../deployments/endpoint.js';
import { releaseValues, ReleaseValuesError, uiValues } from '../deployments/release-values.js';
import type { ClusterCall } from '../k8s/cluster-api.js';
import type { HelmRun } from '../k8s/helm-cli.js';
import type { ServiceContext } from '../request/context.js';
import type { Services } from '../services/index.js';
import { isJsonObject } from '../util/json.js';

export interface TaskExecutorOptions {
  /** how Berth is reached from a deployment (the `own_url` of its values) */
  ownUrl: string;
  /** how long a release may take to become Ready */
  releaseTimeoutMs: number;
  /** a helm executable that installs and uninstalls releases itself; absent, Flux does (a HelmRelease) */
  helmBinary?: string;
  /** how often the release is read while waiting */
  releasePollMs: number;
  /** how a deployment is called (its chart's actions) */
  endpoints: DeploymentEndpoints;
}

/** Carries out one task; returns what it did (the task's reason when Done) or throws why it failed. */
export interface TaskExecutor {
  execute(ctx: ServiceContext, task: DeploymentTask, signal: AbortSignal): Promise<string>;
}

/**
 * What writes into a cluster, loaded with the first task: @kubernetes/client-node takes about 300 ms and 70 MB to
 * load, which a server that runs no task never needs.
 */
const clusterWrites = async () => ({ ...(await import('../k8s/helm-release.js')), ...(await import('../k8s/helm-cli.js')) });

/** A config the executor cannot act on, or what the cluster refused: the task fails with it, as written. */
export class TaskFailed extends Error {}

/**
 * Platz's operations on a cluster (platz.md section 6) through Flux: a deployment's namespace holds a HelmRelease
 * named after it, which Flux's helm-controller installs; Berth applies it and follows its Ready condition. With
 * `helmBinary`, Berth runs `helm upgrade --install` and `helm uninstall` itself, the release named the same.
 */
export class ClusterTaskExecutor implements TaskExecutor {
  constructor(
    private readonly services: Services,
    private readonly options: TaskExecutorOptions,
  ) {}

  async execute(ctx: ServiceContext, task: DeploymentTask, signal: AbortSignal): Promise<string> {
    const deployment = await ctx.em.findOneOrFail(Deployment, task.deployment.id, { populate: ['kind', 'cluster.env', 'revision'] });
    const namespace = namespaceOf(deployment.kind.name, deployment.name);
    const op = operationParts(task.operation);
    const { applyNamespace, restartWorkload } = await clusterWrites();
    switch (op.name) {
      case 'Install':
      case 'Upgrade':
        return this.release(ctx, task, deployment, namespace, op.body, signal);
      case 'Reinstall': {
        // the revision's chart and config, as Platz reinstalls: not what the deployment says now
        const revision = installed(deployment.revision?.operation);
        if (!revision) throw new TaskFailed('The deployment has no installed revision to reinstall');
        return this.release(ctx, task, deployment, namespace, revision, signal);
      }
      case 'Recreate': {
        const { old_cluster_id, old_namespace, new_cluster_id, new_namespace } = op.body;
        await this.uninstall(await this.services.k8sClusters.connect(ctx, old_cluster_id), old_namespace, signal);
        await applyNamespace(await this.services.k8sClusters.connect(ctx, new_cluster_id), new_namespace, deployment.id);
        return `Moved from ${old_namespace} to ${new_namespace}`;
      }
      case 'Uninstall':
        return this.uninstall(await this.services.k8sClusters.connect(ctx, deployment.cluster.id), namespace, signal);
      case 'RestartK8sResource': {
        const resource = await ctx.em.findOne(K8sResource, op.body.resource_id);
        const inNamespace = (resource?.metadata as { namespace?: string } | undefined)?.namespace;
        if (!resource || !inNamespace) throw new TaskFailed('The resource to restart is no longer there');
        await restartWorkload(await this.services.k8sClusters.connect(ctx, deployment.cluster.id), { kind: resource.kind, name: resource.name, namespace: inNamespace }, new Date());
        return `Restarted the ${resource.kind} ${resource.name}`;
      }
      case 'InvokeAction':
        return this.invokeAction(ctx, deployment, op.body, signal);
    }
  }

  /**
   * Calls an action of the task's chart on the deployment (Platz's invoke_action): the body rendered by the action's
   * UI schema when it has outputs, else sent as given. The answer is the task's reason; Done only for a 2xx.
   */
  private async invokeAction(ctx: ServiceContext, deployment: Deployment, op: OperationBody<'InvokeAction'>, signal: AbortSignal): Promise<string> {
    const chart = await ctx.em.findOne(HelmChart, op.helm_chart_id);
    if (!chart) throw new TaskFailed('The chart of this task is no longer there');
    const action = findAction(chart.actionsSchema, op.action_id);
    if (!action) throw new TaskFailed(`The chart has no action ${op.action_id} with a path to call`);
    let body = op.body;
    if (uiOutputs(action.uiSchema).values.length) {
      const inputs = isJsonObject(op.body) ? op.body : {};
      try {
        const picked = await this.picked(ctx, action.uiSchema, inputs, deployment.cluster.env?.id ?? null);
        body = uiValues({ schema: action.uiSchema, inputs, picked, source: 'body' });
      } catch (err) {
        if (err instanceof ReleaseValuesError) throw new TaskFailed(err.message);
        throw err;
      }
    }
    const [target] = await this.options.endpoints.find(ctx.em, { id: deployment.id });
    const answer = await this.options.endpoints.call(target, { method: action.method, path: action.path, body, signal });
    if (!isSuccess(answer)) throw new TaskFailed(describeAnswer(answer));
    return describeAnswer(answer);
  }

  private async release(
    ctx: ServiceContext,
    task: DeploymentTask,
    deployment: Deployment,
    namespace: string,
    source: { helm_chart_id: string; config_inputs: unknown; values_override: unknown },
    signal: AbortSignal,
  ): Promise<string> {
    const chart = await ctx.em.findOne(HelmChart, source.helm_chart_id, { populate: ['helmRegistry'] });
    if (!chart) throw new TaskFailed('The chart of this task is no longer there');
    const config = (source.config_inputs ?? {}) as Record<string, unknown>;
    const env = deployment.cluster.env ?? null;
    const cluster = deployment.cluster;
    let rendered;
    try {
      rendered = releaseValues({
        taskId: task.id,
        ownUrl: this.options.ownUrl,
        deployment: { id: deployment.id, name: deployment.name, namespace, kind: deployment.kind.name },
        env: env && { id: env.id, name: env.name, nodeSelector: env.nodeSelector, tolerations: env.tolerations },
        cluster: {
          id: cluster.id,
          name: cluster.name,
          ingressDomain: cluster.ingressDomain,
          ingressClass: cluster.ingressClass,
          ingressTlsSecretName: cluster.ingressTlsSecretName,
          // the row as Platz passes it, without what is Berth's own
          row: { id: cluster.id, name: cluster.name, region_name: cluster.regionName, ingress_domain: cluster.ingressDomain ?? null, ingress_class: cluster.ingressClass ?? null },
        },
        chart: { valuesUi: chart.valuesUi, features: chart.features },
        config,
        valuesOverride: (source.values_override ?? {}) as Record<string, unknown>,
        picked: await this.picked(ctx, chart.valuesUi, config, env?.id ?? null),
      });
    } catch (err) {
      if (err instanceof ReleaseValuesError) throw new TaskFailed(err.message);
      throw err;
    }
    const call = await this.services.k8sClusters.connect(ctx, cluster.id);
    const { applyNamespace, applySecrets, helmUpgrade, applyRelease, awaitRelease, ReleaseFailed } = await clusterWrites();
    await applyNamespace(call, namespace, deployment.id);
    await applySecrets(call, namespace, rendered.secrets);
    const repository = `${chart.helmRegistry.domainName}/${chart.helmRegistry.repoName}`;
    const helm = this.helm(signal);
    try {
      if (helm) return await helmUpgrade(call, { namespace, chart: { repository, tag: chart.imageTag }, values: rendered.values }, helm);
      const generation = await applyRelease(call, {
        namespace,
        deploymentId: deployment.id,
        chart: { repository, tag: chart.imageTag, provider: chart.helmRegistry.provider === HelmRegistryProvider.Ecr ? 'aws' : 'generic' },
        values: rendered.values,
      });
      return await awaitRelease(call, namespace, generation, { timeoutMs: this.options.releaseTimeoutMs, pollMs: this.options.releasePollMs, signal });
    } catch (err) {
      if (err instanceof ReleaseFailed) throw new TaskFailed(err.message);
      throw err;
    }
  }

  /**
   * Deletes the namespace, and so everything in it. Helm's release goes first: unlike Flux's, whose controller
   * uninstalls a HelmRelease being deleted, nothing would remove what the chart made outside the namespace.
   */
  private async uninstall(call: ClusterCall, namespace: string, signal: AbortSignal): Promise<string> {
    const { helmUninstall, removeNamespace } = await clusterWrites();
    const helm = this.helm(signal);
    const uninstalled = helm ? `${await helmUninstall(call, namespace, helm)}\n` : '';
    await removeNamespace(call, namespace);
    return `${uninstalled}Deleted the namespace ${namespace}`;
  }

  /** How helm runs for a task, when releases go through helm rather than Flux. */
  private helm(signal: AbortSignal): HelmRun | undefined {
    return this.options.helmBinary ? { binary: this.options.helmBinary, timeoutMs: this.options.releaseTimeoutMs, signal } : undefined;
  }

  /** What the config's CollectionSelect inputs pick, by id: secrets decrypted (for the release's Secrets) and deployments. */
  private async picked(ctx: ServiceContext, valuesUi: unknown, config: Record<string, unknown>, envId: string | null): Promise<Map<string, Record<string, unknown>>> {
    const ids = { secrets: new Set<string>(), deployments: new Set<string>() };
    for (const input of uiInputs(valuesUi)) {
      const collection = collectionOf(input);
      if (collection?.kind !== 'secrets' && collection?.kind !== 'deployments') continue;
      for (const id of referencedIds(config[input.id])) if (typeof id === 'string') ids[collection.kind].add(id.toLowerCase());
    }
    const picked = new Map<string, Record<string, unknown>>();
    for (const s of await this.services.secrets.contentsOf(ctx, envId, [...ids.secrets])) picked.set(s.id, s);
    if (ids.deployments.size) {
      for (const d of await ctx.em.find(Deployment, { id: { $in: [...ids.deployments] } }, { populate: ['kind'] })) {
        picked.set(d.id, { id: d.id, name: d.name, kind: d.kind.name, namespace: namespaceOf(d.kind.name, d.name) });
      }
    }
    return picked;
  }
}
