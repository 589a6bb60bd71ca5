import { randomUUID } from 'node:crypto';
import {
  buildClientSchema, getIntrospectionQuery, getNamedType, isEnumType, isInputObjectType, isLeafType, isListType, isNonNullType,
  type GraphQLField, type GraphQLInputType, type GraphQLSchema, type IntrospectionQuery,
} from 'graphql';
import { insertDeployment, startWorld, type World } from './support/deployment-world.js';
import type { TestServer } from './support/server.js';

/**
 * Every argument of every query and mutation, read from the schema, given wrong, empty, huge,
 * NUL-containing, deeply nested and unknown values, alone (the other arguments plausible, their ids
 * those of real objects), as variables and as literals, as the admin and anonymously. No answer
 * may be an internal error, a 5xx, or carry internal text. Subscriptions are left to their own tests.
 */

let server: TestServer;
let w: World;
let schema: GraphQLSchema;
let ids: Record<string, string>;
beforeAll(async () => {
  ({ server, w } = await startWorld());
  const deployment = await insertDeployment(server, { name: 'fuzzed', kind: w.app, cluster: w.cluster, helmChart: w.appChart, config: { replicas: 1 } });
  const introspection = await server.gql<IntrospectionQuery, unknown>(getIntrospectionQuery());
  schema = buildClientSchema(introspection.data!);
  // ids of real objects, by the name of the argument or input field that takes them
  ids = {
    envId: w.env.id, env: w.env.id, clusterId: w.cluster.id, cluster: w.cluster.id, kindId: w.app.id, kind: w.app.id, deploymentKindId: w.app.id,
    helmChartId: w.appChart.id, deploymentId: deployment.id, deployment: deployment.id, typeId: w.shopType.id, userId: w.callers.owner.id,
    botId: w.callers.ownerBot.id,
  };
  // and of `id`, by the type a field returns
  Object.assign(ids, { Env: w.env.id, K8sCluster: w.cluster.id, DeploymentKind: w.app.id, HelmChart: w.appChart.id, Deployment: deployment.id, User: w.callers.owner.id });
});
afterAll(() => server?.stop());

/** Answers that give away internals: stack frames, runtime errors, SQL and driver text. */
const INTERNAL = /stack|\bat [\w$.<>]+ \(|\n\s+at |TypeError|ReferenceError|RangeError|SyntaxError: |node_modules|\.ts:\d+|syntax error at or near|violates|relation "|column "|duplicate key|pg_|mikro|insufficient data left|invalid byte sequence/i;

/** JSON text put into a request as it is: values JSON.stringify would itself overflow on. */
class RawJson {
  constructor(readonly text: string) {}
}

const deepObject = new RawJson(`${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`);
const deepList = new RawJson(`${'['.repeat(5000)}1${']'.repeat(5000)}`);
const HUGE = 'x'.repeat(100_000);

/** Bad values for one position, by its type; each a label and the value. */
function badValues(type: GraphQLInputType): [string, unknown][] {
  const named = getNamedType(type);
  const common: [string, unknown][] = [['null', null], ['wrong type: object', { a: 1 }], ['wrong type: list', [1, 2]]];
  if (isListType(isNonNullType(type) ? type.ofType : type)) {
    return [...common, ['empty list', []], ['list of null', [null]], ['long list', Array.from({ length: 2000 }, (_, i) => `item-${i}`)]];
  }
  if (isEnumType(named)) return [...common, ['unknown enum value', 'NOT_A_VALUE'], ['enum as number', 7], ['empty', '']];
  if (isInputObjectType(named)) return [...common, ['empty object', {}], ['unknown input field', { notAField: 1 }], ['a string', 'x']];
  switch (named.name) {
    case 'String':
    case 'ID':
      return [
        ...common, ['empty', ''], ['blank', '   '], ['huge', HUGE], ['NUL', 'a\u0000b'], ['only NUL', '\u0000'], ['lone surrogate', 'a\uD800b'],
        ['quotes', `'"; --`], ['number', 42], ['emoji', '💥'],
      ];
    case 'Int':
      return [...common, ['negative', -1], ['zero', 0], ['over 32 bits', 2 ** 31], ['fraction', 1.5], ['string', 'ten'], ['huge', 1e300]];
    case 'Float':
      return [...common, ['huge', 1e308], ['negative', -1], ['string', 'x']];
    case 'Boolean':
      return [...common, ['string', 'yes'], ['number', 0]];
    case 'DateTimeISO':
      return [...common, ['not a date', 'not-a-date'], ['out of range', '+275760-09-13T00:00:00.001Z'], ['year 0', '0000-01-01T00:00:00Z'], ['number', 1e20], ['huge', HUGE]];
    case 'JSON':
    case 'JSONObject':
      return [
        ['null', null], ['deep object', deepObject], ['deep list', deepList], ['NUL key', { 'a\u0000': 1 }], ['NUL value', { a: ['\u0000'] }],
        ['huge string', HUGE], ['list', []], ['number', 42], ['proto key', JSON.parse('{"__proto__": {"admin": true}, "constructor": {"prototype": 1}}')],
      ];
    default:
      return common;
  }
}

/** A plausible value for a required position, so that a call fails on the bad value and not on a missing one. */
function plausible(type: GraphQLInputType, name: string, owner: GraphQLField<unknown, unknown>): unknown {
  if (isNonNullType(type)) return plausible(type.ofType, name, owner);
  if (isListType(type)) return [plausible(type.ofType, name, owner)];
  if (isEnumType(type)) return type.getValues()[0].name;
  if (isInputObjectType(type)) {
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((f) => isNonNullType(f.type) && f.defaultValue === undefined)
        .map((f) => [f.name, plausible(f.type, f.name, owner)]),
    );
  }
  switch (type.name) {
    case 'ID':
      if (name === 'id') return /^(delete|revoke|remove)/.test(owner.name) ? randomUUID() : (ids[getNamedType(owner.type).name] ?? randomUUID());
      return ids[name] ?? randomUUID();
    case 'String':
      return `fuzz-${name}`.toLowerCase();
    case 'Int':
    case 'Float':
      return 1;
    case 'Boolean':
      return true;
    case 'DateTimeISO':
      return new Date(Date.now() + 3_600_000).toISOString();
    default:
      return {};
  }
}

