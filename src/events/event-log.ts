import type { SqlEntityManager } from '@mikro-orm/sql';

/**
 * The lock every event-writing transaction takes before its first write (runMutation) and again in
 * the event trigger for writes made elsewhere. Held until commit, it makes cursor order commit
 * order: a reader that has seen cursor N has seen every event before it, so `cursor > N` never
 * skips one. The same number is frozen in migration Issue4Events.
 */
export const EVENT_LOCK = 0x62657276; // "berv"

export type EventOperation = 'INSERT' | 'UPDATE' | 'DELETE';

/** One committed change as the log holds it: ids only, never the object's fields. */
export interface ChangeEvent {
  cursor: number;
  /** the table as Platz names it: deployments, envs, … */
  table: string;
  operation: EventOperation;
  id: string;
  envId: string | null;
  /** ids the row referred to (cluster_id, kind_id, deployment_id, …), for subscription filters */
  refs: Record<string, unknown>;
}

type EventRow = { cursor: string; table_name: string; operation: EventOperation; object_id: string; env_id: string | null; refs: Record<string, unknown> | string };

const query = <T extends object[]>(em: SqlEntityManager, sql: string, params: unknown[] = []) =>
  em.getConnection().execute<T>(sql, params, 'all', em.getTransactionContext());

/** Events after `cursor`, oldest first, at most `limit`. */
export async function readEvents(em: SqlEntityManager, after: number, limit: number, tables?: readonly string[]): Promise<ChangeEvent[]> {
  const byTable = tables ? `and table_name in (${tables.map(() => '?').join(', ') || 'null'})` : '';
  const rows = await query<EventRow[]>(
    em,
    `select cursor::text as cursor, table_name, operation, object_id, env_id, refs from events where cursor > ? ${byTable} order by events.cursor limit ?`,
    [after, ...(tables ?? []), limit],
  );
  return rows.map((row) => ({
    cursor: Number(row.cursor),
    table: row.table_name,
    operation: row.operation,
    id: row.object_id,
    envId: row.env_id,
    refs: typeof row.refs === 'string' ? (JSON.parse(row.refs) as Record<string, unknown>) : row.refs,
  }));
}

/** The newest cursor in the log (0 when empty). */
export async function headCursor(em: SqlEntityManager): Promise<number> {
  const [row] = await query<{ head: string | null }[]>(em, 'select max(cursor)::text as head from events');
  return Number(row?.head ?? 0);
}

/** The cursor of this transaction's last event, if it wrote one (set by the trigger). */
export async function transactionCursor(em: SqlEntityManager): Promise<number | null> {
  const [row] = await query<{ cursor: string | null }[]>(em, "select current_setting('berth.event_cursor', true) as cursor");
  return row?.cursor ? Number(row.cursor) : null;
}

export async function takeEventLock(em: SqlEntityManager): Promise<void> {
  await query(em, 'select pg_advisory_xact_lock(?)', [EVENT_LOCK]);
}

const PRUNED_THROUGH = 'events_pruned_through';

/**
 * Deletes events older than the retention window and records the newest cursor deleted, so a
 * resume from before it is refused instead of silently missing events.
 */
export async function pruneEvents(em: SqlEntityManager, retentionHours: number): Promise<number> {
  const [row] = await query<{ deleted: string; through: string | null }[]>(
    em,
    `with gone as (delete from events where created_at < now() - make_interval(hours => ?) returning cursor)
     select count(*)::text as deleted, max(cursor)::text as through from gone`,
    [retentionHours],
  );
  if (row?.through) {
    await query(
      em,
      `insert into settings (id, key, value) values (gen_random_uuid(), ?, ?)
       on conflict (key) do update set value = greatest(settings.value::bigint, excluded.value::bigint)::text`,
      [PRUNED_THROUGH, row.through],
    );
  }
  return Number(row?.deleted ?? 0);
}

/** The newest cursor pruned from the log: resuming from before it would miss events. */
export async function prunedThrough(em: SqlEntityManager): Promise<number> {
  const [row] = await query<{ value: string }[]>(em, 'select value from settings where key = ?', [PRUNED_THROUGH]);
  return Number(row?.value ?? 0);
}
