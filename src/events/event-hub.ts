import type { SqlEntityManager } from '@mikro-orm/sql';
import type { KnownIdentity } from '../auth/identity.js';
import { Bot, Deployment, User } from '../entities/index.js';
import { loadGrants, type Grants } from '../policy/grants.js';
import { eventVisible } from '../policy/visibility.js';
import type { Logger } from '../server/logger.js';
import { Loaders } from '../services/loaders.js';
import type { EventBus } from './bus/index.js';
import { headCursor, pruneEvents, readEvents, type ChangeEvent } from './event-log.js';
import { entityOf, grantsChangedBy, isEventTable } from './event-types.js';

/** Someone listening: a GraphQL subscription or a Platz WebSocket. */
export interface Subscriber {
  readonly identity: KnownIdentity;
  /** the subscription's own filter (tables, ids), checked before visibility */
  wants(event: ChangeEvent): boolean;
  /** an event this subscriber may see, with the object as it is now (null for deletes and vanished rows) */
  deliver(event: ChangeEvent, node: object | null): void;
  /** the grants this event is judged with (a new object after a role was granted or taken) */
  regranted?(grants: Grants): void;
  /** the identity is gone or deactivated */
  revoked(): void;
}

export interface EventHubOptions {
  retentionHours: number;
  /** reads the log this often even without a message, in case one was lost */
  pollMs?: number;
  pruneEveryMs?: number;
}

const BATCH = 500;

export const identityKey = (identity: KnownIdentity): string => {
  switch (identity.kind) {
    case 'user':
      return `user:${identity.user.id}`;
    case 'bot':
      return `bot:${identity.bot.id}`;
    case 'deployment':
      return `deployment:${identity.deployment.id}`;
  }
};

/**
 * One per process: follows the event log from where it stood at boot, woken by the event bus (or
 * a poll), and hands each event to the subscribers that want it and may see it. The object is
 * loaded once per event, and grants once per identity, however many subscribers share them.
 */
export class EventHub {
  private cursor = 0;
  private readonly subscribers = new Set<Subscriber>();
  private readonly grantsCache = new Map<string, { promise: Promise<Grants | null>; value?: Grants | null }>();
  private pumping: Promise<void> | null = null;
  private again = false;
  private readonly timers: NodeJS.Timeout[] = [];

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

  async start(): Promise<void> {
    this.cursor = await headCursor(this.em.fork());
    this.bus.onMessage((cursor) => this.wake(cursor));
    this.timers.push(setInterval(() => this.wake(), this.options.pollMs ?? 2000).unref());
    const prune = () => void pruneEvents(this.em.fork(), this.options.retentionHours).catch((err: unknown) => this.logger.warn({ err }, 'event log pruning failed'));
    this.timers.push(setInterval(prune, this.options.pruneEveryMs ?? 10 * 60_000).unref());
  }

  async stop(): Promise<void> {
    this.timers.forEach(clearInterval);
    await this.pumping;
    await this.bus.close();
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
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** The grants of a subscriber's identity, read once per identity until a change of roles; null when it is gone. */
  grants(identity: KnownIdentity): Grants | null | Promise<Grants | null> {
    const key = identityKey(identity);
    let entry = this.grantsCache.get(key);
    if (!entry) {
      const created: { promise: Promise<Grants | null>; value?: Grants | null } = { promise: this.readGrants(identity) };
      created.promise.then((value) => (created.value = value), () => this.grantsCache.delete(key));
      this.grantsCache.set(key, (entry = created));
    }
    return entry.value !== undefined ? entry.value : entry.promise;
  }

  private wake(cursor?: number): void {
    if (cursor !== undefined && cursor <= this.cursor) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump()
      .catch((err: unknown) => this.logger.error({ err }, 'event dispatch failed; retrying on the next wake-up'))
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
    const interested = events.map((event) => (isEventTable(event.table) ? [...this.subscribers].filter((s) => s.wants(event)) : []));
    const nodes = await loadNodes(this.em.fork(), events.map((event, i) => (interested[i].length ? event : null)));
    for (const [i, event] of events.entries()) {
      this.forgetGrants(grantsChangedBy(event));
      if (!interested[i].length || !isEventTable(event.table)) continue;
      const entity = entityOf(event.table);
      const node = nodes[i];
      const row = eventRow(event, node);
      const verdicts = new Map<string, boolean>();
      for (const subscriber of interested[i]) {
        if (!this.subscribers.has(subscriber)) continue;
        // awaited only when not known yet: at thousands of subscribers per event, every await counts
        let g = this.grants(subscriber.identity);
        if (g instanceof Promise) g = await g;
        if (!g) {
          subscriber.revoked();
          continue;
        }
        subscriber.regranted?.(g);
        let visible = eventVisible(g, entity, event, row, verdicts);
        if (visible instanceof Promise) visible = await visible;
        if (visible) subscriber.deliver(event, node);
      }
    }
  }

  private forgetGrants(keys: string[]): void {
    if (keys.includes('*')) this.grantsCache.clear();
    else for (const key of keys) this.grantsCache.delete(key);
  }

  /** The identity as it is now (an admin flag or activation may have changed), then its grants. */
  private async readGrants(identity: KnownIdentity): Promise<Grants | null> {
    const em = this.em.fork();
    let current: KnownIdentity | null = null;
    switch (identity.kind) {
      case 'user': {
        const user = await em.findOne(User, identity.user.id);
        current = user?.isActive ? { ...identity, user } : null;
        break;
      }
      case 'bot': {
        const bot = await em.findOne(Bot, identity.bot.id);
        current = bot ? { ...identity, bot } : null;
        break;
      }
      case 'deployment': {
        const deployment = await em.findOne(Deployment, identity.deployment.id);
        current = deployment ? { ...identity, deployment } : null;
        break;
      }
    }
    return current && loadGrants(em, current);
  }
}

/**
 * The objects of the events (null for deletes, rows gone since, and events passed as null), every
 * object of the batch in one statement per table.
 */
export function loadNodes(em: SqlEntityManager, events: readonly (ChangeEvent | null)[]): Promise<(object | null)[]> {
  const loaders = new Loaders(em);
  return Promise.all(events.map((event) => (event && event.operation !== 'DELETE' && isEventTable(event.table) ? loaders.byId(entityOf(event.table)).load(event.id) : null)));
}

/** The row an event's visibility is judged on: the object, or once it is gone, what the event recorded (auth_level → authLevel). */
export function eventRow(event: ChangeEvent, node: object | null): { id: string } & Record<string, unknown> {
  if (node) return node as { id: string } & Record<string, unknown>;
  const recorded = Object.entries(event.refs).map(([key, value]) => [key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), value]);
  return { ...Object.fromEntries(recorded), id: event.id };
}
