import { randomBytes, randomUUID } from 'node:crypto';
import { applyConfiguration, sameJson } from './patches.js';
import { apiVersionOf, NAMESPACES, type ResourceRegistry, type ResourceType } from './resources.js';
import { alreadyExists, badRequest, conflict, expired, forbidden, invalid, notFound } from './status.js';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

/** An object as a client or a test writes it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/** An object as the store keeps it: never changed in place, each write stores a new one. */
export interface StoredObject extends KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string; uid: string; resourceVersion: string; generation: number; creationTimestamp: string };
}

/** One write, as watches replay it: `previous` is the object before (none for ADDED). */
export interface Change {
  revision: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: ResourceType;
  object: StoredObject;
  previous?: StoredObject;
}

/**
 * What a write may change: `all` (a test acting as the controller), `main` (a client writing the
 * object: its status stays as stored) or `status` (a client writing the status subresource).
 */
export type WritePart = 'all' | 'main' | 'status';

export interface StoreOptions {
  /** changes kept for watches to resume from; older resourceVersions are Expired */
  historyLimit: number;
  /** how long a deleted namespace stays Terminating; Infinity: until finishTermination() */
  terminationDelayMs: number;
  clock: () => Date;
}

/** Timestamps as the API server writes them: RFC 3339 to the second. */
export const timestamp = (date: Date): string => date.toISOString().replace(/\.\d+Z$/, 'Z');

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * Every object of every resource type, one global revision bumped by each write (the
 * resourceVersion), and the recent changes, which watches replay and follow.
 */
export class ObjectStore {
  private readonly objects = new Map<ResourceType, Map<string, StoredObject>>();
  /** per object, the configuration each field manager applied last */
  private readonly applied = new Map<string, Map<string, KubeObject>>();
  private readonly listeners = new Set<(change: Change) => void>();
  private readonly terminations = new Map<string, NodeJS.Timeout>();
  private history: Change[] = [];
  private compactedThrough = 0;
  private lastRevision = 0;

  constructor(
    readonly registry: ResourceRegistry,
    private readonly options: StoreOptions,
  ) {}

  get revision(): number {
    return this.lastRevision;
  }

  now(): string {
    return timestamp(this.options.clock());
  }

  get(type: ResourceType, namespace: string | undefined, name: string): StoredObject | undefined {
    return this.bucket(type).get(keyOf(type, namespace, name));
  }

  read(type: ResourceType, namespace: string | undefined, name: string): StoredObject {
    const object = this.get(type, namespace, name);
    if (!object) throw notFound(type, name);
    return object;
  }

