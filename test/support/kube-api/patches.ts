type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * RFC 7386 merge patch: objects merge key by key, null removes, anything else (lists too) replaces.
 * Strategic merge patches get this too: the double knows no list merge keys.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value) as Json;
  }
  return result;
}

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

/** RFC 6902 JSON patch on a copy of `target`; a bad operation or a failed `test` throws with the reason. */
export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw new Error('a JSON patch is a list of operations');
  let doc = clone(target as Json);
  for (const { op, path, from, value } of operations as JsonPatchOperation[]) {
    const at = tokens(path);
    switch (op) {
      case 'add':
        doc = put(doc, at, clone(value as Json), 'insert');
        break;
      case 'replace':
        get(doc, at);
        doc = put(doc, at, clone(value as Json), 'set');
        break;
      case 'remove':
        doc = remove(doc, at);
        break;
      case 'move': {
        const moved = get(doc, tokens(from));
        doc = put(remove(doc, tokens(from)), at, moved, 'insert');
        break;
      }
      case 'copy':
        doc = put(doc, at, clone(get(doc, tokens(from))), 'insert');
        break;
      case 'test':
        if (!sameJson(get(doc, at), value)) throw new Error(`test failed at ${path}`);
        break;
      default:
        throw new Error(`unknown JSON patch operation ${JSON.stringify(op)}`);
    }
  }
  return doc;
}

/** A JSON pointer's reference tokens. */
function tokens(path: string | undefined): string[] {
  if (path === undefined) throw new Error('a path is missing');
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`invalid JSON pointer ${JSON.stringify(path)}`);
  return path
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function get(doc: Json, at: string[]): Json {
  let node = doc;
  for (const token of at) {
    const next = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (next === undefined) throw new Error(`no value at /${at.join('/')}`);
    node = next;
  }
  return node;
}

/** `doc` with `value` at `at`: inserted into a list (appended with `-`) or set over what was there. */
function put(doc: Json, at: string[], value: Json, mode: 'insert' | 'set'): Json {
  if (!at.length) return value;
  const parent = get(doc, at.slice(0, -1));
  const last = at[at.length - 1];
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new Error(`index out of range at /${at.join('/')}`);
    parent.splice(index, mode === 'insert' ? 0 : 1, value);
  } else if (isObject(parent)) parent[last] = value;
  else throw new Error(`no object or list at /${at.slice(0, -1).join('/')}`);
  return doc;
}

function remove(doc: Json, at: string[]): Json {
  get(doc, at);
  if (!at.length) return null;
  const parent = get(doc, at.slice(0, -1));
  const last = at[at.length - 1];
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete (parent as JsonObject)[last];
  return doc;
}

/**
 * The same JSON value, keys in any order. (util.isDeepStrictEqual would also compare prototypes,
 * which differ between objects made in jest's test context and in Node's own, e.g. by structuredClone.)
 */
export const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(canonical(a as Json)) === JSON.stringify(canonical(b as Json));

const clone = (value: Json): Json => JSON.parse(JSON.stringify(value)) as Json;

/** Keys sorted, so values compare whatever order their keys were written in. */
function canonical(value: Json): Json {
  if (Array.isArray(value)) return value.map(canonical);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
}

/**
 * Server-side apply without conflicts: the fields a manager applied last time and no longer applies
 * are removed from the live object, then the new configuration is merged in (lists replace whole).
 * Fields only other writers set stay. The real server tracks ownership per field and reports
 * conflicts between managers; the double does not.
 */
export function applyConfiguration(live: unknown, lastApplied: unknown, config: unknown): unknown {
  return mergePatch(withoutDropped(live, lastApplied, config), config);
}

/** `live` without the leaves of `before` that `now` no longer has; a map left empty by that goes too. */
function withoutDropped(live: unknown, before: unknown, now: unknown): unknown {
  if (!isObject(live) || !isObject(before)) return live;
  const result: JsonObject = { ...live };
  for (const key of Object.keys(before)) {
    const kept = isObject(now) ? now[key] : undefined;
    if (isObject(result[key]) && isObject(before[key])) {
      const inner = withoutDropped(result[key], before[key], kept) as JsonObject;
      if (kept === undefined && !Object.keys(inner).length) delete result[key];
      else result[key] = inner;
    } else if (kept === undefined) delete result[key];
  }
  return result;
}
