import { isDeepStrictEqual } from 'node:util';
import { isJsonObject } from '../util/json.js';

/** Dotted path ("" for the root) → [old, new]; a missing side is null. Platz's JsonDiff (db/src/json_diff.rs). */
export type JsonDiff = Record<string, [unknown, unknown]>;


export function jsonDiff(old: unknown, next: unknown): JsonDiff {
  if (isDeepStrictEqual(old, next)) return {};
  // objects are compared key by key; anything else (arrays included) changes as a whole
  if (!isJsonObject(old) || !isJsonObject(next)) return { '': [old ?? null, next ?? null] };
  const diff: JsonDiff = {};
  for (const [key, oldValue] of Object.entries(old)) {
    if (!(key in next)) {
      diff[key] = [oldValue, null];
      continue;
    }
    for (const [path, pair] of Object.entries(jsonDiff(oldValue, next[key]))) diff[path ? `${key}.${path}` : key] = pair;
  }
  for (const [key, newValue] of Object.entries(next)) if (!(key in old)) diff[key] = [null, newValue];
  return diff;
}
