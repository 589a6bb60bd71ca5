import { randomUUID } from 'node:crypto';
import { EnvUserRole } from '../src/entities/enums.js';
import { Deployment, User } from '../src/entities/index.js';
import { createServiceContext, transactionContext, type ServiceContext } from '../src/request/context.js';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { seedFleet, type Fleet } from './support/fixtures.js';
import { createUser, grantEnvRole, type Caller } from './support/identities.js';
import { startTestServer, type TestServer } from './support/server.js';
import { sqlLog } from './support/sql-log.js';
import { engineName } from './support/database.js';

/**
 * By-id reads are shared between requests (src/db/read-sql.ts, readRowsById): the reads that ask the same statement
 * with the same parameters in one turn of the event loop go to the database as one. What must hold: only reads whose
 * scope renders alike share; a caller never gets a row its scope hides; a transaction's reads are its own.
 */
const log = sqlLog();
let server: TestServer;
let fleets: [Fleet, Fleet];
let users: [Caller, Caller];

beforeAll(async () => {
  server = await startTestServer({}, { ormOverrides: log.ormOverrides });
  fleets = [await seedFleet(server.em, { deployments: 3, prefix: 'one' }), await seedFleet(server.em, { deployments: 3, prefix: 'two' })];
  users = [await createUser(server), await createUser(server)];
  await grantEnvRole(server, fleets[0].env.id, { userId: users[0].id }, EnvUserRole.User);
  await grantEnvRole(server, fleets[1].env.id, { userId: users[1].id }, EnvUserRole.User);
});
afterAll(() => server?.stop());

/** A request's context as the user `id` (its grants read from the database, as on a first request). */
async function contextOf(id: string, em: SqlEntityManager = server.em.fork()): Promise<ServiceContext> {
  const user = await em.findOneOrFail(User, { id });
  return createServiceContext(em, { identity: { kind: 'user', user } }, randomUUID());
}

const adminId = async (of: TestServer = server) => (await of.sql<{ id: string }>(`select id from users where username = 'admin'`))[0].id;

/** Statements that read `table` by id, since the last clear. */
const byIdReads = (table: string) => log.statements().filter((s) => new RegExp(`from "${table}"`).test(s) && /= any\(/.test(s));

test("one caller's requests in the same turn share one statement, and each gets exactly the rows it asked for", async () => {
  const [a, b] = [await contextOf(await adminId()), await contextOf(await adminId())];
  const missing = randomUUID();
  log.clear();
  const [first, second] = await Promise.all([
    server.berth.services.users.findById(a, users[0].id),
    Promise.all([server.berth.services.users.findById(b, users[1].id), server.berth.services.users.findById(b, missing)]),
  ]);
  expect(first?.id).toBe(users[0].id);
  expect(second.map((u) => u?.id ?? null)).toEqual([users[1].id, null]);
  expect(byIdReads('users')).toHaveLength(1);
});

test('callers whose scopes differ never share: each sees only its own env, in the same turn', async () => {
  const [one, two, admin] = [await contextOf(users[0].id), await contextOf(users[1].id), await contextOf(await adminId())];
  const deploymentOfOne = fleets[0].deployments[0].id;
  const deploymentOfTwo = fleets[1].deployments[0].id;
  log.clear();
  const read = (ctx: ServiceContext) => Promise.all([deploymentOfOne, deploymentOfTwo].map((id) => server.berth.services.deployments.findById(ctx, id)));
  const [seenByOne, seenByTwo, seenByAdmin] = await Promise.all([read(one), read(two), read(admin)]);
  expect(seenByOne.map((d) => d?.id ?? null)).toEqual([deploymentOfOne, null]);
  expect(seenByTwo.map((d) => d?.id ?? null)).toEqual([null, deploymentOfTwo]);
  expect(seenByAdmin.map((d) => d?.id ?? null)).toEqual([deploymentOfOne, deploymentOfTwo]);
  // the two env Users' statements are the same text with other parameters: one statement each, as the admin's
  expect(byIdReads('deployments')).toHaveLength(3);
});

test('servers of one process on different databases never share: each reads its own', async () => {
  const other = await startTestServer();
  try {
    const [here, there] = [await createUser(server), await createUser(other)];
    const [a, b] = [await contextOf(await adminId()), await contextOf(await adminId(other), other.em.fork())];
    const read = (s: TestServer, ctx: ServiceContext) => Promise.all([here.id, there.id].map(async (id) => (await s.berth.services.users.findById(ctx, id))?.id ?? null));
    const [seenHere, seenThere] = await Promise.all([read(server, a), read(other, b)]);
    expect(seenHere).toEqual([here.id, null]);
    expect(seenThere).toEqual([null, there.id]);
  } finally {
    await other.stop();
  }
});

test('under concurrent HTTP requests of callers in different envs, each answer is its own caller\'s', async () => {
  const admin = await server.adminAuth();
  const ids = [...fleets[0].deployments, ...fleets[1].deployments].map((d) => d.id);
  const expected = (caller: number | 'admin', id: string) =>
    caller === 'admin' || fleets[caller].deployments.some((d) => d.id === id) ? id : null;
  const requests = Array.from({ length: 60 }, (_, i) => {
    const caller = i % 3 === 2 ? ('admin' as const) : i % 3;
    const id = ids[i % ids.length];
    return server
      .gql<{ deployment: { id: string } | null }, { id: string }>('query D($id: ID!) { deployment(id: $id) { id } }', { id }, caller === 'admin' ? admin : users[caller].headers)
      .then((body) => ({ got: body.data?.deployment?.id ?? null, want: expected(caller, id), errors: body.errors }));
  });
  const answers = await Promise.all(requests);
  expect(answers.filter((a) => a.errors || a.got !== a.want)).toEqual([]);
});

(engineName() === 'postgres' ? test : test.skip)("a transaction's by-id read is its own: it sees its uncommitted row, a request in the same turn does not", async () => {
  const outside = await contextOf(await adminId());
  const id = randomUUID();
  await server.em.fork().transactional(async (em) => {
    await em.getConnection().execute(`insert into deployments (id, name, cluster_id, kind_id, helm_chart_id)
      select ?, 'uncommitted', cluster_id, kind_id, helm_chart_id from deployments where id = ?`, [id, fleets[0].deployments[0].id], 'run', em.getTransactionContext());
    const inside = transactionContext(await contextOf(await adminId(), em), em);
    const [seenInside, seenOutside] = await Promise.all([
      inside.loaders.rowById(Deployment, null).load(id),
      outside.loaders.rowById(Deployment, null).load(id),
    ]);
    expect(seenInside?.id).toBe(id);
    expect(seenOutside).toBeNull();
    await em.getConnection().execute('delete from deployments where id = ?', [id], 'run', em.getTransactionContext());
  });
});
