import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { apiVersionOf, type ResourceType } from './resources.js';
import type { Selector } from './selectors.js';
import { ApiError, badRequest } from './status.js';
import type { Change, ObjectStore } from './store.js';

/** What one watch follows: a resource type, in one namespace or all, through its selectors. */
export interface WatchScope {
  resource: ResourceType;
  namespace?: string;
  matches: Selector;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: object;
}

export interface WatchSettings {
  /** how often a watch that allows bookmarks gets one */
  bookmarkIntervalMs: number;
  /**
   * How a resume from an expired resourceVersion is refused: `event`, as the real server does (the
   * watch opens, sends an ERROR event with a 410 Expired Status and ends), or `status`, an HTTP 410.
   */
  expiredAs: 'event' | 'status';
}

interface OpenWatch {
  path: string;
  response: ServerResponse;
  /** stops following the store; idempotent */
  detach(): void;
}

/**
 * The open watches: each replays the changes after the resourceVersion it asks for, then follows
 * the store, one JSON event a line in a chunked response.
 */
export class WatchHub {
  private readonly open = new Set<OpenWatch>();

  constructor(
    private readonly store: ObjectStore,
    private readonly settings: WatchSettings,
    /** called when a watch opens or closes */
    private readonly changed: () => void,
  ) {}

  /** Answers a watch request; a bad or (with `expiredAs: 'status'`) expired resourceVersion throws before anything is written. */
  serve(response: ServerResponse, path: string, scope: WatchScope, query: URLSearchParams): void {
    let backlog: WatchEvent[];
    try {
      backlog = this.backlog(scope, query.get('resourceVersion'));
    } catch (err) {
      if (!(err instanceof ApiError && err.status.code === 410 && this.settings.expiredAs === 'event')) throw err;
      startStream(response);
      response.end(line({ type: 'ERROR', object: err.status }));
      return;
    }
    startStream(response);
    const send = (event: WatchEvent) => response.write(line(event));
    backlog.forEach(send);
    const unsubscribe = this.store.subscribe((change) => {
      const event = eventFor(scope, change);
      if (event) send(event);
    });
    const timers: NodeJS.Timeout[] = [];
    const watch: OpenWatch = {
      path,
      response,
      detach: () => {
        if (!this.open.delete(watch)) return;
        unsubscribe();
        timers.forEach(clearTimeout);
        this.changed();
      },
    };
    if (['true', '1'].includes(query.get('allowWatchBookmarks') ?? '')) {
      const bookmark = () => ({ kind: scope.resource.kind, apiVersion: apiVersionOf(scope.resource), metadata: { resourceVersion: String(this.store.revision) } });
      timers.push(setInterval(() => send({ type: 'BOOKMARK', object: bookmark() }), this.settings.bookmarkIntervalMs));
    }
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? 0);
    if (timeoutSeconds > 0) timers.push(setTimeout(() => end(watch), timeoutSeconds * 1000));
    // a client that goes away
    response.on('close', watch.detach);
    this.open.add(watch);
    this.changed();
  }

  /** Open watches, on one path or all. */
  count(path?: string): number {
    return [...this.open].filter((w) => path === undefined || w.path === path).length;
  }

  /** Resets every watch's connection, as a network failure or a crashed server would. */
  drop(): void {
    for (const watch of [...this.open]) {
      watch.detach();
      // only a TCP socket can be reset: over HTTPS, the one under the TLS socket (its _parent)
      const socket = watch.response.socket as (Socket & { _parent?: Socket | null }) | null;
      (socket?._parent ?? socket)?.resetAndDestroy();
    }
  }

  /** Ends every watch cleanly, as the server does when a watch's time is up. */
  end(): void {
    [...this.open].forEach(end);
  }

  /** The events a new watch starts with: every object (no resourceVersion, or "0"), or the changes after it. */
  private backlog(scope: WatchScope, since: string | null): WatchEvent[] {
    if (!since || since === '0') {
      return this.store
        .list(scope.resource, scope.namespace)
        .filter(scope.matches)
        .map((object) => ({ type: 'ADDED', object }));
    }
    const revision = Number(since);
    if (!Number.isSafeInteger(revision) || revision < 0) throw badRequest(`invalid resourceVersion ${JSON.stringify(since)}`);
    return this.store.changesSince(revision).flatMap((change) => eventFor(scope, change) ?? []);
  }
}

/**
 * A change as a watch sees it: an object that starts or stops matching the selectors is added or
 * deleted for that watch, as from a real server.
 */
function eventFor(scope: WatchScope, change: Change): WatchEvent | undefined {
  if (change.resource !== scope.resource) return undefined;
  if (scope.namespace !== undefined && change.object.metadata.namespace !== scope.namespace) return undefined;
  const now = scope.matches(change.object);
  if (change.type !== 'MODIFIED') return now ? { type: change.type, object: change.object } : undefined;
  const before = scope.matches(change.previous!);
  if (now) return { type: before ? 'MODIFIED' : 'ADDED', object: change.object };
  return before ? { type: 'DELETED', object: change.object } : undefined;
}

/** Ends a watch cleanly; it counts as closed at once, before its client hears of it. */
function end(watch: OpenWatch): void {
  watch.detach();
  watch.response.end();
}

function startStream(response: ServerResponse): void {
  // no content-length: the response is chunked, each event flushed as it is written
  response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
  response.flushHeaders();
}

const line = (event: WatchEvent) => `${JSON.stringify(event)}\n`;
