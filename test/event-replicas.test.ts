import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { SqlEntityManager } from '@mikro-orm/sql';
import pg from 'pg';
import { EVENT_CHANNEL } from '../src/events/bus/event-bus.js';
import { startBerth, type Berth } from '../src/server/app.js';
import { createTestDatabase, engineName, type TestDatabase } from './support/database.js';
import { unique } from './support/fixtures.js';
import { ADMIN_PASSWORD, postGraphQL, testConfig } from './support/server.js';
import { Feed } from './support/subscriptions.js';

// Two processes share one database only on a real PostgreSQL (the embedded engine serves the process that opened it).
const onPostgres = engineName() === 'postgres' ? describe : describe.skip;

/** How often a hub reads the log without being told (EventHub's default): a change arriving sooner came over the bus. */
const POLL_MS = 2000;

const ENGINES = [
  { engine: 'postgres', redisUrl: undefined },
  { engine: 'redis', redisUrl: process.env.TEST_REDIS_URL },
] as const;

const ENV_EVENTS = 'subscription { events(types: [ENV]) { operation cursor id node { ... on Env { description } } } }';

const described = (description: string) => (feed: Feed) => feed.changes.some((m) => (m.node as { description?: string } | null)?.description === description);

/** Waits until `check` holds, asking again every 20 ms (5 s at most). */
async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

