import type { SqlEntityManager } from '@mikro-orm/sql';
import type { KnownIdentity } from '../request/identity.js';
import { identityKey, type Grants } from '../policy/grants.js';
import type { Logger } from '../logging/logger.js';
import { Loaders } from '../request/loaders.js';
import type { EventBus } from './bus/index.js';
import { judge, sidesOf, type DeliveredOperation, type ScopeFilter } from './change-scope.js';
import { headCursor, pruneEvents, readEvents, type ChangeEvent } from './event-log.js';
import { entityOf, isEventTable, type EventTable } from './event-types.js';
import { grantsAt, grantsChangedAt } from './grant-history.js';

/** Someone listening: a GraphQL subscription or a Platz WebSocket. Its filter (tables, ids) is checked before visibility. */
export interface Subscriber extends ScopeFilter {
  readonly identity: KnownIdentity;
  /** a change this subscriber receives as `operation`, with the object as it is now (null for deletes, leaves and vanished rows), judged with `grants` */
  deliver(event: ChangeEvent, operation: DeliveredOperation, node: object | null, grants: Grants): void;
  /** its identity's grants changed at this event's cursor; awaited before the event itself is judged */
  regranted?(event: ChangeEvent, before: Grants | null, after: Grants): Promise<void>;
  /** the identity is gone or deactivated */
  revoked(): void;
}

export interface EventHubOptions {
  retentionHours: number;
  /** reads the log this often even without a message, in case one was lost */
  pollMs: number;
  pruneEveryMs: number;
}

const BATCH = 500;

/**
 * One per process: follows the event log from where it stood at boot, woken by the event bus (or
 * a poll), and hands each event to the subscribers that want it and may see it. The object is
 * loaded once per event, and grants once per identity, however many subscribers share them.
 */
export class EventHub {
  private cursor = 0;
  private delivered = 0;
  private readonly subscribers = new Set<Subscriber>();
  /** the grants of each identity with a subscriber, as of the event being dispatched (null: revoked) */
  private readonly grantsCache = new Map<string, Grants | null>();
  /** subscribers per identity: its cached grants go with the last one */
  private readonly identityCount = new Map<string, number>();
  private pumping: Promise<void> | null = null;
  private again = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly watchers = new Set<{ tables: ReadonlySet<string>; changed: (event: ChangeEvent) => void }>();

  constructor(
    private readonly em: SqlEntityManager,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly options: EventHubOptions,
  ) {}

  get engine(): EventBus['engine'] {
    return this.bus.engine;
  }

  /** how many subscribers this process serves (tests, metrics) */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** the newest cursor this process has dispatched */
  get position(): number {
    return this.cursor;
  }

  /** how many events this process has handed to its subscribers, one per subscriber (metrics) */
  get deliveredCount(): number {
    return this.delivered;
  }

  async start(): Promise<void> {
    this.cursor = await headCursor(this.em.fork());
    this.bus.onMessage((cursor) => this.wake(cursor));
    this.timers.push(setInterval(() => this.wake(), this.options.pollMs).unref());
    const prune = () => void pruneEvents(this.em.fork(), this.options.retentionHours).catch((err: unknown) => this.logger.warn({ err }, 'event log pruning failed'));
    this.timers.push(setInterval(prune, this.options.pruneEveryMs).unref());
  }

  async stop(): Promise<void> {
    this.timers.forEach(clearInterval);
    await this.pumping;
  }

  /**
   * After a commit that wrote events: every replica (this one first) reads the log up to `cursor`.
   * The mutation does not wait for the bus: a broker that is down delays other replicas until
   * their next poll, never the write.
   */
  announce(cursor: number): void {
    this.wake(cursor);
    this.bus.publish(cursor).catch((err: unknown) => this.logger.warn({ err, cursor }, 'event announcement failed; other replicas catch up on their next poll'));
  }

  subscribe(subscriber: Subscriber): () => void {
    const key = identityKey(subscriber.identity);
    this.subscribers.add(subscriber);
    this.identityCount.set(key, (this.identityCount.get(key) ?? 0) + 1);
    return () => {
      if (!this.subscribers.delete(subscriber)) return;
      const left = this.identityCount.get(key)! - 1;
      if (left) this.identityCount.set(key, left);
      else {
        this.identityCount.delete(key);
        this.grantsCache.delete(key);
      }
    };
  }

  /**
   * Berth's own workers, told of every change to some tables as this replica reads it from the log, whoever
   * wrote it and whatever it may see (a cluster's `ignore` cleared, a task created): a wake-up, not a stream.
   */
  onChange(tables: readonly EventTable[], changed: (event: ChangeEvent) => void): () => void {
    const watcher = { tables: new Set<string>(tables), changed };
    this.watchers.add(watcher);
    return () => void this.watchers.delete(watcher);
  }

