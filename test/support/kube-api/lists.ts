import { parseBody } from './http.js';
import { apiVersionOf, type ResourceType } from './resources.js';
import type { Selector } from './selectors.js';
import { badRequest } from './status.js';
import type { ObjectStore, StoredObject } from './store.js';

/** Where a continued list goes on. */
interface ContinuePosition {
  resourceVersion: string;
  /** the key of the last object of the previous page */
  after: string;
}

/**
 * A list as the real server sends it: items without kind and apiVersion, in key order, the list's
 * resourceVersion, and with `limit`, pages joined by a continue token that keeps the first page's
 * resourceVersion (Expired once that is compacted away). Unlike the real server, later pages show
 * the objects as they are now, not as they were at that resourceVersion.
 */
export function listOf(store: ObjectStore, type: ResourceType, namespace: string | undefined, matches: Selector, query: URLSearchParams): object {
  const all = store.list(type, namespace).filter(matches);
  const limit = Number(query.get('limit') ?? 0);
  let resourceVersion = String(store.revision);
  let start = 0;
  const token = query.get('continue');
  if (token) {
    const position = decodeContinue(token);
    store.requireKept(Number(position.resourceVersion));
    resourceVersion = position.resourceVersion;
    start = all.findIndex((o) => keyOf(o) > position.after);
    if (start < 0) start = all.length;
  }
  const page = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
  const remaining = all.length - start - page.length;
  const metadata = {
    resourceVersion,
    ...(remaining > 0 ? { continue: encodeContinue({ resourceVersion, after: keyOf(page.at(-1)!) }), remainingItemCount: remaining } : {}),
  };
  const items = page.map(({ kind: _kind, apiVersion: _apiVersion, ...item }) => item);
  return { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata, items };
}

/** The order of store.list(): namespace, then name. */
const keyOf = (object: StoredObject) => `${object.metadata.namespace ?? ''}/${object.metadata.name}`;

const encodeContinue = (position: ContinuePosition) => Buffer.from(JSON.stringify(position)).toString('base64url');

function decodeContinue(token: string): ContinuePosition {
  const position = parseBody(Buffer.from(token, 'base64url').toString('utf8'), JSON.parse) as Partial<ContinuePosition>;
  if (typeof position.resourceVersion !== 'string' || typeof position.after !== 'string') throw badRequest('invalid continue token');
  return position as ContinuePosition;
}
