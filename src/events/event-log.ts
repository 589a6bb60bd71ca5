import type { SqlEntityManager } from '@mikro-orm/sql';

/**
 * The lock every event-writing transaction takes before its first write (the unit of work) and again in
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
  /** for an UPDATE that moved the object (another env, cluster, kind…): its env before; otherwise null */
  oldEnvId: string | null;
  /** for an UPDATE that moved the object: its refs before; null when its scope did not change */
  oldRefs: Record<string, unknown> | null;
  /** the grants of some identity changed at this cursor (a new version in grant_versions) */
  regrants: boolean;
}

type Json = Record<string, unknown>;
type EventRow = {
  cursor: string;
  table_name: string;
  operation: EventOperation;
  object_id: string;
  env_id: string | null;
  refs: Json | string;
  old_env_id: string | null;
  old_refs: Json | string | null;
  regrants: boolean;
};

const COLUMNS = 'cursor::text as cursor, table_name, operation, object_id, env_id, refs, old_env_id, old_refs, regrants';

export const query = <T extends object[]>(em: SqlEntityManager, sql: string, params: unknown[] = []) =>
  em.getConnection().execute<T>(sql, params, 'all', em.getTransactionContext());

/** jsonb comes back parsed from PostgreSQL and as text from the embedded engine */
export const json = <T>(value: T | string): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);

const inList = (values: readonly unknown[]) => `(${values.map(() => '?').join(', ') || 'null'})`;

function asEvent(row: EventRow): ChangeEvent {
  return {
    cursor: Number(row.cursor),
    table: row.table_name,
    operation: row.operation,
    id: row.object_id,
    envId: row.env_id,
    refs: json(row.refs),
    oldEnvId: row.old_env_id,
    oldRefs: row.old_refs === null ? null : json(row.old_refs),
    regrants: row.regrants,
  };
}

/** Events after `cursor`, oldest first, at most `limit`. */
export async function readEvents(em: SqlEntityManager, after: number, limit: number, tables?: readonly string[]): Promise<ChangeEvent[]> {
  const byTable = tables ? `and table_name in ${inList(tables)}` : '';
  const rows = await query<EventRow[]>(em, `select ${COLUMNS} from events where cursor > ? ${byTable} order by events.cursor limit ?`, [after, ...(tables ?? []), limit]);
  return rows.map(asEvent);
}

/** For each object of these tables changed after `cursor`, its first change since: what it was at `cursor` is that change's before. */
export async function firstChangesAfter(em: SqlEntityManager, after: number, tables: readonly string[]): Promise<ChangeEvent[]> {
  const rows = await query<EventRow[]>(
    em,
    `select distinct on (object_id) ${COLUMNS} from events where cursor > ? and table_name in ${inList(tables)} order by object_id, events.cursor`,
    [after, ...tables],
  );
  return rows.map(asEvent);
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
    // each identity keeps its latest grants at or before the pruned cursor: a resume from there starts with them
    await query(
      em,
      `delete from grant_versions v where v.cursor < ?
         and exists (select 1 from grant_versions n where n.identity = v.identity and n.cursor > v.cursor and n.cursor <= ?)`,
      [row.through, row.through],
    );
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
