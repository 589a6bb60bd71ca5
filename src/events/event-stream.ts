import { IsolationLevel } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { KnownIdentity } from '../auth/identity.js';
import type { Grants } from '../policy/grants.js';
import { eventVisible, scopeWhere } from '../policy/visibility.js';
import type { ServiceContext } from '../services/context.js';
import { Loaders } from '../services/loaders.js';
import type { Where } from '../services/read-service.js';
import { eventRow, loadNodes, type EventHub, type Subscriber } from './event-hub.js';
import { headCursor, readEvents, type ChangeEvent, type EventOperation } from './event-log.js';
import { entityOf, type EventTable } from './event-types.js';

/** A message of a subscription: a change, an object of the opening snapshot, or the marker that live changes follow. */
export interface EventMessage {
  operation: EventOperation | 'SNAPSHOT' | 'LIVE';
  /** resume with `since: cursor` to receive everything after this message */
  cursor: string;
  table: EventTable | null;
  id: string | null;
  /** the object as it is now; null for deletes, the marker, and objects gone since */
  node: object | null;
  /** the hub's event, the same object for every subscriber of a live change (their executions can be shared) */
  event?: ChangeEvent;
}

/** One subscription filter condition: the event's `key` (id, env_id or a recorded ref) equals `value`; `path` is the same condition as a query. */
export interface FilterTerm {
  key: string;
  path: string[];
  value: string;
}

export interface StreamSpec {
  tables: EventTable[];
  terms: FilterTerm[];
  /** resume after this cursor; absent: open with a snapshot */
  since?: number;
}

/** The WebSocket a subscription runs on: its subscriptions share one bounded queue. */
export interface SubscriberConnection {
  queued: number;
  readonly limit: number;
  close(code: number, reason: string): void;
}

/** Close codes a subscriber can receive besides graphql-ws's own. */
export const CloseCode = {
  /** more events waiting than SUBSCRIPTION_QUEUE_LIMIT: the client reads too slowly */
  TooSlow: 4008,
  /** the identity was deleted or deactivated */
  Forbidden: 4403,
} as const;

const PAGE = 500;

const termValue = (event: ChangeEvent, key: string): unknown => (key === 'id' ? event.id : key === 'env_id' ? event.envId : event.refs[key]);

const asWhere = (term: FilterTerm): Where => term.path.reduceRight<unknown>((inner, step) => ({ [step]: inner }), term.value) as Where;

/**
 * One subscription: opens with a snapshot (or a replay from `since`), then the live events the hub
 * hands it. Live events are registered before the opening is read and deduplicated by cursor
 * afterwards, so nothing falls between the two and nothing comes twice.
 */
export class EventStream implements Subscriber, AsyncIterableIterator<EventMessage> {
  readonly identity: KnownIdentity;
  private readonly queue: { message: EventMessage; live: boolean }[] = [];
  private pendingLive: { event: ChangeEvent; node: object | null }[] | null = [];
  private floor = 0;
  private waiter: (() => void) | null = null;
  private finished = false;
  private readonly unsubscribe: () => void;
  private readonly baseEm: SqlEntityManager;
  private grants: Grants | null = null;
  /** the unit of work of the message being resolved (see renewUnitOfWork) */
  private messageEm: SqlEntityManager | undefined;
  private messageLoaders: Loaders | undefined;

  constructor(
    private readonly hub: EventHub,
    private readonly ctx: ServiceContext,
    private readonly spec: StreamSpec,
    private readonly connection: SubscriberConnection,
  ) {
    this.identity = ctx.identity as KnownIdentity;
    this.baseEm = ctx.em;
    Object.defineProperties(ctx, {
      em: { get: () => (this.messageEm ??= this.baseEm.fork()), configurable: true, enumerable: true },
      loaders: { get: () => (this.messageLoaders ??= new Loaders(ctx.em)), configurable: true, enumerable: true },
    });
    this.unsubscribe = hub.subscribe(this);
  }

  wants(event: ChangeEvent): boolean {
    return (this.spec.tables as string[]).includes(event.table) && this.spec.terms.every((term) => termValue(event, term.key) === term.value);
  }

  deliver(event: ChangeEvent, node: object | null): void {
    if (this.finished) return;
    if (this.pendingLive) {
      this.pendingLive.push({ event, node });
      this.countQueued(1);
      return;
    }
    if (event.cursor <= this.floor) return;
    this.push({ ...message(event, node), event }, true);
    this.countQueued(1);
  }

