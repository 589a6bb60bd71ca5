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
export async function readRows(em: SqlEntityManager, sql: string, params: readonly unknown[]): Promise<Row[]> {
  const connection = em.getConnection();
  const transaction = em.getTransactionContext();
  const pool = transaction ? null : await poolOf(connection);
  if (!pool) return connection.execute<Row[]>(sql, [...params], 'all', transaction);
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
