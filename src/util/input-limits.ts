import { badInput } from '../errors/domain-error.js';

/**
 * The limits every input obeys, whichever API it comes through (README, "Input limits"). Each
 * adapter applies them to every string, JSON value and date it receives, before any service runs:
 * PostgreSQL refuses NUL characters in text and jsonb, half a UTF-16 surrogate pair in jsonb (the
 * audit trail stores names as JSON) and years outside 1 to 9999 as ISO text; an indexed text column
 * refuses values over about 2,700 bytes; the ORM walks JSON recursively.
 */
export const INPUT_LIMITS = {
  /** names, identifiers, e-mail addresses, tokens and other one-line values: most of them are indexed */
  line: 255,
  /** descriptions, comments, URLs, patterns, passwords, page cursors */
  text: 10_000,
  /** kubeconfigs, secret contents, and every JSON value as JSON text (the HTTP body limit, 1 MiB) */
  document: 1024 * 1024,
  /** objects and arrays inside one JSON value */
  jsonDepth: 32,
  /** dates: the years PostgreSQL reads back as ISO 8601 */
  earliestDate: '0001-01-01T00:00:00.000Z',
  latestDate: '9999-12-31T23:59:59.999Z',
} as const;

const EARLIEST = Date.parse(INPUT_LIMITS.earliestDate);
const LATEST = Date.parse(INPUT_LIMITS.latestDate);

/** The fields allowed more than a line, by input field (or argument) name; every other string is a line. */
const LONGER: Record<string, number> = {
  description: INPUT_LIMITS.text,
  descriptionMd: INPUT_LIMITS.text,
  comments: INPUT_LIMITS.text,
  reason: INPUT_LIMITS.text,
  linkUrl: INPUT_LIMITS.text,
  grafanaUrl: INPUT_LIMITS.text,
  pattern: INPUT_LIMITS.text,
  password: INPUT_LIMITS.text,
  currentPassword: INPUT_LIMITS.text,
  newPassword: INPUT_LIMITS.text,
  // an OIDC provider's authorization code has no length bound of its own
  code: INPUT_LIMITS.text,
  authCode: INPUT_LIMITS.text,
  after: INPUT_LIMITS.text,
  before: INPUT_LIMITS.text,
  kubeconfig: INPUT_LIMITS.document,
  // Porter's name for a kubeconfig
  rawKubeConfig: INPUT_LIMITS.document,
  contents: INPUT_LIMITS.document,
};

/** The longest string a field of this name takes. */
export const maxLength = (name: string): number => LONGER[name] ?? INPUT_LIMITS.line;

const NUL = '\u0000';
/** half a surrogate pair: a string that is not Unicode text (JSON can carry one, escaped) */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text PostgreSQL stores as it is: no NUL character, no lone surrogate. */
function checkCharacters(value: string, field: string): void {
  if (value.includes(NUL)) throw badInput(field, `${field} must not contain a NUL character`);
  if (LONE_SURROGATE.test(value)) throw badInput(field, `${field} must be Unicode text (it holds half a surrogate pair)`);
}

/** A string input: only characters PostgreSQL stores, at most `max` (maxLength of its name). `field` is the input's path (input.name, filter.email). */
export function checkString(value: string, field: string, max: number): void {
  checkCharacters(value, field);
  if (value.length > max) throw badInput(field, `${field} must be at most ${max.toLocaleString('en-US')} characters`);
}

/** A JSON input: nested at most jsonDepth levels, keys and strings as checkString's, at most a document long as JSON text. */
export function checkJson(value: unknown, field: string): void {
  checkJsonNode(value, field, 0);
  // the depth is bounded now, so serializing cannot overflow the stack
  if ((JSON.stringify(value) ?? '').length > INPUT_LIMITS.document) {
    throw badInput(field, `${field} must be at most ${INPUT_LIMITS.document.toLocaleString('en-US')} characters as JSON`);
  }
}

function checkJsonNode(value: unknown, field: string, depth: number): void {
  if (typeof value === 'string') {
    checkCharacters(value, field);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  // recursion stops one level past the limit, so a value nested thousands deep is refused, not overflowed on
  if (depth >= INPUT_LIMITS.jsonDepth) throw badInput(field, `${field} is nested more than ${INPUT_LIMITS.jsonDepth} levels deep`);
  if (Array.isArray(value)) {
    for (const item of value) checkJsonNode(item, field, depth + 1);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    checkCharacters(key, field);
    checkJsonNode(item, field, depth + 1);
  }
}

/** A date input: within the years 1 to 9999. */
export function checkDate(value: Date, field: string): void {
  const time = value.getTime();
  if (!(time >= EARLIEST && time <= LATEST)) throw badInput(field, `${field} must be a date in the years 1 to 9999`);
}
