import { KubeConfig } from '@kubernetes/client-node';

/** A cluster's stored credentials: its kubeconfig cluster and user entries, as imported. */
export interface ClusterCredentials {
  cluster: Record<string, unknown>;
  user: Record<string, unknown>;
}

/**
 * The client configuration of one cluster, read by client-node from the entries as they were imported, so every
 * way a kubeconfig can authenticate (token, client certificate, exec plugin) works as kubectl would.
 */
export function kubeConfigFor(credentials: ClusterCredentials): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'cluster', cluster: credentials.cluster }],
      users: [{ name: 'user', user: credentials.user }],
      contexts: [{ name: 'berth', context: { cluster: 'cluster', user: 'user' } }],
      'current-context': 'berth',
    }),
  );
  return kc;
}