onPostgres.each(ENGINES)('two Berth processes on one database, events over $engine', ({ engine, redisUrl }) => {
  const busTest = engine === 'redis' && !redisUrl ? test.skip : test;
  // the PostgreSQL engine's own mechanics, declared only in its block: no run skips them
  const postgresBusTest = engine === 'postgres' ? busTest : () => {};
  let db: TestDatabase;
  let a: Berth;
  let b: Berth;
  let admin: Record<string, string>;
  let envId: string;
  const feeds: Feed[] = [];

  const gql = <T = unknown>(berth: Berth, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = admin) =>
    postGraphQL<T>(berth.url, query, variables, headers);
  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => (a.orm.em as SqlEntityManager).getConnection().execute<T[]>(query, params);
  const describeEnv = (description: string) =>
    gql(a, 'mutation($id: ID!, $description: String) { updateEnv(id: $id, input: { description: $description }) { id } }', { id: envId, description });

  /** A subscriber to env changes on `berth`, past its opening snapshot. */
  async function subscribe(berth: Berth): Promise<Feed> {
    const feed = new Feed(berth.wsUrl, admin, ENV_EVENTS);
    feeds.push(feed);
    await feed.live();
    return feed;
  }

  /**
   * Changes the env through A; returns the ms from sending the mutation until each feed had the change. Only with
   * no other change in flight: the change is recognised by its object's description when dispatched.
   */
  async function timedChange(description: string, on: Feed[]): Promise<number[]> {
    const start = performance.now();
    const arrivals = on.map((feed) => feed.until(described(description), `the change to "${description}"`).then(() => performance.now() - start));
    const [res, ...latencies] = await Promise.all([describeEnv(description), ...arrivals]);
    expect(res.errors).toBeUndefined();
    return latencies;
  }

  /**
   * Changes the env once more through A and waits for each feed to have that change: whatever came before it has
   * arrived (a process dispatches in cursor order). Waits on the cursor: a late message of an earlier change may
   * already show the new description, as objects are loaded when dispatched.
   */
  async function settle(on: Feed[]): Promise<void> {
    expect((await describeEnv(`settled ${unique()}`)).errors).toBeUndefined();
    const [{ cursor }] = await sql<{ cursor: string }>('select max(e.cursor)::text as cursor from events e');
    await Promise.all(on.map((feed) => feed.until((f) => f.changes.some((m) => m.cursor === cursor), `cursor ${cursor}`)));
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = testConfig({ REDIS_URL: redisUrl });
    // one after the other: starting together is test/replicas.test.ts's subject
    a = await startBerth(config, { database: db.target, print: () => {} });
    b = await startBerth(config, { database: db.target, print: () => {} });
    const login = await gql<{ login: { accessToken: string } }>(a, `mutation { login(usernameOrEmail: "admin", password: "${ADMIN_PASSWORD}") { accessToken } }`, {}, {});
    admin = { authorization: `Bearer ${login.data!.login.accessToken}` };
    const created = await gql<{ createEnv: { id: string } }>(a, 'mutation { createEnv(input: { name: "shared" }) { id } }');
    envId = created.data!.createEnv.id;
  });

  afterAll(async () => {
    await Promise.all(feeds.map((feed) => feed.dispose()));
    await Promise.all([a, b].map((berth) => berth?.stop()));
    await db?.drop();
  });

  busTest(`both processes carry events over ${engine}`, () => {
    expect([a.events.engine, b.events.engine]).toEqual([engine, engine]);
  });

  busTest('a change through A reaches a subscriber on B, and one on A, far sooner than the poll would', async () => {
    const [onB, onA] = [await subscribe(b), await subscribe(a)];
    // one after another: without the bus each change after the first would wait for B's next poll, a whole interval
    const rounds: number[][] = [];
    for (let i = 0; i < 5; i++) rounds.push(await timedChange(`round ${i}`, [onB, onA]));
    expect(Math.max(...rounds.flat())).toBeLessThan(POLL_MS / 2);
    for (const feed of [onB, onA]) expect(feed.changes.map((m) => m.operation)).toEqual(Array(5).fill('UPDATE'));
  });

  busTest('a burst of 50 changes through A reaches B complete, in cursor order, each once', async () => {
    const onB = await subscribe(b);
    const [{ head }] = await sql<{ head: number }>('select coalesce(max(cursor), 0)::int as head from events');
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => describeEnv(`burst ${i}`)));
    expect(results.flatMap((res) => res.errors ?? [])).toEqual([]);
    const logged = await sql<{ cursor: string }>('select e.cursor::text as cursor from events e where e.cursor > ? order by e.cursor', [head]);
    expect(logged).toHaveLength(50);
    // anything of the burst still to come (a duplicate) would come before the settling change
    await settle([onB]);
    const received = onB.changes.slice(0, -1);
    expect(received.map((m) => m.cursor)).toEqual(logged.map((row) => row.cursor));
    expect(received.map((m) => [m.operation, m.id])).toEqual(Array(50).fill(['UPDATE', envId]));
  });

  busTest('a write rolled back after its event was recorded reaches nobody and leaves no event', async () => {
    const onB = await subscribe(b);
    await timedChange('before the refusal', [onB]);
    const before = Number(onB.changes[0].cursor);
    // Refused after the env row, and so its event, were written: the audit insert that follows fails a check added
    // for this test, and the transaction rolls back. (A refusal found before any write would prove nothing.)
    await sql(`alter table audit_records add constraint refuse_marked check ((after->>'description') is distinct from 'refused')`);
    try {
      const refused = await describeEnv('refused');
      expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    } finally {
      await sql('alter table audit_records drop constraint refuse_marked');
    }
    await timedChange('after the refusal', [onB]);
    expect(onB.changes.map((m) => (m.node as { description: string }).description)).toEqual(['before the refusal', 'after the refusal']);
    // the rolled-back event took cursor before + 1 (a sequence does not roll back); no row holds it
    const after = Number(onB.changes[1].cursor);
    expect(after).toBe(before + 2);
    expect(await sql('select cursor::int as cursor from events where cursor > ?', [before])).toEqual([{ cursor: after }]);
  });

  postgresBusTest('the NOTIFY payload is the cursor alone', async () => {
    if (db.target.kind !== 'postgres') throw new Error('needs PostgreSQL');
    const listener = new pg.Client({ connectionString: db.target.url });
    const payloads: string[] = [];
    listener.on('notification', (message) => payloads.push(message.payload ?? ''));
    await listener.connect();
    try {
      await listener.query(`listen ${EVENT_CHANNEL}`);
      const res = await describeEnv('notified');
      expect(res.errors).toBeUndefined();
      await waitFor(() => payloads.length > 0, 'a notification');
      const [{ cursor }] = await sql<{ cursor: string }>('select max(cursor)::text as cursor from events where object_id = ?', [envId]);
      expect(payloads).toEqual([cursor]);
      expect(payloads[0]).toMatch(/^\d+$/);
    } finally {
      await listener.end();
    }
  });

  postgresBusTest('a listener whose connection is lost reconnects, and the bus carries changes again', async () => {
    const onB = await subscribe(b);
    const listeners = () =>
      sql<{ pid: number; state: string }>(`select pid, state from pg_stat_activity where datname = current_database() and query ilike 'listen%'`);
    let lost: number[] = [];
    // one each for A and B (a client that just ended may linger a moment)
    await waitFor(async () => (lost = (await listeners()).map((row) => row.pid)).length === 2, 'the two listeners');
    await sql(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen%'`);
    await waitFor(async () => {
      const now = await listeners();
      return now.length === 2 && now.every((row) => row.state === 'idle' && !lost.includes(row.pid));
    }, 'both listeners to listen again');
    const latencies: number[] = [];
    for (let i = 0; i < 3; i++) latencies.push(...(await timedChange(`reconnected ${i}`, [onB])));
    expect(Math.max(...latencies)).toBeLessThan(POLL_MS / 2);
  });

  busTest('changes nobody announced (written by SQL directly) reach both processes by their poll, in cursor order, each once', async () => {
    const [onA, onB] = [await subscribe(a), await subscribe(b)];
    // five changes in one transaction, read in one batch by the poll, their cursors across a power of ten (998 to
    // 1002) where the order of their digits is not their order
    const cursors = ['998', '999', '1000', '1001', '1002'];
    await sql(`select setval(pg_get_serial_sequence('events', 'cursor'), 997)`);
    const start = performance.now();
    await sql(`do $$ begin for i in 1..5 loop update envs set description = 'unannounced ' || i where id = '${envId}'; end loop; end $$`);
    const latencies = await Promise.all([onA, onB].map((feed) => feed.until(described('unannounced 5')).then(() => performance.now() - start)));
    expect(Math.max(...latencies)).toBeLessThan(POLL_MS + 500);
    expect(await sql('select e.cursor::text as cursor from events e where e.cursor > 997 order by e.cursor')).toEqual(cursors.map((cursor) => ({ cursor })));
    // a batch delivered twice would show before the settling change
    await settle([onA, onB]);
    for (const feed of [onA, onB]) expect(feed.changes.slice(0, -1).map((m) => m.cursor)).toEqual(cursors);
  });
});
