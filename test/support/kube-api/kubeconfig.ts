import { stringify } from 'yaml';
import type { KubeApiDouble } from './double.js';

/** One context of the kubeconfig: a cluster and a user of its own, both named as the context. */
export interface KubeconfigContext {
  name: string;
  /** the double it points at; the one kubeconfigFor was given by default */
  double?: KubeApiDouble;
  /** the bearer token; the double's own by default, anything else is refused with 401 */
  token?: string;
  namespace?: string;
}

export interface KubeconfigOptions {
  /** the bearer token of every context that names none */
  token?: string;
  /** the namespace of every context that names none */
  namespace?: string;
  /** the contexts, the first one current; one named "kube-api-double" by default */
  contexts?: Array<string | KubeconfigContext>;
}

/**
 * A kubeconfig (YAML) for the double, as Berth's createClustersFromKubeconfig and client-node's
 * KubeConfig.loadFromString read it. Its clusters skip TLS verification (insecure-skip-tls-verify):
 * client-node refuses plain http:// without it, and the certificate of a double serving HTTPS is the
 * test's own.
 */
export function kubeconfigFor(double: KubeApiDouble, options: KubeconfigOptions = {}): string {
  const contexts = (options.contexts ?? ['kube-api-double']).map((c) => (typeof c === 'string' ? { name: c } : c));
  if (!contexts.length) throw new Error('a kubeconfig needs a context');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: contexts.map((c) => ({ name: c.name, cluster: { server: (c.double ?? double).url, 'insecure-skip-tls-verify': true } })),
    users: contexts.map((c) => ({ name: c.name, user: { token: c.token ?? options.token ?? (c.double ?? double).token } })),
    contexts: contexts.map((c) => {
      const namespace = c.namespace ?? options.namespace;
      return { name: c.name, context: { cluster: c.name, user: c.name, ...(namespace ? { namespace } : {}) } };
    }),
    'current-context': contexts[0].name,
  });
}
