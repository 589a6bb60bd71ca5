import { badRequest } from './status.js';

type Labelled = { metadata?: { labels?: Record<string, string> } };
export type Selector = (object: object) => boolean;

const KEY = String.raw`[A-Za-z0-9][-A-Za-z0-9_./]*`;
const VALUE = String.raw`[-A-Za-z0-9_.]*`;
const SET = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s+\(\s*(${VALUE}(?:\s*,\s*${VALUE})*)\s*\)$`);
const EQUALITY = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*(${VALUE})$`);
const EXISTS = new RegExp(String.raw`^(!?)\s*(${KEY})$`);

/**
 * A labelSelector: requirements joined by commas, all of which must hold: `a=b` (or `==`), `a!=b`
 * (true where `a` is missing too), `a`, `!a`, `a in (x,y)`, `a notin (x,y)`. Invalid → 400.
 */
export function labelSelector(text: string | null): Selector {
  const requirements = splitTopLevel(text).map((term): ((labels: Record<string, string>) => boolean) => {
    let m = SET.exec(term);
    if (m) {
      const [, key, op, list] = m;
      const values = new Set(list.split(',').map((v) => v.trim()));
      return op === 'in' ? (labels) => key in labels && values.has(labels[key]) : (labels) => !(key in labels && values.has(labels[key]));
    }
    if ((m = EQUALITY.exec(term))) {
      const [, key, op, value] = m;
      return op === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
    }
    if ((m = EXISTS.exec(term))) {
      const [, not, key] = m;
      return (labels) => key in labels !== Boolean(not);
    }
    throw badRequest(`unable to parse requirement: ${JSON.stringify(term)}`);
  });
  return (object) => {
    const labels = (object as Labelled).metadata?.labels ?? {};
    return requirements.every((holds) => holds(labels));
  };
}

/**
 * A fieldSelector: `path=value`, `path==value` or `path!=value` terms joined by commas, the path
 * dotted into the object (`metadata.name`, `metadata.namespace`, `status.phase`). The real server
 * allows a few fields per kind; the double allows any, a missing one reading as ''.
 */
export function fieldSelector(text: string | null): Selector {
  const terms = splitTopLevel(text).map((term) => {
    const m = /^([A-Za-z][\w.]*)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${term}'; can't understand '${term}'`);
    const [, path, op, value] = m;
    return (object: object) => (fieldValue(object, path) === value) === (op !== '!=');
  });
  return (object) => terms.every((holds) => holds(object));
}

function fieldValue(object: object, path: string): string {
  let value: unknown = object;
  for (const key of path.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value === undefined || value === null ? '' : String(value);
}

/** Terms split at commas, except those inside `in (…)` lists. */
function splitTopLevel(text: string | null): string[] {
  if (!text?.trim()) return [];
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if ((text[i] === ',' && depth === 0) || i === text.length) {
      terms.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  return terms;
}
