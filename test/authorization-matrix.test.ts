import { getNamedType, isObjectType, type GraphQLField, type GraphQLObjectType } from 'graphql';
import { buildBerthSchema } from '../resolvers/schema.js';
import { withAudit, withWrites } from './support/assertions.js';
import { CREDENTIAL_MUTATIONS, mutationCases, type MutationCase } from './support/matrix-mutations.js';
import { expectedIds, seedWorld, WHO, type Who, type World } from './support/matrix-world.js';
import { startTestServer, type TestServer } from './support/server.js';

// The authorization matrix: every query (and, below, every mutation) against every kind of caller.
// Reads must show exactly what the caller may see: nothing more (a leak), nothing less (a wrong denial).

let server: TestServer;
let world: World;
let lists: { name: string; node: GraphQLObjectType }[];
let singles: Map<string, string>;

beforeAll(async () => {
  server = await startTestServer({ AUTH_CACHE_SECONDS: '0', SIGNUP_ENABLED: 'true' });
  world = await seedWorld(server);
  const schema = await buildBerthSchema();
  const fields = Object.values(schema.getQueryType()!.getFields());
  lists = fields
    .filter((f) => getNamedType(f.type).name.endsWith('Connection'))
    .map((f) => {
      const edges = (getNamedType(f.type) as GraphQLObjectType).getFields().edges;
      return { name: f.name, node: getNamedType((getNamedType(edges.type) as GraphQLObjectType).getFields().node.type) as GraphQLObjectType };
    });
  singles = new Map(fields.filter((f) => f.args.length === 1 && f.args[0].name === 'id').map((f) => [getNamedType(f.type).name, f.name]));
});
afterAll(() => server?.stop());

const headersOf = (who: Who) => world.callers[who]?.headers ?? {};

/** The node's id and the id of every object it links to, one level down: a relation out of scope must not show. */
function selection(node: GraphQLObjectType): string {
  const relation = (f: GraphQLField<unknown, unknown>) => {
    const target = getNamedType(f.type);
    return isObjectType(target) && 'id' in target.getFields() && f.args.every((a) => !String(a.type).endsWith('!'));
  };
  return ['id', ...Object.values(node.getFields()).filter(relation).map((f) => `${f.name} { id }`)].join(' ');
}

/** Every id anywhere in a response. */
function idsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => idsIn(v, found));
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'id' && typeof v === 'string') found.push(v);
      else idsIn(v, found);
    }
  }
  return found;
}

describe.each(WHO.map((who) => [who]))('reads as %s', (who) => {
  const denied = who === 'anonymous' || who === 'inactiveUser';

  test('every list shows exactly the rows in scope, and no relation reaches outside it', async () => {
    const everythingVisible = new Set(world.rows.filter((r) => r.visibleTo.has(who)).map((r) => r.id));
    for (const { name, node } of lists) {
      // a page size passed as a variable is not counted by the cost limit; 500 holds every seeded row
      const res = await server.gql<any, unknown>(
        `query ($first: Int) { ${name}(first: $first) { totalCount edges { node { ${selection(node)} } } } }`,
        { first: 500 },
        headersOf(who),
      );
      if (denied) {
        expect([name, res.errors?.[0]?.extensions?.code]).toEqual([name, 'UNAUTHENTICATED']);
        continue;
      }
      expect([name, res.errors]).toEqual([name, undefined]);
      const listed = res.data[name].edges.map((e: { node: { id: string } }) => e.node.id).sort();
      expect([name, listed]).toEqual([name, expectedIds(world, node.name, who)]);
      expect([name, res.data[name].totalCount]).toEqual([name, listed.length]);
      const leaked = idsIn(res.data).filter((id) => !everythingVisible.has(id));
      expect([name, leaked]).toEqual([name, []]);
    }
  });

  test('every object by id: returned when in scope, null (like a missing one) when not', async () => {
    for (const row of world.rows) {
      const single = singles.get(row.type)!;
      const res = await server.gql<any, unknown>(`{ ${single}(id: "${row.id}") { id } }`, undefined, headersOf(who));
      if (denied) {
        expect([single, res.errors?.[0]?.extensions?.code]).toEqual([single, 'UNAUTHENTICATED']);
        continue;
      }
      expect([single, row.id, res.errors, res.data?.[single]?.id ?? null]).toEqual([single, row.id, undefined, row.visibleTo.has(who) ? row.id : null]);
    }
  });
});

test('the matrix covers every list query and every seeded type', () => {
  const seededTypes = new Set(world.rows.map((r) => r.type));
  for (const { name, node } of lists) expect([name, seededTypes.has(node.name)]).toEqual([name, true]);
  for (const who of WHO.filter((w) => w !== 'anonymous' && w !== 'inactiveUser')) {
    // every caller sees something and misses something, so neither "allow all" nor "deny all" passes
    expect([who, world.rows.some((r) => r.visibleTo.has(who))]).toEqual([who, true]);
    expect([who, world.rows.some((r) => !r.visibleTo.has(who))]).toEqual([who, who !== 'siteAdmin']);
  }
});

describe('writes', () => {
  let cases: MutationCase[];
  beforeAll(() => {
    cases = mutationCases(server, world);
  });

  test('every mutation is in the matrix, except those that establish the caller (tested on their own)', async () => {
    const schema = await buildBerthSchema();
    const mutations = Object.keys(schema.getMutationType()!.getFields()).filter((f) => !CREDENTIAL_MUTATIONS.includes(f));
    expect([...new Set(cases.map((c) => c.field))].filter((f) => mutations.includes(f)).sort()).toEqual(mutations.sort());
  });

  // denied calls: refused with the right code, and every table of the database unchanged row by row
  test.each(WHO.map((who) => [who]))('as %s: allowed calls succeed and are audited; denied ones are refused and write nothing', async (who) => {
    const outcomes: string[] = [];
    for (const c of cases) {
      const { document, variables } = await c.prepare(who);
      const call = () => server.gql<any, unknown>(document, variables, headersOf(who));
      const label = `${c.field}${c.variant ? ` (${c.variant})` : ''}`;
      if (c.allowed.includes(who)) {
        const { result: res, audited } = await withAudit(server, call);
        outcomes.push(`${label}: ${res.errors ? `refused ${res.errors[0].extensions?.code}: ${res.errors[0].message}` : document.startsWith('query') || audited ? 'allowed' : 'allowed but not audited'}`);
      } else {
        // the audit log is among the tables digested
        const { result: res, written } = await withWrites(server, call);
        const code = res.errors?.[0]?.extensions?.code;
        const expected = who === 'anonymous' || who === 'inactiveUser' ? ['UNAUTHENTICATED'] : c.deniedWith?.[who] ? [c.deniedWith[who]] : ['FORBIDDEN', 'NOT_FOUND'];
        const refusedRight = expected.includes(code ?? '') && !res.data?.[c.field];
        outcomes.push(
          `${label}: ${refusedRight ? (written.length ? `denied but wrote ${written.join(', ')}` : 'denied') : `expected ${expected.join(' or ')}, got ${code ?? 'success'}`}`,
        );
      }
    }
    expect(outcomes.filter((o) => !o.endsWith(': allowed') && !o.endsWith(': denied'))).toEqual([]);
  });
});
