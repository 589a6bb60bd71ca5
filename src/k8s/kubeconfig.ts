import { parse, YAMLError } from 'yaml';
import { isJsonObject } from '../util/json.js';

/** A context that can be imported: its cluster and its user are both defined in the file. */
export interface KubeconfigEntry {
  /** the cluster entry's name */
  name: string;
  server: string;
  context: string;
  user: string;
  /** the cluster entry's `cluster` map (server, CA data, insecure flag…): secret-bearing, never returned */
  clusterConfig: Record<string, unknown>;
  /** the user entry's `user` map (token, client certificate and key, exec…): secret-bearing, never returned */
  userConfig: Record<string, unknown>;
}

export class KubeconfigError extends Error {}

/** Far above any real kubeconfig; bounds the parser's work. */
export const MAX_KUBECONFIG_LENGTH = 1024 * 1024;

type Named = { name: string } & Record<string, unknown>;


/**
 * Reads a kubeconfig as Porter does: one entry per context whose referenced cluster and user both
 * exist, in file order. Error messages name the problem and where it is, never the file's content,
 * which holds credentials.
 */
export function parseKubeconfig(text: string): KubeconfigEntry[] {
  if (text.length > MAX_KUBECONFIG_LENGTH) throw new KubeconfigError(`The kubeconfig is longer than ${MAX_KUBECONFIG_LENGTH} characters`);
  let doc: unknown;
  try {
    // warnings quote the source too: errors only
    doc = parse(text, { logLevel: 'error' });
  } catch (err) {
    // YAML errors quote the offending source line, which may be a credential: report the position only
    const at = err instanceof YAMLError && err.linePos ? ` (line ${err.linePos[0].line}, column ${err.linePos[0].col})` : '';
    throw new KubeconfigError(`The kubeconfig is not valid YAML${at}`);
  }
  if (!isJsonObject(doc) || (doc.kind !== undefined && doc.kind !== 'Config') || !Array.isArray(doc.contexts)) {
    throw new KubeconfigError('Not a kubeconfig: expected a Config document with a contexts list');
  }
  const clusters = byName(doc, 'clusters', 'cluster');
  const users = byName(doc, 'users', 'user');
  const entries: KubeconfigEntry[] = [];
  for (const context of byName(doc, 'contexts', 'context').values()) {
    const { cluster: clusterName, user: userName } = context.context as Record<string, unknown>;
    const cluster = typeof clusterName === 'string' ? clusters.get(clusterName) : undefined;
    const user = typeof userName === 'string' ? users.get(userName) : undefined;
    if (!cluster || !user) continue;
    const clusterConfig = cluster.cluster as Record<string, unknown>;
    if (typeof clusterConfig.server !== 'string' || !clusterConfig.server) throw new KubeconfigError(`Cluster "${cluster.name}" has no server`);
    entries.push({
      name: cluster.name,
      server: clusterConfig.server,
      context: context.name,
      user: user.name,
      clusterConfig,
      userConfig: user.user as Record<string, unknown>,
    });
  }
  return entries;
}

/** A named list of the document (clusters, contexts, users) by name; the first entry of a name wins. */
function byName(doc: Record<string, unknown>, list: string, body: string): Map<string, Named> {
  const items = doc[list] ?? [];
  if (!Array.isArray(items)) throw new KubeconfigError(`Not a kubeconfig: ${list} must be a list`);
  const map = new Map<string, Named>();
  for (const [i, item] of items.entries()) {
    // an empty body (`user:` with nothing under it) is an empty map, as kubectl reads it
    const inner = isJsonObject(item) ? (item[body] ?? {}) : undefined;
    if (!isJsonObject(item) || typeof item.name !== 'string' || !isJsonObject(inner)) {
      throw new KubeconfigError(`Not a kubeconfig: ${list}[${i}] must have a name and a ${body} map`);
    }
    if (!map.has(item.name)) map.set(item.name, { ...item, name: item.name, [body]: inner });
  }
  return map;
}
