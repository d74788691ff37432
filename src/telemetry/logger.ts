/**
 * The operational log (not the audit log), on stderr because stdout is the MCP channel when
 * serving over stdio. Level from `MCPGATE_LOG_LEVEL` (default `info`). Format: pino JSON lines for
 * machines (the default when stderr is not a terminal: an agent's pipe, a container, a service
 * manager), or one coloured line per entry for people (the default on a terminal), via
 * pino-pretty, which is loaded only then. `--log-format` / `MCPGATE_LOG_FORMAT` choose explicitly.
 * Every record is scrubbed of the secret values the redactor knows, whatever its call site put in it.
 */
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import { UsageError } from '../errors.js';
import type { Redactor } from '../secrets/redactor.js';

/** How operational log lines are written. */
export type LogFormat = 'pretty' | 'json';

const FORMATS: readonly string[] = ['pretty', 'json'];

/**
 * The log format: the flag, else `MCPGATE_LOG_FORMAT`, else pretty on a terminal and JSON
 * otherwise (pure).
 */
export function logFormat(flag: string | undefined, env: NodeJS.ProcessEnv, stderrIsTTY: boolean): LogFormat {
  const chosen = flag ?? (env.MCPGATE_LOG_FORMAT || undefined);
  if (chosen === undefined) return stderrIsTTY ? 'pretty' : 'json';
  if (!FORMATS.includes(chosen)) throw new UsageError(`${flag === undefined ? 'MCPGATE_LOG_FORMAT' : '--log-format'} must be pretty or json, not "${chosen}"`);
  return chosen as LogFormat;
}

/** pino-pretty's stream, loaded on first use only (JSON logging never pays for it). */
function prettyStream(colorize: boolean): DestinationStream {
  const require = createRequire(import.meta.url);
  const pretty = require('pino-pretty') as (options: Record<string, unknown>) => DestinationStream;
  return pretty({
    destination: 2,
    sync: false,
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    // Only Error objects get lines of their own; an `error` string stays on the entry's line.
    errorLikeObjectKeys: ['err'],
  });
}

/** Creates the gateway's operational logger writing to stderr, scrubbing with `redactor` when given. */
export function createAppLogger(options: { level?: string; format?: LogFormat; redactor?: Redactor } = {}): Logger {
  const level = options.level ?? process.env.MCPGATE_LOG_LEVEL ?? 'info';
  const format = options.format ?? logFormat(undefined, process.env, process.stderr.isTTY === true);
  const colorize = format === 'pretty' && process.stderr.isTTY === true && !process.env.NO_COLOR;
  return pino(
    {
      name: 'mcpgate',
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(options.redactor ? { hooks: { logMethod: scrubbingHook(options.redactor) } } : {}),
    },
    format === 'pretty' ? prettyStream(colorize) : pino.destination({ dest: 2, sync: false }),
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
