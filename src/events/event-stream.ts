import { IsolationLevel } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { KnownIdentity } from '../request/identity.js';
import { identityKey, useGrants, type Grants } from '../policy/grants.js';
import { scopeWhere } from '../policy/visibility.js';
import type { ServiceContext } from '../request/context.js';
import { Loaders } from '../request/loaders.js';
import { judge, type DeliveredOperation, type SubscriptionFilter } from './change-scope.js';
import { loadNodes, type EventHub, type Subscriber } from './event-hub.js';
import { headCursor, readEvents, type ChangeEvent } from './event-log.js';
import { entityOf, type EventTable } from './event-types.js';
import { grantsAt, grantsHistory } from './grant-history.js';
import { scopeShift } from './scope-shift.js';

/** A message of a subscription: a change, an object of the opening snapshot, or the marker that live changes follow. */
export interface EventMessage {
  operation: DeliveredOperation | 'SNAPSHOT' | 'LIVE';
  /** resume with `since: cursor` to receive everything after this message */
  cursor: string;
  table: EventTable | null;
  id: string | null;
  /** the object as it is now; null for deletes, leaves, the marker, and objects gone since */
  node: object | null;
  /** the hub's event, the same object for every subscriber of a live change (their executions can be shared) */
  event?: ChangeEvent;
  /** the grants the message was judged with: its selection reads relations with them, and shares executions by them */
  grants?: Grants;
}

/**
 * Where a message stands in the log: an event's cursor, or for what a change of grants brings (several
 * messages at one event), the event's cursor and the message's rank among them, written `cursor.rank`.
 * Those come before the event's own message, so `cursor` alone means "everything of this event".
 */
export interface MessageCursor {
  cursor: number;
  rank?: number;
}

export interface StreamSpec {
  filter: SubscriptionFilter;
  /** resume after this message (see MessageCursor); absent: open with a snapshot */
  since?: MessageCursor;
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

/** Live input that arrived while the opening was read: released in order once it is complete. */
type Pending = { event: ChangeEvent; operation: DeliveredOperation; node: object | null; grants: Grants } | { event: ChangeEvent; before: Grants | null; after: Grants };

/**
 * One subscription: opens with a snapshot (or a replay from `since`), then the live events the hub
 * hands it. Live events are registered before the opening is read and deduplicated by cursor
 * afterwards, so nothing falls between the two and nothing comes twice.
 */
export class EventStream implements Subscriber, AsyncIterableIterator<EventMessage> {
  readonly identity: KnownIdentity;
  private readonly queue: { message: EventMessage; live: boolean }[] = [];
  private pending: Pending[] | null = [];
  /** everything at or below this cursor has been queued (the opening, then each live event): a dispatch retried by the hub comes once */
  private delivered = 0;
  /** the grant changes at or below this cursor have been applied */
  private regrantedThrough = 0;
  private waiter: (() => void) | null = null;
  private finished = false;
  private readonly unsubscribe: () => void;
  private readonly baseEm: SqlEntityManager;
  private grants: Grants | null = null;
  /** the unit of work of the message being resolved (see renewUnitOfWork) */
  private messageEm: SqlEntityManager | undefined;
  private messageLoaders: Loaders | undefined;

