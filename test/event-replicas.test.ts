import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { SqlEntityManager } from '@mikro-orm/sql';
import pg from 'pg';
import { EVENT_CHANNEL } from '../src/events/bus/event-bus.js';
import { startBerth, type Berth } from '../src/server/app.js';
import { createTestDatabase, engineName, type TestDatabase } from './support/database.js';
import { unique } from './support/fixtures.js';
import { ADMIN_PASSWORD, postGraphQL, testConfig } from './support/server.js';
import { Feed, waitFor } from './support/subscriptions.js';

// Two processes share one database only on a real PostgreSQL (the embedded engine serves the process that opened it).
const onPostgres = engineName() === 'postgres' ? describe : describe.skip;

/**
 * The replicas here poll the log only every 10 minutes: a change that arrives within a test came over the bus. The
 * test of the poll itself runs a third replica that polls often.
 */
const NO_POLL = { EVENT_POLL_MS: '600000' };

const ENGINES = [
  { engine: 'postgres', redisUrl: undefined },
  { engine: 'redis', redisUrl: process.env.TEST_REDIS_URL },
] as const;

const ENV_EVENTS = 'subscription { events(types: [ENV]) { operation cursor id node { ... on Env { description } } } }';

const described = (description: string) => (feed: Feed) => feed.changes.some((m) => (m.node as { description?: string } | null)?.description === description);

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
   * Changes the env through A and waits until each feed has the change. Only with no other change in flight: the
   * change is recognised by its object's description when dispatched.
   */
  async function change(description: string, on: Feed[]): Promise<void> {
    const [res] = await Promise.all([describeEnv(description), ...on.map((feed) => feed.until(described(description), `the change to "${description}"`))]);
    expect(res.errors).toBeUndefined();
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
    const config = testConfig({ REDIS_URL: redisUrl, ...NO_POLL });
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

  busTest('a change through A reaches a subscriber on B, and one on A, without waiting for a poll', async () => {
    const [onB, onA] = [await subscribe(b), await subscribe(a)];
    // one after another: without the bus the first change would already wait for B's next poll, minutes away
    for (let i = 0; i < 5; i++) await change(`round ${i}`, [onB, onA]);
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
    await change('before the refusal', [onB]);
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
    await change('after the refusal', [onB]);
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
    // B polls only every 10 minutes: these arrive over the restored listener
    for (let i = 0; i < 3; i++) await change(`reconnected ${i}`, [onB]);
  });

  busTest('changes nobody announced (written by SQL directly) reach a replica by its poll, and the others at their next wake-up, in cursor order, each once', async () => {
    const polling = await startBerth(testConfig({ REDIS_URL: redisUrl, EVENT_POLL_MS: '200' }), { database: db.target, print: () => {} });
    try {
      const [onPolling, onA] = [await subscribe(polling), await subscribe(a)];
      // five changes in one transaction, read in one batch, their cursors across a power of ten (998 to 1002) where
      // the order of their digits is not their order
      const cursors = ['998', '999', '1000', '1001', '1002'];
      await sql(`select setval(pg_get_serial_sequence('events', 'cursor'), 997)`);
      await sql(`do $$ begin for i in 1..5 loop update envs set description = 'unannounced ' || i where id = '${envId}'; end loop; end $$`);
      // nothing announced them: only the poll brings them
      await onPolling.until(described('unannounced 5'), 'the unannounced changes, by the poll');
      expect(await sql('select e.cursor::text as cursor from events e where e.cursor > 997 order by e.cursor')).toEqual(cursors.map((cursor) => ({ cursor })));
      // A, which polls every 10 minutes, reads them when the next announced change wakes it; a duplicate would show before it
      await settle([onPolling, onA]);
      for (const feed of [onPolling, onA]) expect(feed.changes.slice(0, -1).map((m) => m.cursor)).toEqual(cursors);
    } finally {
      await polling.stop();
    }
  });
});
