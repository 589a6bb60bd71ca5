import { pino } from 'pino';
import { currentRequestScope } from './request-scope.js';

/** JSON lines on stdout through pino; errors under `err` carry their stack (logs only, never clients). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** What Berth logs through: pino's logger, or a test's recorder. */
export interface Logger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    // no pid or hostname on each line: the platform's log collector adds where a line came from
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    // `level: "warn"` rather than 40: readable by people and by log queries alike
    formatters: { level: (label) => ({ level: label }) },
    // every line written while serving a request names it
    mixin: () => {
      const scope = currentRequestScope();
      return scope ? { requestId: scope.requestId } : {};
    },
    // defence in depth: a credential is never logged on purpose, and one logged by mistake is masked
    redact: { paths: ['authorization', '*.authorization', 'password', '*.password', 'token', '*.token', '*["x-platz-token"]'], censor: '[redacted]' },
  });
}
