import type { Options } from '@mikro-orm/core';

/**
 * The event hub's own statements: its timer (every 2 s) reads the event log through the same ORM,
 * so a poll can land inside a request being counted. It reads only `events` (and `grant_versions`,
 * for subscribers' grants; pruning deletes from `events`), which no query or login request reads.
 *
 * Why by table rather than by request: the request's statements cannot be told apart at the source.
 * Its hot paths (batch loaders, the grants statement, authentication) run raw SQL through
 * getConnection().execute, which does not carry the entity manager's logger context, and on
 * PostgreSQL the hub and the request draw connections from the same pool. Dropping the two tables
 * the hub reads removes exactly the poll and nothing a counted request does.
 */
const EVENT_LOG = /\b(from|join|into|update)\s+"?(events|grant_versions)\b/i;

export interface SqlLog {
  /** pass to startTestServer's options */
  ormOverrides: Partial<Options>;
  /** forgets what was logged so far */
  clear(): void;
  /** the statements logged since clear(), as MikroORM logs them, without the event hub's */
  statements(): string[];
}

/** Every SQL statement the server runs, as MikroORM logs it, for tests that count a request's statements. */
export function sqlLog(): SqlLog {
  const logged: string[] = [];
  return {
    ormOverrides: { debug: ['query'], logger: (message: string) => logged.push(message) },
    clear: () => {
      logged.length = 0;
    },
    statements: () => logged.filter((s) => !EVENT_LOG.test(s)),
  };
}
