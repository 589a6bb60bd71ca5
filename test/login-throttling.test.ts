import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { hashPassword } from '../src/auth/password.js';
import { User } from '../src/entities/index.js';
import { startBerth, type Berth } from '../src/server/app.js';
import { createTestDatabase, engineName, type TestDatabase } from './support/database.js';
import { build, unique } from './support/fixtures.js';
import { recordingLogger } from './support/logger.js';
import { postGraphQL, startTestServer, testConfig, type GraphQLResponse, type TestServer } from './support/server.js';

const LOGIN = `mutation($u: String!, $p: String!) { login(usernameOrEmail: $u, password: $p) { accessToken } }`;
const PASSWORD = 'the-right-password';

type Login = GraphQLResponse<{ login: { accessToken: string } }>;

/** An address of its own for each caller, sent as a reverse proxy would (the servers here trust one unless said). */
const newAddress = () => `198.51.${randomInt(256)}.${randomInt(256)}`;

/** A user with PASSWORD, named uniquely: the Redis store outlives a run. */
async function createUser(em: SqlEntityManager): Promise<string> {
  const username = `throttled-${unique()}`;
  const fork = em.fork();
  fork.persist(build(User, { username, email: `${username}@example.com`, displayName: username, passwordHash: await hashPassword(PASSWORD) }));
  await fork.flush();
  return username;
}

const code = (res: Login) => res.errors?.[0]?.extensions?.code;

/** The lock's answer: a clear message, and the seconds to wait (about `seconds`) in extensions.retryAfter. */
function expectRefused(res: Login, what: 'for this account' | 'from this address', seconds: number) {
  expect(res.data ?? null).toBeNull();
  expect(res.errors).toEqual([
    expect.objectContaining({
      message: expect.stringMatching(new RegExp(`^Too many failed logins ${what}; try again in \\d+ s$`)),
      extensions: { code: 'TOO_MANY_REQUESTS', retryAfter: expect.any(Number) },
    }),
  ]);
  const retryAfter = res.errors![0].extensions!.retryAfter as number;
  expect(retryAfter).toBeGreaterThan(seconds - 5);
  expect(retryAfter).toBeLessThanOrEqual(seconds);
  expect(res.errors![0].message).toContain(`try again in ${retryAfter} s`);
}

describe('one replica', () => {
  let server: TestServer;
  const logger = recordingLogger();
  const login = (username: string, password: string, address: string) =>
    server.gql<Login['data'] & object, object>(LOGIN, { u: username, p: password }, { 'x-forwarded-for': `10.0.0.1, ${address}` });

  beforeAll(async () => {
    server = await startTestServer(
      {
        TRUST_PROXY: 'true',
        LOGIN_FREE_FAILURES: '3',
        LOGIN_MAX_FAILURES: '3',
        LOGIN_MAX_FAILURES_PER_USERNAME: '5',
        LOGIN_MAX_FAILURES_PER_ADDRESS: '6',
        LOGIN_LOCK_SECONDS: '60',
      },
      { logger },
    );
  });
  afterAll(() => server?.stop());

  test('after LOGIN_MAX_FAILURES failures the account is locked from that address: even the right password is refused, with the time to wait', async () => {
    const username = await createUser(server.em);
    const address = newAddress();
    for (let i = 0; i < 3; i++) expect(code(await login(username, 'wrong', address))).toBe('UNAUTHENTICATED');
    expectRefused(await login(username, PASSWORD, address), 'for this account', 60);
    // asking again changes nothing
    expectRefused(await login(username, 'wrong', address), 'for this account', 60);
    // the lock is the pair's: the user signs in from elsewhere
    expect((await login(username, PASSWORD, newAddress())).data?.login.accessToken).toEqual(expect.any(String));
  });

  test('an unknown username is throttled exactly as a known one (no account enumeration)', async () => {
    const address = newAddress();
    const ghost = `ghost-${unique()}`;
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await login(ghost, 'wrong', address));
    expect(answers.slice(0, 3).map(code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expectRefused(answers[3], 'for this account', 60);
  });

  test('a right password clears the failures of its username from its address', async () => {
    const username = await createUser(server.em);
    const address = newAddress();
    // four failures in all, past the maximum of three, had the right password not cleared them
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 2; i++) expect(code(await login(username, 'wrong', address))).toBe('UNAUTHENTICATED');
      expect((await login(username, PASSWORD, address)).data?.login.accessToken).toEqual(expect.any(String));
    }
  });

  test('failures of one username from many addresses lock the username everywhere (LOGIN_MAX_FAILURES_PER_USERNAME)', async () => {
    const username = await createUser(server.em);
    for (let i = 0; i < 5; i++) expect(code(await login(username, 'wrong', newAddress()))).toBe('UNAUTHENTICATED');
    expectRefused(await login(username, PASSWORD, newAddress()), 'for this account', 60);
  });

  test('failures from one address over many usernames lock the address (LOGIN_MAX_FAILURES_PER_ADDRESS); other addresses go on', async () => {
    const username = await createUser(server.em);
    const address = newAddress();
    for (let i = 0; i < 6; i++) expect(code(await login(`sprayed-${unique()}`, 'wrong', address))).toBe('UNAUTHENTICATED');
    expectRefused(await login(username, PASSWORD, address), 'from this address', 60);
    expect((await login(username, PASSWORD, newAddress())).data?.login.accessToken).toEqual(expect.any(String));
  });

  test('attempts sent all at once are counted before their passwords are checked: no more than the maximum get through', async () => {
    const username = await createUser(server.em);
    const address = newAddress();
    // five: within the username's and the address's maximums, past the pair's
    const answers = await Promise.all(Array.from({ length: 5 }, () => login(username, 'wrong', address)));
    expect(answers.filter((res) => code(res) === 'UNAUTHENTICATED')).toHaveLength(3);
    expect(answers.filter((res) => code(res) === 'TOO_MANY_REQUESTS')).toHaveLength(2);
  });

  test('a failed login is logged with the username and the source address', async () => {
    const address = newAddress();
    const username = `logged-${unique()}`;
    await login(username, 'wrong', address);
    expect(logger.lines).toContainEqual({ level: 'warn', msg: 'failed login', fields: { username, address, failures: 1 } });
  });
});

