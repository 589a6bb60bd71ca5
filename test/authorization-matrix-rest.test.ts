import { withAudit, withWrites } from './support/assertions.js';
import { mutationCases, type MutationCase } from './support/matrix-mutations.js';
import { expectedIds, seedWorld, WHO, type Who, type World } from './support/matrix-world.js';
import { restClient, type Rest } from './support/rest.js';
import { restMatrixRows, twinOf, type RestMatrixRow } from './support/rest-matrix.js';
import { startTestServer, type TestServer } from './support/server.js';

// The authorization matrix of the REST routes: the callers of GraphQL's matrix (test/authorization-matrix.test.ts),
// the same world, the same expectations. A read shows what GraphQL shows that caller; a write is allowed to whom
// its GraphQL twin is allowed, and a refused one writes nothing.

let server: TestServer;
let world: World;
let rest: Rest;
let rows: RestMatrixRow[];
let cases: MutationCase[];

beforeAll(async () => {
  server = await startTestServer({ AUTH_CACHE_SECONDS: '0' });
  world = await seedWorld(server);
  rest = restClient(server);
  rows = restMatrixRows(server, world);
  cases = mutationCases(server, world);
});
afterAll(() => server?.stop());

const headersOf = (who: Who) => world.callers[who]?.headers ?? {};
const unauthenticated = (who: Who) => who === 'anonymous' || who === 'inactiveUser';
const documentPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');
const label = (row: RestMatrixRow) => `${row.route}${row.variant ? ` (${row.variant})` : ''}`;

test('every REST route has a row, and every row a served route', () => {
  const served = server.berth.httpRoutes
    .filter((r) => (r.url.startsWith('/api/v2/') || r.url === '/status') && r.method !== 'HEAD')
    .map((r) => `${r.method} ${documentPath(r.url)}`)
    .filter((route) => !/^GET \/api\/v2\/(openapi\.json|docs)/.test(route) && route !== 'GET /api/v2/ws');
  expect(served.length).toBeGreaterThanOrEqual(10);
  const covered = new Set(rows.map((r) => r.route));
  expect(served.filter((route) => !covered.has(route))).toEqual([]);
  expect([...covered].filter((route) => !served.includes(route))).toEqual([]);
});

describe.each(WHO.map((who) => [who]))('reads as %s', (who) => {
  test('every list shows exactly the rows GraphQL shows this caller', async () => {
    const outcomes: string[] = [];
    for (const row of rows) {
      if (!('read' in row) || row.route.endsWith('}')) continue;
      const res = await rest('GET', row.route.slice('GET '.length), { headers: headersOf(who), query: { per_page: 500 } });
      const refused = unauthenticated(who) ? 401 : row.refused?.[who];
      if (refused) {
        outcomes.push(`${label(row)}: ${res.status === refused ? 'refused' : `expected ${refused}, got ${res.status}`}`);
        continue;
      }
      const listed = res.status === 200 ? res.body.items.map((i: { id: string }) => i.id).sort() : [];
      const omitted = new Set(await row.omitted?.());
      const expected = expectedIds(world, row.read, who).filter((id) => !omitted.has(id));
      const right = res.status === 200 && JSON.stringify(listed) === JSON.stringify(expected) && res.body.num_total === expected.length;
      outcomes.push(`${label(row)}: ${right ? 'as GraphQL' : `status ${res.status}, listed ${JSON.stringify(listed)}, expected ${JSON.stringify(expected)}`}`);
    }
    expect(outcomes.filter((o) => !o.endsWith(': as GraphQL') && !o.endsWith(': refused'))).toEqual([]);
  });

  test('every row by id: 200 in scope, 404 out of scope (as a missing one)', async () => {
    const outcomes: string[] = [];
    for (const row of rows) {
      if (!('read' in row) || !row.route.endsWith('/{id}')) continue;
      const omitted = new Set(await row.omitted?.());
      for (const seeded of world.rows.filter((r) => r.type === row.read)) {
        const res = await rest('GET', row.route.slice('GET '.length).replace('{id}', seeded.id), { headers: headersOf(who) });
        const expected = unauthenticated(who) ? 401 : (row.refused?.[who] ?? (seeded.visibleTo.has(who) && !omitted.has(seeded.id) ? 200 : 404));
        const right = res.status === expected && (expected !== 200 || res.body.id === seeded.id);
        if (!right) outcomes.push(`${label(row)} ${seeded.id}: expected ${expected}, got ${res.status}`);
      }
    }
    expect(outcomes).toEqual([]);
  });
});

// denied calls: refused with the right status, and every table of the database unchanged row by row
test.each(WHO.map((who) => [who]))('writes as %s: allowed calls succeed and are audited; denied ones are refused and write nothing', async (who) => {
  const outcomes: string[] = [];
  for (const row of rows) {
    if (!('prepare' in row)) continue;
    const twin = 'twin' in row ? twinOf(cases, row.twin) : undefined;
    const allowed = twin ? twin.allowed : 'allowed' in row ? row.allowed : [];
    const audited = !('audited' in row && row.audited === false);
    const [method] = row.route.split(' ');
    const { path, body } = await row.prepare(who);
    const call = () => rest(method, path, { headers: headersOf(who), body });
    if (allowed.includes(who)) {
      const { result: res, audited: wasAudited } = await withAudit(server, call);
      outcomes.push(`${label(row)}: ${res.status >= 300 ? `refused ${res.status}: ${res.text}` : !audited || wasAudited ? 'allowed' : 'allowed but not audited'}`);
    } else {
      const { result: res, written } = await withWrites(server, call);
      const deniedWith = twin?.deniedWith?.[who];
      const expected = unauthenticated(who) ? [401] : deniedWith ? [deniedWith === 'FORBIDDEN' ? 403 : 404] : [403, 404];
      outcomes.push(
        `${label(row)}: ${expected.includes(res.status) ? (written.length ? `denied but wrote ${written.join(', ')}` : 'denied') : `expected ${expected.join(' or ')}, got ${res.status}`}`,
      );
    }
  }
  expect(outcomes.filter((o) => !o.endsWith(': allowed') && !o.endsWith(': denied'))).toEqual([]);
});
