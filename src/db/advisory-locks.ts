import pg from 'pg';
import type { DatabaseTarget } from './orm.js';

/**
 * Named locks that one Berth process holds at a time, such as "who watches cluster C". On PostgreSQL, session
 * advisory locks on a connection of their own: a replica that dies or loses the database loses its locks with the
 * connection, and another replica takes them over. The embedded engine serves one process, which holds them all.
 */
export interface ProcessLocks {
  tryAcquire(name: string): Promise<boolean>;
  release(name: string): Promise<void>;
  /** false once the locks were lost (the connection broke): whatever they guarded must stop */
  readonly held: boolean;
  close(): Promise<void>;
}

export function openProcessLocks(target: DatabaseTarget, scope: string): ProcessLocks {
  return target.kind === 'postgres' ? new PostgresLocks(target.url, scope) : new OneProcessLocks();
}

class OneProcessLocks implements ProcessLocks {
  readonly held = true;
  async tryAcquire(): Promise<boolean> {
    return true;
  }
  async release(): Promise<void> {}
  async close(): Promise<void> {}
}

class PostgresLocks implements ProcessLocks {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private lost = false;
  /** pg wants one query at a time on a client: the watches of several clusters stop together */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly scope: string,
  ) {}

  get held(): boolean {
    return !this.lost;
  }

  async tryAcquire(name: string): Promise<boolean> {
    const client = await this.connect();
    // two keys: the scope and the name, apart from the single-key migration lock
    const { rows } = await this.serially(() => client.query('select pg_try_advisory_lock(hashtext($1), hashtext($2)) as ok', [this.scope, name]));
    return rows[0].ok === true;
  }

  async release(name: string): Promise<void> {
    const client = this.client;
    if (!client || this.lost) return;
    await this.serially(() => client.query('select pg_advisory_unlock(hashtext($1), hashtext($2))', [this.scope, name]));
  }

  private serially<T>(query: () => Promise<T>): Promise<T> {
    const result = this.queue.then(query);
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.connecting = undefined;
    if (!client) return;
    // ended on purpose: not a loss
    client.removeAllListeners('end');
    await client.end().catch(() => undefined);
  }

  private connect(): Promise<pg.Client> {
    if (this.lost) return Promise.reject(new Error('the lock connection was lost'));
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.url, application_name: `berth ${this.scope}` });
      client.on('error', () => (this.lost = true));
      client.on('end', () => (this.lost = true));
      await client.connect();
      this.client = client;
      return client;
    })().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }
}