  /** In key order (namespace, then name), as etcd returns them; all namespaces when none is given. */
  list(type: ResourceType, namespace?: string): StoredObject[] {
    return [...this.bucket(type).entries()]
      .filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, o]) => o);
  }

  create(type: ResourceType, namespace: string | undefined, body: KubeObject, part: WritePart): StoredObject {
    this.checkBody(type, namespace, body);
    const meta = body.metadata ?? {};
    if (meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    const name = meta.name ?? (meta.generateName ? meta.generateName + randomBytes(3).toString('hex').slice(0, 5) : '');
    if (!name) throw invalid(type, '', `${type.kind} "" is invalid: metadata.name: Required value: name or generateName is required`);
    if (!NAME.test(name)) throw invalid(type, name, `${type.kind} "${name}" is invalid: metadata.name: Invalid value: "${name}": must be a lowercase RFC 1123 subdomain`);
    if (type.namespaced) this.requireOpenNamespace(type, namespace!, name);
    if (this.get(type, namespace, name)) throw alreadyExists(type, name);
    return this.commit(type, undefined, this.candidate(type, namespace, name, body, undefined, part));
  }

  replace(type: ResourceType, namespace: string | undefined, name: string, body: KubeObject, part: WritePart): StoredObject {
    this.checkBody(type, namespace, body, name);
    const previous = this.read(type, namespace, name);
    this.checkVersion(type, previous, body.metadata?.resourceVersion);
    return this.commit(type, previous, this.candidate(type, namespace, name, body, previous, part));
  }

  /** Writes what `change` makes of the stored object (a merge or JSON patch). */
  patch(type: ResourceType, namespace: string | undefined, name: string, change: (current: StoredObject) => KubeObject, part: WritePart): StoredObject {
    const previous = this.read(type, namespace, name);
    const body = change(previous);
    this.checkBody(type, namespace, body, name);
    this.checkVersion(type, previous, body.metadata?.resourceVersion);
    return this.commit(type, previous, this.candidate(type, namespace, name, body, previous, part));
  }

  /** Server-side apply: creates the object when missing; applying the same configuration again writes nothing. */
  apply(type: ResourceType, namespace: string | undefined, name: string, config: KubeObject, manager: string, part: WritePart): StoredObject {
    this.checkBody(type, namespace, config, name);
    if (!config.apiVersion || !config.kind) throw badRequest('apiVersion and kind must be set in an applied configuration');
    const key = `${apiVersionOf(type)}/${type.plural}/${keyOf(type, namespace, name)}`;
    const previous = this.get(type, namespace, name);
    let result: StoredObject;
    if (!previous) {
      if (part === 'status') throw notFound(type, name);
      result = this.create(type, namespace, { ...config, metadata: { ...config.metadata, name } }, part);
    } else {
      this.checkVersion(type, previous, config.metadata?.resourceVersion);
      const merged = applyConfiguration(previous, this.applied.get(key)?.get(manager), config) as KubeObject;
      result = this.commit(type, previous, this.candidate(type, namespace, name, merged, previous, part));
    }
    if (!this.applied.has(key)) this.applied.set(key, new Map());
    this.applied.get(key)!.set(manager, config);
    return result;
  }

  /** Removes the object; a namespace only becomes Terminating. Returns the object as last written. */
  delete(type: ResourceType, namespace: string | undefined, name: string): StoredObject {
    const object = this.read(type, namespace, name);
    return type === NAMESPACES ? this.terminate(object) : this.remove(type, object);
  }

  /** A Terminating namespace goes, with everything in it (each reported deleted, namespace last). */
  finishTermination(name: string): void {
    const namespace = this.get(NAMESPACES, undefined, name);
    if (!namespace?.metadata.deletionTimestamp) throw new Error(`namespace ${name} is not terminating`);
    clearTimeout(this.terminations.get(name));
    this.terminations.delete(name);
    for (const type of this.registry.all.filter((t) => t.namespaced)) {
      for (const object of this.list(type, name)) this.remove(type, object);
    }
    this.remove(NAMESPACES, namespace);
  }

  /** The changes after `revision`; Expired (410) when some of them are no longer kept. */
  changesSince(revision: number): Change[] {
    this.requireKept(revision);
    return this.history.filter((c) => c.revision > revision);
  }

  requireKept(revision: number): void {
    if (revision < this.compactedThrough) throw expired(`too old resource version: ${revision} (${this.compactedThrough})`);
  }

  /** Forgets every change so far, as an etcd compaction does: resuming from before now is Expired. */
  compact(): void {
    this.compactedThrough = this.lastRevision;
    this.history = [];
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.terminations.forEach((timer) => clearTimeout(timer));
    this.terminations.clear();
    this.listeners.clear();
  }

  private bucket(type: ResourceType): Map<string, StoredObject> {
    let bucket = this.objects.get(type);
    if (!bucket) this.objects.set(type, (bucket = new Map()));
    return bucket;
  }

  private checkBody(type: ResourceType, namespace: string | undefined, body: KubeObject, name?: string): void {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the object must be a JSON object');
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(type)) {
      throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${apiVersionOf(type)})`);
    }
    if (body.kind !== undefined && body.kind !== type.kind) throw badRequest(`the kind in the data (${body.kind}) does not match the expected kind (${type.kind})`);
    const meta = body.metadata ?? {};
    if (type.namespaced && meta.namespace !== undefined && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (name !== undefined && meta.name !== undefined && meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
  }

  private checkVersion(type: ResourceType, current: StoredObject, expected: string | undefined): void {
    if (expected && expected !== current.metadata.resourceVersion) throw conflict(type, current.metadata.name);
  }

  private requireOpenNamespace(type: ResourceType, namespace: string, name: string): void {
    const owner = this.get(NAMESPACES, undefined, namespace);
    if (!owner) throw notFound(NAMESPACES, namespace);
    if (owner.metadata.deletionTimestamp) {
      throw forbidden(`${type.plural} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  /** The object to store: the body, with what only the server sets taken from the stored object. */
  private candidate(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: KubeObject,
    previous: StoredObject | undefined,
    part: WritePart,
  ): StoredObject {
    const { deletionTimestamp: _ignored, ...meta } = body.metadata ?? {};
    const metadata: StoredObject['metadata'] = {
      ...meta,
      name,
      ...(type.namespaced ? { namespace } : {}),
      uid: previous?.metadata.uid ?? randomUUID(),
      resourceVersion: previous?.metadata.resourceVersion ?? '',
      generation: previous?.metadata.generation ?? 1,
      creationTimestamp: previous?.metadata.creationTimestamp ?? this.now(),
      ...(previous?.metadata.deletionTimestamp ? { deletionTimestamp: previous.metadata.deletionTimestamp } : {}),
    };
    if (!type.namespaced) delete metadata.namespace;
    const { status: written, ...rest } = body;
    // commit() sets the new resourceVersion on the candidate's metadata: never the stored object's
    if (part === 'status') return withStatus({ ...previous!, metadata: { ...previous!.metadata } }, written);
    const status = part === 'main' && type.status ? previous?.status : written;
    return withStatus({ ...rest, apiVersion: apiVersionOf(type), kind: type.kind, metadata }, status ?? (type === NAMESPACES ? { phase: 'Active' } : undefined));
  }

  private commit(type: ResourceType, previous: StoredObject | undefined, candidate: StoredObject): StoredObject {
    // a write that changes nothing is not a write: no new resourceVersion, no event
    if (previous && sameJson(candidate, previous)) return previous;
    const revision = ++this.lastRevision;
    const specChanged = !previous || !sameJson(specOf(previous), specOf(candidate));
    candidate.metadata.resourceVersion = String(revision);
    candidate.metadata.generation = previous ? previous.metadata.generation + (specChanged ? 1 : 0) : 1;
    this.bucket(type).set(keyOf(type, candidate.metadata.namespace, candidate.metadata.name), candidate);
    this.record({ revision, type: previous ? 'MODIFIED' : 'ADDED', resource: type, object: candidate, previous });
    return candidate;
  }

  private terminate(namespace: StoredObject): StoredObject {
    if (namespace.metadata.deletionTimestamp) return namespace;
    const terminating = this.commit(NAMESPACES, namespace, {
      ...namespace,
      metadata: { ...namespace.metadata, deletionTimestamp: this.now() },
      status: { ...(namespace.status as object), phase: 'Terminating' },
    });
    const name = namespace.metadata.name;
    if (Number.isFinite(this.options.terminationDelayMs)) {
      this.terminations.set(name, setTimeout(() => this.finishTermination(name), this.options.terminationDelayMs));
    }
    return terminating;
  }

  private remove(type: ResourceType, object: StoredObject): StoredObject {
    const revision = ++this.lastRevision;
    const gone = { ...object, metadata: { ...object.metadata, resourceVersion: String(revision) } };
    const key = keyOf(type, object.metadata.namespace, object.metadata.name);
    this.bucket(type).delete(key);
    this.applied.delete(`${apiVersionOf(type)}/${type.plural}/${key}`);
    this.record({ revision, type: 'DELETED', resource: type, object: gone, previous: object });
    return gone;
  }

  private record(change: Change): void {
    this.history.push(change);
    while (this.history.length > this.options.historyLimit) this.compactedThrough = this.history.shift()!.revision;
    this.listeners.forEach((listener) => listener(change));
  }
}

const keyOf = (type: ResourceType, namespace: string | undefined, name: string) => `${type.namespaced ? namespace : ''}/${name}`;

/** What bumps generation: anything but metadata and status. */
const specOf = ({ metadata: _metadata, status: _status, ...spec }: StoredObject) => spec;

/** The object with that status, or without one (rather than `status: undefined`). */
function withStatus(object: StoredObject, status: unknown): StoredObject {
  const { status: _old, ...rest } = object;
  return status === undefined ? rest : { ...rest, status };
}