  private wake(cursor?: number): void {
    if (cursor !== undefined && cursor <= this.cursor) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump()
      .catch((err: unknown) => {
        // the batch is dispatched again: subscribers skip what they already have, and grants are read again as of each event
        this.grantsCache.clear();
        this.logger.error({ err }, 'event dispatch failed; retrying on the next wake-up');
      })
      .finally(() => {
        this.pumping = null;
        if (this.again) this.wake();
      });
  }

  private async pump(): Promise<void> {
    this.again = false;
    for (;;) {
      const events = await readEvents(this.em.fork(), this.cursor, BATCH);
      if (!events.length) return;
      await this.dispatch(events);
      this.cursor = events[events.length - 1].cursor;
      if (events.length < BATCH) return;
    }
  }

  private async dispatch(events: ChangeEvent[]): Promise<void> {
    const interested = events.map((event) => this.interestedIn(event));
    const nodes = await loadNodes(this.em.fork(), events.map((event, i) => (interested[i].length && event.operation !== 'DELETE' ? event : null)));
    for (const [i, event] of events.entries()) {
      for (const watcher of this.watchers) if (watcher.tables.has(event.table)) watcher.changed(event);
      const regranted = event.regrants ? await this.regrant(event) : null;
      if (!interested[i].length) continue;
      // every subscribed identity cached: nothing to look for
      if (this.grantsCache.size < this.identityCount.size) await this.readMissingGrants(interested[i], event.cursor);
      const verdicts = new Map<string, boolean>();
      for (const subscriber of interested[i]) {
        if (!this.subscribers.has(subscriber)) continue;
        const key = identityKey(subscriber.identity);
        const change = regranted?.get(key);
        let after = change ? change.after : this.grantsCache.get(key);
        if (after === undefined) {
          // a subscriber that came while grants were read
          await this.readMissingGrants([subscriber], event.cursor);
          if (!this.subscribers.has(subscriber)) continue;
          after = this.grantsCache.get(key) ?? null;
        }
        if (!after) {
          subscriber.revoked();
          continue;
        }
        let operation = judge(subscriber, event, event.table as EventTable, change ? change.before : after, after, verdicts);
        // awaited only when not known yet: at thousands of subscribers per event, every await counts
        if (operation instanceof Promise) operation = await operation;
        if (!operation) continue;
        subscriber.deliver(event, operation, operation === 'DELETE' || operation === 'LEAVE' ? null : nodes[i], after);
        this.delivered++;
      }
    }
  }

  /** Subscribers whose filter selects the object on either side of the change. */
  private interestedIn(event: ChangeEvent): Subscriber[] {
    if (!isEventTable(event.table)) return [];
    const { before, after } = sidesOf(event);
    return [...this.subscribers].filter((s) => (before && s.selects(event.table, event.id, before)) || (after && s.selects(event.table, event.id, after)));
  }

  /**
   * Grants changed at this event: the new versions of the identities subscribed here replace the
   * cached ones, and their subscribers are told (streams send what enters and leaves their scope).
   */
  private async regrant(event: ChangeEvent): Promise<Map<string, { before: Grants | null; after: Grants | null }>> {
    const identities = new Map([...this.subscribers].map((s) => [identityKey(s.identity), s.identity]));
    const changed = new Map<string, { before: Grants | null; after: Grants | null }>();
    for (const [key, after] of await grantsChangedAt(this.em.fork(), [...identities.values()], event.cursor)) {
      let before = this.grantsCache.get(key);
      if (before === undefined) before = (await grantsAt(this.em.fork(), [identities.get(key)!], event.cursor - 1)).get(key) ?? null;
      if (this.identityCount.has(key)) this.grantsCache.set(key, after);
      changed.set(key, { before, after });
      for (const subscriber of [...this.subscribers].filter((s) => identityKey(s.identity) === key)) {
        if (!after) subscriber.revoked();
        else await subscriber.regranted?.(event, before, after);
      }
    }
    return changed;
  }

  /** Grants as of `cursor` for the identities not cached yet, in one statement per thousand. */
  private async readMissingGrants(subscribers: Subscriber[], cursor: number): Promise<void> {
    const missing = new Map<string, KnownIdentity>();
    for (const s of subscribers) {
      const key = identityKey(s.identity);
      if (!this.grantsCache.has(key)) missing.set(key, s.identity);
    }
    const identities = [...missing.values()];
    for (let i = 0; i < identities.length; i += 1000) {
      for (const [key, grants] of await grantsAt(this.em.fork(), identities.slice(i, i + 1000), cursor)) {
        // an identity whose last subscriber left meanwhile is not kept
        if (this.identityCount.has(key)) this.grantsCache.set(key, grants);
      }
    }
  }
}

/** The objects as they are now (null for rows gone since, and items passed as null), every object of the batch in one statement per table. */
export function loadNodes(em: SqlEntityManager, items: readonly ({ table: string; id: string } | null)[]): Promise<(object | null)[]> {
  const loaders = new Loaders(em);
  return Promise.all(items.map((item) => (item && isEventTable(item.table) ? loaders.byId(entityOf(item.table)).load(item.id) : null)));
}
