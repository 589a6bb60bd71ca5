import { badInput } from '../errors/domain-error.js';

/** The named groups a tag format may capture, each stored in the chart's parsed<Name> column. */
export const TAG_GROUPS = ['version', 'revision', 'branch', 'commit'] as const;

/** Long patterns are where catastrophic backtracking hides; Platz's formats are a few dozen characters. */
export const MAX_PATTERN_LENGTH = 500;
/** OCI tags are at most 128 characters, which also bounds the work of one match. */
export const MAX_TAG_LENGTH = 128;

export interface ParsedTag {
  parsedVersion: string | null;
  parsedRevision: string | null;
  parsedBranch: string | null;
  parsedCommit: string | null;
}

// an opening "(" that is not escaped (preceded by an even number of backslashes)
const UNESCAPED = String.raw`(?<=(?:^|[^\\])(?:\\\\)*)`;
const PYTHON_GROUP = new RegExp(String.raw`${UNESCAPED}\(\?P<`, 'g');
const PYTHON_BACKREF = new RegExp(String.raw`${UNESCAPED}\(\?P=(\w+)\)`, 'g');

/** Rust and Python spell named groups (?P<name>…) and back-references (?P=name); JavaScript wants (?<name>…) and \k<name>. */
export function toJsPattern(pattern: string): string {
  return pattern.replace(PYTHON_GROUP, '(?<').replace(PYTHON_BACKREF, '\\k<$1>');
}

/** The pattern as a whole-tag matcher, or BAD_USER_INPUT (field `field`) naming what is wrong with it. */
export function compileTagFormat(pattern: string, field = 'pattern'): RegExp {
  if (!pattern.trim()) throw badInput(field, 'The pattern must not be empty');
  if (pattern.length > MAX_PATTERN_LENGTH) throw badInput(field, `The pattern must be at most ${MAX_PATTERN_LENGTH} characters`);
  let regex: RegExp;
  let names: string[];
  try {
    const js = toJsPattern(pattern);
    regex = new RegExp(`^(?:${js})$`);
    // a trailing empty alternative matches '', and the match lists every named group of the pattern
    names = Object.keys(new RegExp(`(?:${js})|`).exec('')?.groups ?? {});
  } catch (err) {
    throw badInput(field, `The pattern is not a valid regular expression: ${(err as Error).message}`);
  }
  if (!names.length) throw badInput(field, `The pattern must capture at least one named group: ${TAG_GROUPS.join(', ')}`);
  const unknown = names.filter((n) => !(TAG_GROUPS as readonly string[]).includes(n));
  if (unknown.length) throw badInput(field, `Unknown named group(s) ${unknown.join(', ')}; allowed: ${TAG_GROUPS.join(', ')}`);
  return regex;
}

/**
 * Parses a chart tag with the first format (in the order given) whose pattern matches the whole tag.
 * Stored patterns were validated on creation; one that no longer compiles is skipped.
 */
export function parseTag<F extends { pattern: string }>(formats: readonly F[], tag: string): { format: F; parsed: ParsedTag } | null {
  if (tag.length > MAX_TAG_LENGTH) return null;
  for (const format of formats) {
    let regex: RegExp;
    try {
      regex = compileTagFormat(format.pattern);
    } catch {
      continue;
    }
    const groups = regex.exec(tag)?.groups;
    if (!groups) continue;
    return {
      format,
      parsed: {
        parsedVersion: groups.version ?? null,
        parsedRevision: groups.revision ?? null,
        parsedBranch: groups.branch ?? null,
        parsedCommit: groups.commit ?? null,
      },
    };
  }
  return null;
}