/** The bad values also sent as literals in the document. */
const INLINE = new Set(['NUL', 'huge', 'empty', 'unknown enum value', 'unknown input field', 'wrong type: object', 'NUL key', 'out of range', 'year 0']);

interface Case {
  label: string;
  document: string;
  /** variables as JSON text: RawJson values go in as they are */
  variables: string;
}

/** A value as JSON text, RawJson parts verbatim. */
function jsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (value && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(',')}}`;
  return JSON.stringify(value);
}

/** A value as a GraphQL literal for a position of `type`, or null when it has none (raw JSON nested past the token limit). */
function literal(value: unknown, type: GraphQLInputType): string | null {
  if (value instanceof RawJson) return null;
  const named = getNamedType(type);
  if (typeof value === 'string' && isEnumType(named) && /^[_A-Za-z]\w*$/.test(value)) return value;
  if (Array.isArray(value)) {
    const items = value.map((v) => literal(v, isListType(type) ? type.ofType : type));
    return items.includes(null) ? null : `[${items.join(', ')}]`;
  }
  if (value && typeof value === 'object') {
    const fields = isInputObjectType(named) ? named.getFields() : {};
    const entries = Object.entries(value).map(([k, v]) => [k, literal(v, fields[k]?.type ?? named)]);
    if (entries.some(([k, v]) => v === null || !/^[_A-Za-z]\w*$/.test(k!))) return null;
    return `{ ${entries.map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
  }
  return JSON.stringify(value);
}

/** The positions to spoil in one argument: the argument itself, and the fields of its input object (two levels down). */
function positions(type: GraphQLInputType, path: string[], depth = 0): { path: string[]; type: GraphQLInputType }[] {
  const named = getNamedType(type);
  const here = [{ path, type }];
  if (!isInputObjectType(named) || depth >= 2) return here;
  return [...here, ...Object.values(named.getFields()).flatMap((f) => positions(f.type, [...path, f.name], depth + 1))];
}

