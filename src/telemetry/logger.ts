/**
 * The operational log (not the audit log): pino JSON lines on stderr, because stdout is the MCP
 * channel when serving over stdio. Level from `MCPGATE_LOG_LEVEL` (default `info`). Every record
 * is scrubbed of the secret values the redactor knows, whatever its call site put in it.
 */
import { pino, type Logger } from 'pino';
import type { Redactor } from '../secrets/redactor.js';

/** Creates the gateway's operational logger writing to stderr, scrubbing with `redactor` when given. */
export function createAppLogger(redactor?: Redactor, level = process.env.MCPGATE_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      name: 'mcpgate',
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(redactor ? { hooks: { logMethod: scrubbingHook(redactor) } } : {}),
    },
    pino.destination({ dest: 2, sync: false }),
  );
}

/** Scrubs a log call's arguments (merging object and message) before pino formats them; free with no value known. */
function scrubbingHook(redactor: Redactor) {
  return function logMethod(this: Logger, args: Parameters<Logger['info']>, method: (...args: unknown[]) => void): void {
    if (redactor.size === 0) return method.apply(this, args);
    const clean = (args as unknown[]).map((arg) => (typeof arg === 'string' ? redactor.scrub(arg) : typeof arg === 'object' && arg !== null ? redactor.scrubDeep(arg) : arg));
    method.apply(this, clean);
  };
}

/** A logger that drops everything (for commands that print their own output). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export type { Logger };
