import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Pool } from 'pg';

type Row = Record<string, unknown>;

/** Statement texts given a name, at most: beyond that, new texts run unnamed (PostgreSQL keeps named ones per connection). */
const MAX_NAMED_STATEMENTS = 2000;

/** The pool under the ORM's connection when it is node-postgres's (PostgreSQL), null on the embedded engine. */
const pools = new WeakMap<object, Promise<Pool | null>>();
/** statement names by text; '' for a text that must run unnamed */
const names = new Map<string, string>();
/** SQLSTATE of "cached plan must not change result type" */
const CACHED_PLAN_CHANGED = '0A000';

/**
 * A read-path statement (written with `?` placeholders, as the query builder renders them), for its rows.
 *
 * On PostgreSQL it runs as a named prepared statement on the ORM's own pool: PostgreSQL parses and plans each text
 * once per connection and reuses the plan, where the ORM's execute inlines the parameters and has every request
 * planned again (for a list with its joined relations, most of the database's work). Inside a transaction, and on
 * the embedded engine, the ORM runs it on the unit of work's connection. Either way the ORM's query log sees it.
 */
export function readRows(em: SqlEntityManager, sql: string, params: readonly unknown[]): Promise<Row[]> {
  return run(em, em.getTransactionContext(), sql, params);
}

async function run(em: SqlEntityManager, transaction: unknown, sql: string, params: readonly unknown[]): Promise<Row[]> {
  const connection = em.getConnection();
  const pool = transaction ? null : await poolOf(connection);
  if (!pool) return connection.execute<Row[]>(sql, [...params], 'all', transaction as never);
  const text = numbered(sql);
  const logger = em.config.getLogger();
  const started = Date.now();
  try {
    const values = params as unknown[];
    const name = nameOf(text);
    const result = await pool.query<Row>({ name, text, values }).catch((err: unknown) => {
      // a table changed under a prepared statement (a newer replica's migration): PostgreSQL refuses the old plan
      // on every connection that prepared it, so the text runs unnamed from now on
      if (!name || (err as { code?: string }).code !== CACHED_PLAN_CHANGED) throw err;
      names.set(text, '');
      return pool.query<Row>({ text, values });
    });
    logger.logQuery({ level: 'info', query: sql, params: [...params], took: Date.now() - started, results: result.rowCount ?? result.rows.length });
    return result.rows;
  } catch (err) {
    logger.logQuery({ level: 'error', query: sql, params: [...params], took: Date.now() - started });
    throw err;
  }
}

/** By-id reads of one statement and parameters, from any number of requests, waiting for the event loop's next turn. */
interface IdBatch {
  em: SqlEntityManager;
  sql: string;
  params: readonly unknown[];
  ids: Set<string>;
  waiters: { resolve: (rows: Map<string, Row>) => void; reject: (err: unknown) => void }[];
}

/** per database connection (several ORMs may share a process, tests' servers on their own databases), by statement and parameters */
const idBatches = new WeakMap<object, Map<string, IdBatch>>();

/**
 * Rows by id, keyed by id: `sql`'s last placeholder takes the ids as one array (`"id" = any(?::uuid[])`), after
 * `params`. Outside a transaction, the reads of every request that ask the same statement with the same parameters
 * (so the same scope: one caller's, or callers whose grants render alike) in one turn of the event loop go to the
 * database as one statement, as DataLoader batches a request's own: under load, one round trip answers many
 * requests. Each request gets its rows as its own objects from the loader. Inside a transaction the read is the
 * unit of work's alone (its snapshot and locks).
 */
export function readRowsById(em: SqlEntityManager, sql: string, params: readonly unknown[], ids: readonly string[]): Promise<Map<string, Row>> {
  const transaction = em.getTransactionContext();
  if (transaction) return run(em, transaction, sql, [...params, idArray(ids)]).then(byId);
  const connection = em.getConnection();
  let batches = idBatches.get(connection);
  if (!batches) idBatches.set(connection, (batches = new Map()));
  const key = `${sql}\u0000${JSON.stringify(params)}`;
  let batch = batches.get(key);
  if (!batch) {
    const created: IdBatch = { em, sql, params, ids: new Set(), waiters: [] };
    const pending = batches;
    pending.set(key, (batch = created));
    setImmediate(() => {
      pending.delete(key);
      // no transaction here, whatever the first request's unit of work has begun since
      run(created.em, undefined, created.sql, [...created.params, idArray([...created.ids])]).then(
        (rows) => {
          const found = byId(rows);
          for (const waiter of created.waiters) waiter.resolve(found);
        },
        (err: unknown) => {
          for (const waiter of created.waiters) waiter.reject(err);
        },
      );
    });
  }
  for (const id of ids) batch.ids.add(id);
  return new Promise((resolve, reject) => batch.waiters.push({ resolve, reject }));
}

function byId(rows: Row[]): Map<string, Row> {
  return new Map(rows.map((row) => [row.id as string, row]));
}

/** ids as one PostgreSQL array literal (a text parameter both drivers pass as it is), each element quoted */
function idArray(ids: readonly string[]): string {
  return `{${ids.map((id) => `"${id.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

function poolOf(connection: ReturnType<SqlEntityManager['getConnection']>): Promise<Pool | null> {
  let pool = pools.get(connection);
  if (!pool) {
    pool = connection.getNativeClient().then((client) => (isPgPool(client) ? client : null));
    pools.set(connection, pool);
  }
  return pool;
}

function isPgPool(client: unknown): client is Pool {
  return !!client && typeof (client as Pool).query === 'function' && typeof (client as Pool).totalCount === 'number';
}

function nameOf(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED_STATEMENTS) names.set(text, (name = `berth_read_${names.size + 1}`));
  return name || undefined;
}

const numberedTexts = new Map<string, string>();

/** `?` placeholders as PostgreSQL's `$1`, `$2`…, outside quoted names and strings. */
function numbered(sql: string): string {
  let text = numberedTexts.get(sql);
  if (text === undefined) {
    let n = 0;
    let quote: string | null = null;
    text = '';
    for (const ch of sql) {
      if (quote) {
        if (ch === quote) quote = null;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '?') {
        text += `$${++n}`;
        continue;
      }
      text += ch;
    }
    if (numberedTexts.size < MAX_NAMED_STATEMENTS) numberedTexts.set(sql, text);
  }
  return text;
}
