import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { HelmController, type HelmControllerOptions } from './flux.js';
import { decodeSegment, parseBody, readBody, readJson, send } from './http.js';
import { listOf } from './lists.js';
import { jsonPatch, mergePatch } from './patches.js';
import { BUILT_IN_RESOURCES, ResourceRegistry, SERVICE_ACCOUNTS, type ResourceType } from './resources.js';
import { fieldSelector, labelSelector, type Selector } from './selectors.js';
import { ApiError, badRequest, failure, forbidden, invalid, noSuchPath } from './status.js';
import { ObjectStore, type KubeObject, type StoredObject, type WritePart } from './store.js';
import { Tokens, type TokenRequestSpec } from './tokens.js';
import { WatchHub } from './watches.js';

export interface KubeApiDoubleOptions {
  /** the bearer token it accepts (besides the tokens it issues through TokenRequest); random by default */
  token?: string;
  /** namespaces there from the start; default, kube-system */
  namespaces?: string[];
  /** resource types to serve besides BUILT_IN_RESOURCES (another CRD) */
  resources?: ResourceType[];
  /** how often a watch that allows bookmarks gets one; 1000 ms */
  bookmarkIntervalMs?: number;
  /** how a watch resuming from an expired resourceVersion is refused (see WatchSettings); `event` */
  expiredWatch?: 'event' | 'status';
  /** changes kept for watches to resume from; 1000 */
  historyLimit?: number;
  /** how long a deleted namespace stays Terminating; 0 (the next tick); Infinity: until finishTermination() */
  namespaceTerminationMs?: number;
  /** what GET /version says; v1.31.0 */
  gitVersion?: string;
  /** the time of creationTimestamps, deletionTimestamps and token expiry */
  clock?: () => Date;
  /** serves HTTPS with this key and certificate (PEM) instead of plain HTTP: for clients that verify the server */
  tls?: { key: string; cert: string };
  /** runs a simulated Flux helm-controller from the start (see startHelmController) */
  helmController?: HelmControllerOptions;
}

export type RequestVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'discovery';

/** What a request is about, as the API server's authorizer sees it (RBAC rules name these). */
export interface RequestResource {
  /** '' for the core group */
  group: string;
  /** the plural, with the subresource after a slash: pods, serviceaccounts/token */
  resource: string;
  namespace?: string;
  name?: string;
}

/** One request as the double received it. */
export interface RequestRecord {
  method: string;
  /** the URL's path, without the query */
  path: string;
  query: Record<string, string>;
  verb: RequestVerb;
  /** the resource of a request to one (not discovery, not a path the double does not serve) */
  resource?: RequestResource;
  /** the response's status code, once sent (200 for a watch that opened) */
  status?: number;
}

/** Requests that match every given field. */
export type RequestFilter = Partial<Pick<RequestRecord, 'method' | 'path' | 'verb' | 'status'>>;

/** Enough of an object for the test helpers to find it. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

interface Route {
  verb: RequestVerb;
  resource?: RequestResource;
  serve(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> | void;
}

/** Paths the real server answers without credentials (system:public-info-viewer). */
const PUBLIC_PATHS = new Set(['/version', '/healthz', '/livez', '/readyz']);

const WATCH = new Set(['true', '1']);

/**
 * A Kubernetes API server double: a generic object store served over plain HTTP (or HTTPS) on 127.0.0.1, with
 * lists, watches, writes, patches, server-side apply, discovery, TokenRequest and namespace
 * termination as client-node expects them, and controls for tests (direct writes as another actor
 * would make them, dropped watches, failures, compaction, request counts).
 */
export class KubeApiDouble {
  /** every request received, in order */
  readonly requests: RequestRecord[] = [];
  private readonly tokens: Tokens;
  private readonly registry: ResourceRegistry;
  private readonly store: ObjectStore;
  private readonly watches: WatchHub;
  private readonly server: Server;
  private readonly clock: () => Date;
  private readonly gitVersion: string;
  private readonly scheme: 'http' | 'https';
  private readonly waiters = new Set<() => void>();
  private failures: { remaining: number; code: number; only: RequestFilter } | undefined;
  private controller: HelmController | undefined;
  private closed = false;

  private constructor(options: KubeApiDoubleOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.tokens = new Tokens(options.token ?? `double-admin.${randomBytes(16).toString('base64url')}`, this.clock);
    this.gitVersion = options.gitVersion ?? 'v1.31.0';
    this.registry = new ResourceRegistry([...BUILT_IN_RESOURCES, ...(options.resources ?? [])]);
    this.store = new ObjectStore(this.registry, {
      historyLimit: options.historyLimit ?? 1000,
      terminationDelayMs: options.namespaceTerminationMs ?? 0,
      clock: this.clock,
    });
    this.store.subscribe(() => this.changed());
    this.watches = new WatchHub(
      this.store,
      { bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000, expiredAs: options.expiredWatch ?? 'event' },
      () => this.changed(),
    );
    const handle = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.scheme = options.tls ? 'https' : 'http';
    this.server = options.tls ? createHttpsServer(options.tls, handle) : createServer(handle);
    for (const name of options.namespaces ?? ['default', 'kube-system']) this.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    if (options.helmController) this.startHelmController(options.helmController);
  }