  regranted(grants: Grants): void {
    // relations of the objects sent are checked with the grants as they are now
    if (grants === this.grants) return;
    this.grants = grants;
    this.ctx.grantsMemo = Promise.resolve(grants);
  }

  revoked(): void {
    this.connection.close(CloseCode.Forbidden, 'Forbidden: the identity is no longer valid');
    this.finish();
  }

  /** Reads the opening (snapshot or replay) and releases the live events that came meanwhile. */
  async open(): Promise<void> {
    try {
      const grants = await this.hub.grants(this.identity);
      if (!grants) return this.revoked();
      const opening = this.spec.since === undefined ? await this.snapshot(grants) : await this.replay(grants, this.spec.since);
      for (const m of opening.messages) this.push(m, false);
      this.floor = opening.cursor;
      this.push({ operation: 'LIVE', cursor: String(opening.cursor), table: null, id: null, node: null }, false);
      const pending = this.pendingLive ?? [];
      this.pendingLive = null;
      this.countQueued(-pending.length);
      for (const { event, node } of pending) this.deliver(event, node);
    } catch (err) {
      this.finish();
      throw err;
    }
  }

  /** The current objects and the cursor they are current at, read in one snapshot of the database. */
  private async snapshot(grants: Grants): Promise<{ messages: EventMessage[]; cursor: number }> {
    return this.baseEm.fork().transactional(
      async (em) => {
        const cursor = await headCursor(em);
        const messages: EventMessage[] = [];
        for (const table of this.spec.tables) {
          const entity = entityOf(table);
          const scope = scopeWhere(grants, entity);
          const where = { $and: [...(scope ? [scope] : []), ...this.spec.terms.map(asWhere)] };
          const rows = await em.find(entity, where as never, { orderBy: { id: 'ASC' } as never });
          for (const row of rows) messages.push({ operation: 'SNAPSHOT', cursor: String(cursor), table, id: row.id, node: row });
        }
        return { messages, cursor };
      },
      { isolationLevel: IsolationLevel.REPEATABLE_READ },
    );
  }

  /** Every event after `since` this subscriber wants and may see, from the log. */
  private async replay(grants: Grants, since: number): Promise<{ messages: EventMessage[]; cursor: number }> {
    const messages: EventMessage[] = [];
    let cursor = since;
    for (;;) {
      const em = this.baseEm.fork();
      const events = await readEvents(em, cursor, PAGE, this.spec.tables);
      const wanted = events.filter((event) => this.wants(event));
      const nodes = await loadNodes(em, wanted);
      const verdicts = new Map<string, boolean>();
      for (const [i, event] of wanted.entries()) {
        if (await eventVisible(grants, entityOf(event.table as EventTable), event, eventRow(event, nodes[i]), verdicts)) messages.push(message(event, nodes[i]));
      }
      if (events.length) cursor = events[events.length - 1].cursor;
      if (events.length < PAGE) return { messages, cursor };
    }
  }

  async next(): Promise<IteratorResult<EventMessage>> {
    while (!this.queue.length && !this.finished) await new Promise<void>((resolve) => (this.waiter = resolve));
    const item = this.queue.shift();
    if (!item) return { done: true, value: undefined };
    if (item.live) this.countQueued(-1);
    this.renewUnitOfWork();
    return { done: false, value: item.message };
  }

  async return(): Promise<IteratorResult<EventMessage>> {
    this.finish();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private push(m: EventMessage, live: boolean): void {
    this.queue.push({ message: m, live });
    this.wakeReader();
  }

  private countQueued(n: number): void {
    this.connection.queued += n;
    if (n > 0 && this.connection.queued > this.connection.limit) {
      this.connection.close(CloseCode.TooSlow, `Too slow: more than ${this.connection.limit} events waiting`);
      this.finish();
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.unsubscribe();
    const live = this.queue.filter((item) => item.live).length + (this.pendingLive?.length ?? 0);
    this.connection.queued -= live;
    this.queue.length = 0;
    this.pendingLive = null;
    this.wakeReader();
  }

  private wakeReader(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  /**
   * Each message is resolved like a request of its own: a fresh unit of work and loaders, created
   * only if its selection reads a relation (a long-lived identity map would serve stale rows).
   */
  private renewUnitOfWork(): void {
    this.messageEm = undefined;
    this.messageLoaders = undefined;
  }
}

function message(event: ChangeEvent, node: object | null): EventMessage {
  return { operation: event.operation, cursor: String(event.cursor), table: event.table as EventTable, id: event.id, node };
}
