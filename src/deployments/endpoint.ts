import type { FilterQuery } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { installed } from '../entities/deployment-task-operation.js';
import { Deployment, HelmChart } from '../entities/index.js';
import { outboundFetch } from '../util/outbound-http.js';
import { releaseFeatures, type EndpointCall, type ReleaseFeatures } from './chart-ext.js';
import { namespaceOf } from './derivation.js';

// Where a deployment answers Berth (chart actions, its reported status, its resources' lifecycle): Platz calls
// `https://<ingress host>/<path>` (platz.md section 6); DEPLOYMENT_ENDPOINT_URL says how that host is reached.

/** A deployment's standard ingress host, as its release values name it, or why it has none. */
export function ingressHost(
  ingress: ReleaseFeatures['ingress'],
  deployment: { name: string; namespace: string },
  cluster: { ingressDomain?: string | null; ingressTlsSecretName?: string | null },
): { host: string } | { missing: string } {
  if (!ingress.enabled) return { missing: 'its chart enables no standard ingress' };
  if (!cluster.ingressDomain) return { missing: 'its cluster has no ingress domain' };
  // Platz renders no ingress without a TLS secret: nothing would answer at the host
  if (!cluster.ingressTlsSecretName) return { missing: 'its cluster has no ingress TLS secret name, so it gets no ingress' };
  if (ingress.hostnameFormat === 'Name' && !deployment.name) return { missing: 'its chart names the host after the deployment, which has no name' };
  return { host: `${ingress.hostnameFormat === 'Name' ? deployment.name : deployment.namespace}.${cluster.ingressDomain}` };
}

/** The URL of `path` on a deployment's endpoint: the template with the host and namespace put in, then the path. */
export function endpointUrl(template: string, at: { host: string; namespace: string }, path: string): string {
  const base = template.replaceAll('{host}', at.host).replaceAll('{namespace}', at.namespace);
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** A deployment as Berth calls it. */
export interface EndpointTarget {
  /** with its kind and cluster */
  deployment: Deployment;
  namespace: string;
  /** the chart of its installed revision (Platz's current_helm_chart), whose features say where it answers; null when not installed */
  chart: HelmChart | null;
  endpoint: { host: string } | { missing: string };
}

export interface EndpointAnswer {
  status: number;
  text: string;
}

/** An answer as a task's reason or a resource's sync reason: the status and the start of the body. */
export function describeAnswer(answer: EndpointAnswer, max = 2000): string {
  const text = answer.text.length > max ? `${answer.text.slice(0, max)}…` : answer.text;
  return `HTTP ${answer.status}: ${text}`;
}

export const isSuccess = (answer: EndpointAnswer) => answer.status >= 200 && answer.status < 300;

export class DeploymentEndpoints {
  constructor(private readonly options: { urlTemplate: string; timeoutMs: number }) {}

  /** The deployments `where` selects, each with its installed chart and where it answers: two queries. */
  async find(em: SqlEntityManager, where: FilterQuery<Deployment>): Promise<EndpointTarget[]> {
    const deployments = await em.find(Deployment, where, { populate: ['kind', 'cluster', 'revision'] });
    const chartIdOf = (d: Deployment) => installed(d.revision?.operation)?.helm_chart_id;
    const ids = [...new Set(deployments.map(chartIdOf).filter((id): id is string => !!id))];
    const charts = new Map((ids.length ? await em.find(HelmChart, { id: { $in: ids } }) : []).map((c) => [c.id, c]));
    return deployments.map((deployment) => {
      const namespace = namespaceOf(deployment.kind.name, deployment.name);
      const chartId = chartIdOf(deployment);
      const chart = (chartId && charts.get(chartId)) || null;
      const endpoint = !chartId
        ? { missing: 'it is not installed (no revision)' }
        : !chart
          ? { missing: 'the chart of its installed revision is no longer there' }
          : ingressHost(releaseFeatures(chart.features).ingress, { name: deployment.name, namespace }, deployment.cluster);
      return { deployment, namespace, chart, endpoint };
    });
  }

  /**
   * Calls the deployment with `body` as JSON, through outboundFetch: bounded by the timeout, same-origin redirects
   * only, no credential of Berth's. Any answer is returned; no answer (or no endpoint) throws why, for a person.
   */
  async call(target: EndpointTarget, call: EndpointCall & { body?: unknown; signal?: AbortSignal }): Promise<EndpointAnswer> {
    if ('missing' in target.endpoint) throw new Error(`The deployment cannot be called: ${target.endpoint.missing}`);
    const url = endpointUrl(this.options.urlTemplate, { host: target.endpoint.host, namespace: target.namespace }, call.path);
    // fetch sends no body with GET or HEAD (Platz's client did)
    const withBody = call.body !== undefined && call.method !== 'GET' && call.method !== 'HEAD';
    const res = await outboundFetch(url, {
      method: call.method,
      headers: withBody ? { 'content-type': 'application/json', accept: 'application/json' } : { accept: 'application/json' },
      body: withBody ? JSON.stringify(call.body) : undefined,
      timeoutMs: this.options.timeoutMs,
      signal: call.signal,
    });
    return { status: res.status, text: res.text() };
  }
}