const setAt = (target: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> => {
  const [head, ...rest] = path;
  if (!rest.length) return { ...target, [head]: value };
  const inner = target[head];
  return { ...target, [head]: setAt(inner && typeof inner === 'object' && !Array.isArray(inner) ? (inner as Record<string, unknown>) : {}, rest, value) };
};

function casesOf(operation: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): Case[] {
  const named = getNamedType(field.type);
  const selection = isLeafType(named) ? '' : ' { __typename }';
  const base = Object.fromEntries(field.args.filter((a) => isNonNullType(a.type)).map((a) => [a.name, plausible(a.type, a.name, field)]));
  const declarations = field.args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const passing = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const byVariables = `${operation}${declarations ? `(${declarations})` : ''} { ${field.name}${passing ? `(${passing})` : ''}${selection} }`;
  const cases: Case[] = [];
  for (const arg of field.args) {
    for (const position of positions(arg.type, [arg.name])) {
      for (const [label, value] of badValues(position.type)) {
        const args = setAt(base, position.path, value);
        const name = `${field.name}(${position.path.join('.')}: ${label})`;
        cases.push({ label: `${name} as variables`, document: byVariables, variables: jsonText(args) });
        // as literals too, the values graphql-js parses differently there
        if (!INLINE.has(label)) continue;
        const literals = field.args.filter((a) => a.name in args).map((a) => [a.name, literal(args[a.name], a.type)]);
        if (literals.every(([, v]) => v !== null)) {
          const passed = literals.map(([k, v]) => `${k}: ${v}`).join(', ');
          cases.push({ label: `${name} inline`, document: `${operation} { ${field.name}${passed ? `(${passed})` : ''}${selection} }`, variables: '{}' });
        }
      }
    }
  }
  cases.push({ label: `${field.name}(unknown argument)`, document: `${operation} { ${field.name}(notAnArgument: 1)${selection} }`, variables: '{}' });
  return cases;
}

interface Answer {
  label: string;
  status: number;
  text: string;
}

/** Runs the cases `concurrency` at a time. */
async function send(cases: Case[], headers: Record<string, string>, concurrency = 4): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++];
      const res = await fetch(server.berth.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: `{"query":${JSON.stringify(c.document)},"variables":${c.variables}}`,
      });
      answers.push({ label: c.label, status: res.status, text: await res.text() });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
}

/** What is wrong with an answer, if anything. */
function fault(answer: Answer): string | null {
  if (answer.status >= 500) return `status ${answer.status}`;
  let body: { errors?: { message?: string; extensions?: { code?: unknown } }[] };
  try {
    body = JSON.parse(answer.text) as typeof body;
  } catch {
    return `not JSON: ${answer.text.slice(0, 200)}`;
  }
  for (const error of body.errors ?? []) {
    if (typeof error.extensions?.code !== 'string') return `an error without a code: ${error.message}`;
    if (error.extensions.code === 'INTERNAL_SERVER_ERROR') return `INTERNAL_SERVER_ERROR: ${error.message}`;
  }
  const leak = INTERNAL.exec(answer.text);
  if (leak) return `internal text "${leak[0]}": ${answer.text.slice(Math.max(0, leak.index - 150), leak.index + 150)}`;
  return null;
}

/** Every field of the root type, the ones that end sessions last (so the admin's ends only when the rest is done). */
function fieldsOf(operation: 'query' | 'mutation'): GraphQLField<unknown, unknown>[] {
  const root = operation === 'query' ? schema.getQueryType() : schema.getMutationType();
  const last = ['logout', 'changePassword'];
  return Object.values(root!.getFields()).sort((a, b) => Number(last.includes(a.name)) - Number(last.includes(b.name)));
}

test('no wrong, empty, huge, NUL, deeply nested or unknown argument gets an internal error or internal text', async () => {
  const admin = await server.adminAuth();
  const cases = (['query', 'mutation'] as const).flatMap((operation) => fieldsOf(operation).flatMap((f) => casesOf(operation, f)));
  expect(cases.length).toBeGreaterThan(4000);
  const answers = [
    ...(await send(cases, admin)),
    // anonymous callers reach only what comes before authentication: the cases of spoiled strings suffice
    ...(await send(cases.filter((c) => /: (NUL|huge|deep object)\)/.test(c.label)), {})),
  ];
  const faults = answers.flatMap((a) => {
    const found = fault(a);
    return found ? [`${a.label}: ${found}`] : [];
  });
  expect(faults).toEqual([]);
  // the server still answers
  expect((await server.gql(`{ serverInfo { version } }`)).data).toEqual({ serverInfo: { version: expect.any(String) } });
}, 180_000);
