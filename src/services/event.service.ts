import { badInput, DomainError, ErrorCode } from '../errors/domain-error.js';
import type { EventHub } from '../events/event-hub.js';
import { headCursor, prunedThrough } from '../events/event-log.js';
import { SubscriptionFilter, type DeliveredOperation, type FilterTerm, type ScopeFilter } from '../events/change-scope.js';
import type { ChangeEvent } from '../events/event-log.js';
import { EventStream, type MessageCursor, type SubscriberConnection } from '../events/event-stream.js';
import { EVENT_TABLES, type EventTable } from '../events/event-types.js';
import { requireIdentity, type ServiceContext } from '../request/context.js';
import { optionalUuid } from '../request/where.js';

export interface DeploymentEventsArgs { env?: string | null; cluster?: string | null; kind?: string | null; deployment?: string | null; since?: string | null }
export interface DeploymentTaskEventsArgs { deployment?: string | null; cluster?: string | null; since?: string | null }
export interface K8sResourceEventsArgs { cluster?: string | null; deployment?: string | null; kind?: string | null; since?: string | null }
export interface EventsArgs { types?: EventTable[] | null; since?: string | null }

/** A follower of live changes that picks what it wants as it runs (Platz's event socket: subscribe and unsubscribe per table and env). */
export interface LiveFeed extends ScopeFilter {
  /**
   * a change it selected and may see, as `operation` (ENTER and LEAVE: the object moved into or out of what it follows
   * or may see), with the object as it is now (null when gone)
   */
  deliver(event: ChangeEvent, operation: DeliveredOperation, node: object | null): void;
  /** its identity is gone or deactivated */
  revoked(): void;
}

/**
 * Change events for subscribers: who may subscribe, what the arguments mean, and where a stream
 * opens (snapshot, or resume from a cursor). Visibility is the read policy's, applied per event.
 */
export class EventService {
  constructor(private readonly hub: EventHub) {}

  /** After a commit that wrote events (the unit of work). */
  announce(cursor: number): void {
    this.hub.announce(cursor);
  }

  deploymentEvents(ctx: ServiceContext, args: DeploymentEventsArgs, transport: SubscriberConnection): Promise<EventStream> {
    return this.open(ctx, ['deployments'], args.since, transport, [
      term('env_id', ['cluster', 'env'], optionalUuid(args.env, 'env')),
      term('cluster_id', ['cluster'], optionalUuid(args.cluster, 'cluster')),
      term('kind_id', ['kind'], optionalUuid(args.kind, 'kind')),
      term('id', ['id'], optionalUuid(args.deployment, 'deployment')),
    ]);
  }

  deploymentTaskEvents(ctx: ServiceContext, args: DeploymentTaskEventsArgs, transport: SubscriberConnection): Promise<EventStream> {
    return this.open(ctx, ['deployment_tasks'], args.since, transport, [
      term('deployment_id', ['deployment'], optionalUuid(args.deployment, 'deployment')),
      term('cluster_id', ['cluster'], optionalUuid(args.cluster, 'cluster')),
    ]);
  }

  k8sResourceEvents(ctx: ServiceContext, args: K8sResourceEventsArgs, transport: SubscriberConnection): Promise<EventStream> {
    return this.open(ctx, ['k8s_resources'], args.since, transport, [
      term('cluster_id', ['cluster'], optionalUuid(args.cluster, 'cluster')),
      term('deployment_id', ['deployment'], optionalUuid(args.deployment, 'deployment')),
      term('kind', ['kind'], args.kind ?? undefined),
    ]);
  }

  events(ctx: ServiceContext, args: EventsArgs, transport: SubscriberConnection): Promise<EventStream> {
    if (args.types && !args.types.length) throw badInput('types', 'types must name at least one type, or be left out for all');
    return this.open(ctx, args.types ?? (Object.keys(EVENT_TABLES) as EventTable[]), args.since, transport, []);
  }

  /**
   * Live changes only, for the caller's identity: no opening snapshot and no resume, which a feed whose selection
   * changes as it runs has no use for. Visibility is the read policy's, per event, as for streams. Returns the
   * function that stops it.
   */
  follow(ctx: ServiceContext, feed: LiveFeed): () => void {
    const identity = requireIdentity(ctx);
    return this.hub.subscribe({
      identity,
      selects: (table, id, scope) => feed.selects(table, id, scope),
      deliver: (event, operation, node) => feed.deliver(event, operation, node),
      revoked: () => feed.revoked(),
    });
  }

  private async open(ctx: ServiceContext, tables: EventTable[], since: string | null | undefined, transport: SubscriberConnection, terms: (FilterTerm | null)[]): Promise<EventStream> {
    requireIdentity(ctx);
    const resumeAfter = since == null ? undefined : await this.checkCursor(ctx, since);
    const filter = new SubscriptionFilter([...new Set(tables)], terms.filter((t) => t !== null));
    const stream = new EventStream(this.hub, ctx, { filter, since: resumeAfter }, transport);
    await stream.open();
    return stream;
  }

  /** A cursor this log can resume from: not malformed, not ahead of the log, not pruned away. */
  private async checkCursor(ctx: ServiceContext, since: string): Promise<MessageCursor> {
    const parts = /^(\d{1,16})(?:\.(\d{1,9}))?$/.exec(since);
    if (!parts) throw badInput('since', 'since must be a cursor from an earlier event message');
    const cursor = Number(parts[1]);
    const rank = parts[2] === undefined ? undefined : Number(parts[2]);
    if (cursor > (await headCursor(ctx.em))) throw badInput('since', 'since is ahead of the event log (a cursor from another database?)');
    // a rank resumes inside an event, which is replayed from just before it
    if (cursor - (rank === undefined ? 0 : 1) < (await prunedThrough(ctx.em))) {
      throw new DomainError(ErrorCode.CURSOR_EXPIRED, 'Events after this cursor are past the retention window; subscribe without since for a fresh snapshot', 'since');
    }
    return { cursor, rank };
  }
}

function term(key: string, path: string[], value: string | undefined): FilterTerm | null {
  return value === undefined ? null : { key, path, value };
}
