import type { Logger } from '../../src/logging/logger.js';

/** A logger that keeps every line, so a test can see what start-up and shutdown did. */
export function recordingLogger(): Logger & { lines: { level: string; msg: string; fields: object }[] } {
  const lines: { level: string; msg: string; fields: object }[] = [];
  const at = (level: string) => (fields: object, msg: string) => void lines.push({ level, msg, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
