import type { Grants } from '../policy/grants.js';
import type { Where } from '../request/where.js';
import { eventVisible, type RecordedScope } from '../policy/visibility.js';
import type { ChangeEvent, EventOperation } from './event-log.js';
import { entityOf, type EventTable } from './event-types.js';

/**
 * What a subscriber receives of a change, judged on both sides of it: was the object in the
 * subscriber's scope (its filter and what it may see) before, and is it after? An object that moves
 * out of scope is a LEAVE, one that moves in an ENTER; the same rule serves live streams and replays.
 */
export type DeliveredOperation = EventOperation | 'ENTER' | 'LEAVE';

/** A subscription's own filter (tables, ids), before visibility. */
export interface ScopeFilter {
  selects(table: string, id: string, scope: RecordedScope): boolean;
}

/** One condition of a subscription's filter: the event's `key` (id, env_id or a recorded ref) equals `value`; `path` is the same condition as a query. */
export interface FilterTerm {
  key: string;
  path: string[];
  value: string;
}

/** The filter of a GraphQL subscription: some tables, and conditions that all hold. */
export class SubscriptionFilter implements ScopeFilter {
  constructor(
    readonly tables: readonly EventTable[],
    readonly terms: readonly FilterTerm[],
  ) {}

  selects(table: string, id: string, scope: RecordedScope): boolean {
    if (!(this.tables as readonly string[]).includes(table)) return false;
    return this.terms.every((term) => (term.key === 'id' ? id : term.key === 'env_id' ? scope.envId : scope.refs[term.key]) === term.value);
  }

  /** The same conditions as a query, for the rows of a table */
  get where(): Where[] {
    return this.terms.map((term) => term.path.reduceRight<unknown>((inner, step) => ({ [step]: inner }), term.value) as Where);
  }
}

/** The object as the event recorded it before the change (null for an insert) and after it (null for a delete). */
export function sidesOf(event: ChangeEvent): { before: RecordedScope | null; after: RecordedScope | null } {
  const recorded = { envId: event.envId, refs: event.refs };
  switch (event.operation) {
    case 'INSERT':
      return { before: null, after: recorded };
    case 'DELETE':
      return { before: recorded, after: null };
    case 'UPDATE':
      return { before: event.oldRefs ? { envId: event.oldEnvId, refs: event.oldRefs } : recorded, after: recorded };
  }
}

/** Does the filter select the object, and may `g` see it, as recorded on this side? */
export function inScope(filter: ScopeFilter, g: Grants | null, table: EventTable, id: string, scope: RecordedScope | null, verdicts: Map<string, boolean>): boolean | Promise<boolean> {
  if (!scope || !g || !filter.selects(table, id, scope)) return false;
  return eventVisible(g, entityOf(table), id, scope, verdicts);
}

/**
 * The operation a subscriber receives for this event, or null: before the change judged with
 * `before` (the grants in force until this cursor), after it with `after` (the grants from this
 * cursor on; the same unless the event changed the subscriber's grants).
 */
export function judge(filter: ScopeFilter, event: ChangeEvent, table: EventTable, before: Grants | null, after: Grants | null, verdicts: Map<string, boolean>): DeliveredOperation | null | Promise<DeliveredOperation | null> {
  const sides = sidesOf(event);
  const was = inScope(filter, before, table, event.id, sides.before, verdicts);
  // the common case, an update that moved nothing judged with unchanged grants: one verdict for both sides
  const is = sides.after === sides.before && after === before ? was : inScope(filter, after, table, event.id, sides.after, verdicts);
  // awaited only when not known yet: at thousands of subscribers per event, every await counts
  if (was instanceof Promise || is instanceof Promise) return Promise.all([was, is]).then(([w, i]) => transition(event.operation, w, i));
  return transition(event.operation, was, is);
}

function transition(operation: EventOperation, was: boolean, is: boolean): DeliveredOperation | null {
  if (was && is) return 'UPDATE';
  if (is) return operation === 'INSERT' ? 'INSERT' : 'ENTER';
  if (was) return operation === 'DELETE' ? 'DELETE' : 'LEAVE';
  return null;
}