  constructor(
    hub: EventHub,
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

  selects(table: string, id: string, scope: { envId: string | null; refs: Record<string, unknown> }): boolean {
    return this.spec.filter.selects(table, id, scope);
  }

  deliver(event: ChangeEvent, operation: DeliveredOperation, node: object | null, grants: Grants): void {
    if (this.finished) return;
    if (this.pending) {
      this.pending.push({ event, operation, node, grants });
      this.countQueued(1);
      return;
    }
    if (event.cursor <= this.delivered) return;
    this.delivered = event.cursor;
    this.push({ ...message(event, operation, node), event, grants }, true);
    this.countQueued(1);
  }

  async regranted(event: ChangeEvent, before: Grants | null, after: Grants): Promise<void> {
    if (this.finished) return;
    if (this.pending) {
      this.pending.push({ event, before, after });
      return;
    }
    if (event.cursor <= this.regrantedThrough || event.cursor <= this.delivered) return;
    const messages = await this.shift(this.baseEm, before, after, event);
    // a dispatch retried after a failure may have applied this change meanwhile
    if (event.cursor <= this.regrantedThrough || this.finished) return;
    this.regrantedThrough = event.cursor;
    // what a grant brings is part of the change, like an opening: not counted against the socket's queue
    for (const m of messages) this.push(m, false);
  }

  revoked(): void {
    this.connection.close(CloseCode.Forbidden, 'Forbidden: the identity is no longer valid');
    this.finish();
  }

  /** Reads the opening (snapshot or replay) and releases, in order, the live input that came meanwhile. */
  async open(): Promise<void> {
    try {
      const opening = this.spec.since === undefined ? await this.snapshot() : await this.replay(this.spec.since);
      if (!opening) return this.revoked();
      for (const m of opening.messages) this.push(m, false);
      this.delivered = this.regrantedThrough = opening.cursor;
      this.push({ operation: 'LIVE', cursor: String(opening.cursor), table: null, id: null, node: null }, false);
      // a grant change released here is awaited, and what the hub hands over meanwhile waits behind it
      const pending = this.pending ?? [];
      for (let item = pending.shift(); item && !this.finished; item = pending.shift()) {
        if ('operation' in item) {
          this.countQueued(-1);
          if (item.event.cursor <= this.delivered) continue;
          this.delivered = item.event.cursor;
          this.push({ ...message(item.event, item.operation, item.node), event: item.event, grants: item.grants }, true);
          this.countQueued(1);
        } else if (item.event.cursor > this.regrantedThrough) {
          for (const m of await this.shift(this.baseEm, item.before, item.after, item.event)) this.push(m, false);
          this.regrantedThrough = item.event.cursor;
        }
      }
      this.pending = null;
    } catch (err) {
      this.finish();
      throw err;
    }
  }

  /** The current objects, the grants they were judged with and the cursor they are current at, read in one snapshot of the database. */
  private async snapshot(): Promise<{ messages: EventMessage[]; cursor: number } | null> {
    return this.baseEm.fork().transactional(
      async (em) => {
        const cursor = await headCursor(em);
        const grants = (await grantsAt(em, [this.identity], cursor)).get(identityKey(this.identity));
        if (!grants) return null;
        const messages: EventMessage[] = [];
        for (const table of this.spec.filter.tables) {
          const entity = entityOf(table);
          const scope = scopeWhere(grants, entity);
          const where = { $and: [...(scope ? [scope] : []), ...this.spec.filter.where] };
          const rows = await em.find(entity, where as never, { orderBy: { id: 'ASC' } as never });
          for (const row of rows) messages.push({ operation: 'SNAPSHOT', cursor: String(cursor), table, id: row.id, node: row, grants });
        }
        return { messages, cursor };
      },
      { isolationLevel: IsolationLevel.REPEATABLE_READ },
    );
  }

  /**
   * Every message the live stream would have sent after `since`, from the log: each event judged
   * with the grants in force at its cursor, and each change of grants bringing what enters and
   * leaves the scope, as live. Null when the identity is no longer valid.
   */
  private async replay(from: MessageCursor): Promise<{ messages: EventMessage[]; cursor: number } | null> {
    // inside an event's shift: replay that event again, without the messages before and at the rank
    const since = from.rank === undefined ? from.cursor : from.cursor - 1;
    const skipped = (m: EventMessage) => from.rank !== undefined && m.cursor.startsWith(`${from.cursor}.`) && Number(m.cursor.split('.')[1]) <= from.rank;
    const em = this.baseEm.fork();
    const head = await headCursor(em);
    const key = identityKey(this.identity);
    if (!(await grantsAt(em, [this.identity], head)).get(key)) return null;
    let grants = (await grantsAt(em, [this.identity], since)).get(key) ?? null;
    const changes = await grantsHistory(em, this.identity, since, head);
    const messages: EventMessage[] = [];
    const regrant = async (event: { cursor: number; id: string | null }) => {
      const change = changes.shift()!;
      messages.push(...(await this.shift(em, grants, change.grants, event)));
      grants = change.grants;
    };
    for (let cursor = since; ; ) {
      const events = (await readEvents(em.fork(), cursor, PAGE, this.spec.filter.tables)).filter((event) => event.cursor <= head);
      const verdicts = new Map<string, boolean>();
      const shown: { message: EventMessage; event: ChangeEvent }[] = [];
      for (const event of events) {
        while (changes.length && changes[0].cursor < event.cursor) await regrant({ cursor: changes[0].cursor, id: null });
        const before = grants;
        if (changes[0]?.cursor === event.cursor) await regrant(event);
        const operation = await judge(this.spec.filter, event, event.table as EventTable, before, grants, verdicts);
        if (!operation) continue;
        const m: EventMessage = { ...message(event, operation, null), grants: grants ?? undefined };
        messages.push(m);
        if (operation !== 'DELETE' && operation !== 'LEAVE') shown.push({ message: m, event });
      }
      const nodes = await loadNodes(em.fork(), shown.map(({ event }) => event));
      shown.forEach(({ message: m }, i) => (m.node = nodes[i]));
      if (events.length) cursor = events[events.length - 1].cursor;
      if (events.length < PAGE) break;
    }
    while (changes.length) await regrant({ cursor: changes[0].cursor, id: null });
    return { messages: messages.filter((m) => !skipped(m)), cursor: head };
  }

  /** What enters and leaves this stream's scope when its grants change at `event`, with the objects that enter. */
  private async shift(em: SqlEntityManager, before: Grants | null, after: Grants | null, event: { cursor: number; id: string | null }): Promise<EventMessage[]> {
    const changes = await scopeShift(em, this.spec.filter, before, after, event.cursor, event.id);
    const nodes = await loadNodes(em.fork(), changes.map((c) => (c.operation === 'ENTER' ? c : null)));
    return changes.map((c, i) => ({ operation: c.operation, cursor: `${event.cursor}.${i + 1}`, table: c.table, id: c.id, node: nodes[i], grants: after ?? undefined }));
  }

  /** Relations of the object sent are checked with the grants its message was judged with (applied as it is read: those queued behind may differ). */
  private useGrants(grants: Grants): void {
    if (grants === this.grants) return;
    this.grants = grants;
    useGrants(this.ctx, grants);
  }

  async next(): Promise<IteratorResult<EventMessage>> {
    while (!this.queue.length && !this.finished) await new Promise<void>((resolve) => (this.waiter = resolve));
    const item = this.queue.shift();
    if (!item) return { done: true, value: undefined };
    if (item.live) this.countQueued(-1);
    if (item.message.grants) this.useGrants(item.message.grants);
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
    const live = this.queue.filter((item) => item.live).length + (this.pending?.filter((item) => 'operation' in item).length ?? 0);
    this.connection.queued -= live;
    this.queue.length = 0;
    this.pending = null;
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

function message(event: ChangeEvent, operation: DeliveredOperation, node: object | null): EventMessage {
  return { operation, cursor: String(event.cursor), table: event.table as EventTable, id: event.id, node };
}
