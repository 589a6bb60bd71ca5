import { existsSync } from 'node:fs';

const TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * The cluster Berth runs in, as a kubeconfig with the one context `in-cluster`, or null outside a pod (no
 * KUBERNETES_SERVICE_HOST, or no service account token). client-node reads the pod's environment and names the
 * service account's files rather than copying them: Kubernetes rotates the token, and client-node re-reads it.
 */
export async function inClusterKubeconfig(root: string): Promise<string | null> {
  if (!process.env.KUBERNETES_SERVICE_HOST || !existsSync(`${root}${TOKEN_PATH}`)) return null;
  // loaded only in a pod: @kubernetes/client-node takes about 300 ms and 70 MB to load
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromCluster(root);
  const config = JSON.parse(kc.exportConfig()) as { contexts: { name: string }[]; 'current-context': string };
  config.contexts[0].name = config['current-context'] = 'in-cluster';
  return JSON.stringify(config);
}