  static async start(options: KubeApiDoubleOptions = {}): Promise<KubeApiDouble> {
    const double = new KubeApiDouble(options);
    await new Promise<void>((resolve) => double.server.listen(0, '127.0.0.1', resolve));
    return double;
  }

  /** The bearer token the double accepts (besides those it issues). */
  get token(): string {
    return this.tokens.admin;
  }

  /** From now on the double accepts this token instead of its own, as when a rotated token replaced one that expired. */
  rotateToken(token: string): void {
    this.tokens.admin = token;
  }

  get url(): string {
    return `${this.scheme}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The last write's resourceVersion. */
  get resourceVersion(): string {
    return String(this.store.revision);
  }

  registerResource(type: ResourceType): void {
    this.registry.register(type);
  }

  /**
   * Flux's helm-controller from now on: HelmReleases created or changed are installed or upgraded
   * (Ready, with their workload) or failed, as `options` says; see HelmController.
   */
  startHelmController(options: HelmControllerOptions = {}): HelmController {
    if (this.controller) throw new Error('the helm-controller runs already');
    this.controller = new HelmController(this.store, options);
    return this.controller;
  }

  /** The running helm-controller: what it installed (history). */
  get helmController(): HelmController {
    if (!this.controller) throw new Error('no helm-controller runs: start one with startHelmController() or the helmController option');
    return this.controller;
  }

  // Writes and reads as another actor (a controller, kubectl) makes them: no credentials, no
  // injected failures, status written with the rest. Namespaced objects without a namespace go to
  // "default". Each returns a copy of what is stored.

  create(object: KubeObject): StoredObject {
    const [type, namespace] = this.locate(object);
    return copy(this.store.create(type, namespace, copy(object), 'all'));
  }

  /** Replaces the whole object. */
  update(object: KubeObject): StoredObject {
    const [type, namespace] = this.locate(object);
    return copy(this.store.replace(type, namespace, object.metadata?.name ?? '', copy(object), 'all'));
  }

  /** Creates the object, or merges it into the stored one (a merge patch: `null` removes a field). */
  apply(object: KubeObject): StoredObject {
    const [type, namespace] = this.locate(object);
    const name = object.metadata?.name ?? '';
    const patch = copy(object);
    if (!this.store.get(type, namespace, name)) return copy(this.store.create(type, namespace, patch, 'all'));
    return copy(this.store.patch(type, namespace, name, (current) => mergePatch(current, patch) as KubeObject, 'all'));
  }

  /** Deletes the object; a namespace becomes Terminating (see finishTermination). */
  delete(ref: ObjectRef): StoredObject {
    const [type, namespace] = this.locate(ref);
    return copy(this.store.delete(type, namespace, ref.metadata.name));
  }

  get(ref: ObjectRef): StoredObject | undefined {
    const [type, namespace] = this.locate(ref);
    const object = this.store.get(type, namespace, ref.metadata.name);
    return object && copy(object);
  }

  /** A Terminating namespace and everything in it go now, each reported DELETED to watches. */
  finishTermination(namespace: string): void {
    this.store.finishTermination(namespace);
  }

  /** Forgets the change history: a watch resuming from any resourceVersion before now gets 410 Expired. */
  compact(): void {
    this.store.compact();
  }

  /** Resets the connection of every open watch (clients see ECONNRESET), as a network failure would. */
  dropWatches(): void {
    this.watches.drop();
  }

  /** Ends every open watch cleanly, as the server does when a watch's time is up. */
  endWatches(): void {
    this.watches.end();
  }

  /** Open watches, on one path (e.g. /api/v1/namespaces/apps/pods) or on all. */
  openWatches(path?: string): number {
    return this.watches.count(path);
  }

  /** The next `count` requests matching `only` (any, by default: `only` fails one step of a sequence) are answered with a Status of that code. */
  failNext(count: number, code = 500, only: Omit<RequestFilter, 'status'> = {}): void {
    this.failures = { remaining: count, code, only };
  }

  /** Every request (matching `only`) is answered with a Status of that code until recover(). */
  failAll(code = 500, only: Omit<RequestFilter, 'status'> = {}): void {
    this.failNext(Infinity, code, only);
  }

  recover(): void {
    this.failures = undefined;
  }

  /** Requests received so far that match every given field. */
  countRequests(filter: RequestFilter): number {
    return this.requests.filter((r) => matches(r, filter)).length;
  }

  /**
   * Resolves once `check` holds, checked now and after every request, response, watch opened or
   * closed and write.
   */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = () => {
        if (!check()) return;
        this.waiters.delete(waiter);
        resolve();
      };
      this.waiters.add(waiter);
    });
  }

  /** Stops listening, resets every connection and clears every timer. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.controller?.stop();
    this.store.close();
    this.watches.drop();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private changed(): void {
    [...this.waiters].forEach((waiter) => waiter());
  }

  private locate(object: { apiVersion?: string; kind?: string; metadata?: { namespace?: string } }): [ResourceType, string | undefined] {
    const type = this.registry.byKind(object.apiVersion ?? '', object.kind ?? '');
    if (!type) throw new Error(`the double serves no ${object.apiVersion} ${object.kind}`);
    return [type, type.namespaced ? (object.metadata?.namespace ?? 'default') : undefined];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const path = url.pathname.replace(/(.)\/+$/, '$1');
    const route = this.route(req.method ?? 'GET', path, url.searchParams);
    const record: RequestRecord = { method: req.method ?? 'GET', path, query: Object.fromEntries(url.searchParams), verb: route.verb, ...(route.resource ? { resource: route.resource } : {}) };
    this.requests.push(record);
    this.changed();
    try {
      if (this.failures && this.failures.remaining > 0 && matches(record, this.failures.only)) {
        this.failures.remaining--;
        throw failure(this.failures.code, `failure injected by the test (${this.failures.code})`);
      }
      this.authenticate(req, path, route.verb);
      // a dry run would need the store to write nothing; better refused than silently written
      if (url.searchParams.has('dryRun')) throw badRequest('dryRun is not supported by the API server double');
      // a watch opens synchronously: its status is recorded before a test waiting for it resumes
      const served = route.serve(req, res, url.searchParams);
      if (served) await served;
    } catch (err) {
      const status = err instanceof ApiError ? err.status : failure(500, String(err)).status;
      if (res.headersSent) res.destroy();
      else send(res, status.code, status);
    }
    record.status = res.statusCode;
    this.changed();
  }

  private authenticate(req: IncomingMessage, path: string, verb: RequestVerb): void {
    const header = req.headers.authorization;
    if (header === undefined) {
      if (!PUBLIC_PATHS.has(path)) throw forbidden(`forbidden: User "system:anonymous" cannot ${verb} path "${path}"`);
      return;
    }
    // a credential that is given and wrong is refused everywhere, public paths too
    if (!this.tokens.accepts(/^Bearer\s+(\S+)$/i.exec(header)?.[1])) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
  }

  private route(method: string, path: string, query: URLSearchParams): Route {
    const answer = (body: object | undefined): Route => ({
      verb: 'discovery',
      serve: (_req, res) => {
        if (!body) throw noSuchPath();
        send(res, 200, body);
      },
    });
    if (path === '/version') {
      const [major, minor] = this.gitVersion.replace(/^v/, '').split('.');
      return answer({ major, minor, gitVersion: this.gitVersion, gitTreeState: 'clean', goVersion: 'go1.22.5', compiler: 'gc', platform: 'linux/amd64' });
    }
    if (PUBLIC_PATHS.has(path)) return { verb: 'discovery', serve: (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok') };
    if (path === '/api') return answer(this.registry.coreVersions(new URL(this.url).host));
    if (path === '/apis') return answer(this.registry.groupList());
    const group = /^\/apis\/([^/]+)$/.exec(path);
    if (group) return answer(this.registry.group(group[1]));
    const resources = /^\/api\/(v1)(\/.*)?$/.exec(path) ?? /^\/apis\/([^/]+\/[^/]+)(\/.*)?$/.exec(path);
    if (resources && !resources[2]) return answer(this.registry.resourceList(resources[1]));
    return (resources && this.resourceRoute(method, path, resources[1], resources[2], query)) ?? unknownPath(method);
  }

  /** /api/v1/…, /apis/{group}/{version}/…: a resource collection, an object, or one of its subresources. */
  private resourceRoute(method: string, path: string, apiVersion: string, rest: string, query: URLSearchParams): Route | undefined {
    const segments = rest.split('/').filter(Boolean).map(decodeSegment);
    if (segments.includes(undefined)) return undefined;
    // namespaces/{name}/status is the namespace's; namespaces/{name}/pods, the pods in it
    const inNamespace = segments[0] === 'namespaces' && segments.length >= 3 && this.registry.byPath(apiVersion, segments[2]!)?.namespaced === true;
    const [namespace, plural, name, subresource, ...more] = inNamespace ? segments.slice(1) : [undefined, ...segments];
    const type = this.registry.byPath(apiVersion, plural!);
    // a namespaced object is found in its namespace only
    if (!type || more.length || (type.namespaced && name !== undefined && !inNamespace)) return undefined;
    const resource: RequestResource = { group: type.group, resource: subresource ? `${type.plural}/${subresource}` : type.plural, namespace, name };
    const about = (route: Route): Route => ({ ...route, resource });

    if (name === undefined) {
      if (method === 'GET') {
        return about(
          WATCH.has(query.get('watch') ?? '')
            ? { verb: 'watch', serve: (_req, res, q) => this.watches.serve(res, path, { resource: type, namespace, matches: this.selection(q) }, q) }
            : { verb: 'list', serve: (_req, res, q) => send(res, 200, listOf(this.store, type, namespace, this.selection(q), q)) },
        );
      }
      if (method === 'POST' && (inNamespace || !type.namespaced)) {
        return about({ verb: 'create', serve: async (req, res) => send(res, 201, this.store.create(type, namespace, await readJson<KubeObject>(req), 'main')) });
      }
      return undefined;
    }
    const part: WritePart | undefined = subresource === undefined ? 'main' : subresource === 'status' && type.status ? 'status' : undefined;
    if (part) {
      if (method === 'GET') return about({ verb: 'get', serve: (_req, res) => send(res, 200, this.store.read(type, namespace, name)) });
      if (method === 'PUT') {
        return about({ verb: 'update', serve: async (req, res) => send(res, 200, this.store.replace(type, namespace, name, await readJson<KubeObject>(req), part)) });
      }
      if (method === 'PATCH') return about({ verb: 'patch', serve: (req, res, q) => this.patch(req, res, q, type, namespace, name, part) });
      if (method === 'DELETE' && part === 'main') return about({ verb: 'delete', serve: (_req, res) => send(res, 200, this.deleted(type, this.store.delete(type, namespace, name))) });
    }
    if (type === SERVICE_ACCOUNTS && subresource === 'token' && method === 'POST') {
      return about({ verb: 'create', serve: async (req, res) => send(res, 201, await this.tokenRequest(req, namespace!, name)) });
    }
    return undefined;
  }

  private selection(query: URLSearchParams): Selector {
    const labels = labelSelector(query.get('labelSelector'));
    const fields = fieldSelector(query.get('fieldSelector'));
    return (object) => labels(object) && fields(object);
  }

  private async patch(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    part: WritePart,
  ): Promise<void> {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
    if (contentType === 'application/apply-patch+yaml') {
      const manager = query.get('fieldManager');
      if (!manager) throw invalid(undefined, '', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
      const existed = this.store.get(type, namespace, name) !== undefined;
      const config = parseBody(await readBody(req), (text) => parseYaml(text) as KubeObject);
      const applied = this.store.apply(type, namespace, name, config, manager, part);
      return send(res, existed ? 200 : 201, applied);
    }
    const body = parseBody(await readBody(req), JSON.parse);
    const change = {
      // the double knows no list merge keys: a strategic merge patch merges as a merge patch does
      'application/merge-patch+json': (current: StoredObject) => mergePatch(current, body),
      'application/strategic-merge-patch+json': (current: StoredObject) => mergePatch(current, body),
      'application/json-patch+json': (current: StoredObject) => {
        try {
          return jsonPatch(current, body);
        } catch (err) {
          throw invalid(type, name, `the JSON patch could not be applied: ${(err as Error).message}`);
        }
      },
    }[contentType];
    if (!change) throw failure(415, `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
    send(res, 200, this.store.patch(type, namespace, name, (current) => change(current) as KubeObject, part));
  }

