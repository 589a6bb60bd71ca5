import { IsolationLevel } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Grants } from '../policy/grants.js';
import { sameScope, scopeWhere } from '../policy/visibility.js';
import type { Where } from '../request/where.js';
import { inScope, sidesOf, type SubscriptionFilter } from './change-scope.js';
import { firstChangesAfter } from './event-log.js';
import { entityOf, type EventTable } from './event-types.js';

export interface ScopeChange {
  operation: 'ENTER' | 'LEAVE';
  table: EventTable;
  id: string;
}

const NOTHING: Where = { id: { $in: [] } };

/** Rows `a` selects and `b` does not (null selects every row); null when there can be none. */
function minus(a: Where | null, b: Where | null): Where | null {
  if (b === null) return null;
  return a === null ? { $not: b } : { $and: [a, { $not: b }] };
}

/**
 * What enters and what leaves a subscriber's scope when its grants change at `cursor`, from `before`
 * to `after` (null: sees nothing): every object of its filter that one of them sees and the other
 * does not, as the database stood at `cursor`. That state is the rows as they are now, except for
 * objects changed since, which are taken as their first later change found them (its before side),
 * so a live stream and a later replay compute the same shift. `exclude` is the event's own object,
 * judged by the event itself. Read in one snapshot of the database; ordered by table, then id.
 */
export function scopeShift(
  em: SqlEntityManager,
  filter: SubscriptionFilter,
  before: Grants | null,
  after: Grants | null,
  cursor: number,
  exclude: string | null,
): Promise<ScopeChange[]> {
  const tables = filter.tables.filter((table) => !(before && after && sameScope(before, after, entityOf(table))));
  if (!tables.length) return Promise.resolve([]);
  return em.fork().transactional(
    async (tx) => {
      const changes = new Map<string, ScopeChange>();
      const scope = (g: Grants | null, table: EventTable) => (g ? scopeWhere(g, entityOf(table)) : NOTHING);
      for (const table of tables) {
        for (const [operation, from, to] of [['ENTER', after, before], ['LEAVE', before, after]] as const) {
          const shifted = minus(scope(from, table), scope(to, table));
          if (!shifted) continue;
          const rows = await tx.find(entityOf(table), { $and: [shifted, ...filter.where] } as never, { fields: ['id'] as never });
          for (const row of rows) changes.set(`${table} ${row.id}`, { operation, table, id: row.id });
        }
      }
      const verdicts = new Map<string, boolean>();
      for (const change of await firstChangesAfter(tx, cursor, tables)) {
        const table = change.table as EventTable;
        const key = `${table} ${change.id}`;
        changes.delete(key);
        const then = sidesOf(change).before;
        const was = await inScope(filter, before, table, change.id, then, verdicts);
        const is = await inScope(filter, after, table, change.id, then, verdicts);
        if (was !== is) changes.set(key, { operation: is ? 'ENTER' : 'LEAVE', table, id: change.id });
      }
      return [...changes.values()]
        .filter((change) => change.id !== exclude)
        .sort((a, b) => tables.indexOf(a.table) - tables.indexOf(b.table) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    { isolationLevel: IsolationLevel.REPEATABLE_READ },
  );
}