describe('growing delays, without a trusted proxy', () => {
  let server: TestServer;
  const login = (username: string, password: string, headers: Record<string, string> = {}) =>
    server.gql<Login['data'] & object, object>(LOGIN, { u: username, p: password }, headers);

  beforeAll(async () => {
    server = await startTestServer({ LOGIN_FREE_FAILURES: '1', LOGIN_MAX_FAILURES: '5', LOGIN_LOCK_SECONDS: '60' });
  });
  afterAll(() => server?.stop());

  test('each failure past LOGIN_FREE_FAILURES makes the next attempt wait; X-Forwarded-For is not believed', async () => {
    const username = await createUser(server.em);
    expect(code(await login(username, 'wrong'))).toBe('UNAUTHENTICATED');
    // the first failure is free: the next attempt is taken at once
    expect(code(await login(username, 'wrong'))).toBe('UNAUTHENTICATED');
    // the second is not: 2 s before the next, the right password included
    expectRefused(await login(username, PASSWORD), 'for this account', 2);
    // a client claiming another address is the same peer to a server that trusts no proxy
    expectRefused(await login(username, PASSWORD, { 'x-forwarded-for': newAddress() }), 'for this account', 2);
    // another username from the same address is not held up
    const other = await createUser(server.em);
    expect((await login(other, PASSWORD)).data?.login.accessToken).toEqual(expect.any(String));
  });

  test('logins over graphql-ws are counted with the address of their socket, as over HTTP', async () => {
    const username = await createUser(server.em);
    const client = createClient({ url: server.berth.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      for (let i = 0; i < 2; i++) {
        for await (const result of client.iterate({ query: LOGIN, variables: { u: username, p: 'wrong' } })) expect(code(result as Login)).toBe('UNAUTHENTICATED');
      }
    } finally {
      await client.dispose();
    }
    expectRefused(await login(username, PASSWORD), 'for this account', 2);
  });
});

// Two processes share one database only on a real PostgreSQL (the embedded engine serves the process that opened it).
const onPostgres = engineName() === 'postgres' ? describe : describe.skip;

const STORES = [
  { store: 'postgres', redisUrl: undefined },
  { store: 'redis', redisUrl: process.env.TEST_REDIS_URL },
] as const;

onPostgres.each(STORES)('two replicas on one database, counting in $store', ({ store, redisUrl }) => {
  const storeTest = store === 'redis' && !redisUrl ? test.skip : test;
  let db: TestDatabase;
  const replicas: Berth[] = [];

  beforeAll(async () => {
    if (store === 'redis' && !redisUrl) return;
    db = await createTestDatabase();
    const config = testConfig({ TRUST_PROXY: 'true', LOGIN_FREE_FAILURES: '4', LOGIN_MAX_FAILURES: '4', LOGIN_LOCK_SECONDS: '60', REDIS_URL: redisUrl });
    replicas.push(...(await Promise.all([1, 2].map(() => startBerth(config, { database: db.target, print: () => {} })))));
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await db?.drop();
  });

  storeTest('failures alternated across the replicas lock the account on both', async () => {
    const [a, b] = replicas;
    const username = await createUser(a.orm.em as SqlEntityManager);
    const address = newAddress();
    const login = (replica: Berth, password: string) => postGraphQL<Login['data'] & object, object>(replica.url, LOGIN, { u: username, p: password }, { 'x-forwarded-for': address });
    for (const replica of [a, b, a, b]) expect(code(await login(replica, 'wrong'))).toBe('UNAUTHENTICATED');
    expectRefused(await login(a, PASSWORD), 'for this account', 60);
    expectRefused(await login(b, PASSWORD), 'for this account', 60);
    // the counts are where they should be: the shared table, or Redis and not the table
    const rows = await (a.orm.em as SqlEntityManager).getConnection().execute<{ n: number }[]>(`select count(*)::int as n from login_throttle where key like '%${username}%'`);
    expect(rows[0].n > 0).toBe(store === 'postgres');
  });
});