  /** What DELETE answers: the object as deleted (a namespace: Terminating) for some types, a Success Status for most. */
  private deleted(type: ResourceType, object: StoredObject): object {
    if (type.returnsDeleted) return object;
    const { name, uid } = object.metadata;
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: type.group, kind: type.plural, uid } };
  }

  /** POST …/serviceaccounts/{name}/token: a token this double accepts until it expires. */
  private async tokenRequest(req: IncomingMessage, namespace: string, name: string): Promise<object> {
    this.store.read(SERVICE_ACCOUNTS, namespace, name);
    const { spec } = await readJson<{ spec?: TokenRequestSpec }>(req);
    return this.tokens.issue(namespace, name, spec);
  }
}

export const startKubeApiDouble = (options?: KubeApiDoubleOptions): Promise<KubeApiDouble> => KubeApiDouble.start(options);

function unknownPath(method: string): Route {
  const verbs: Record<string, RequestVerb> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
  return {
    verb: verbs[method] ?? 'get',
    serve: () => {
      throw noSuchPath();
    },
  };
}

const matches = (record: RequestRecord, filter: RequestFilter): boolean =>
  Object.entries(filter).every(([k, v]) => record[k as keyof RequestRecord] === v);

/** What a client would send or receive: JSON, sharing nothing with the caller's object or the store's. */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
