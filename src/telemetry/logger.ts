/**
 * The operational log (not the audit log): pino JSON lines on stderr, because stdout is the MCP
 * channel when serving over stdio. Level from `MCPGATE_LOG_LEVEL` (default `info`).
 */
import { pino, type Logger } from 'pino';

/** Creates the gateway's operational logger writing to stderr. */
export function createAppLogger(level = process.env.MCPGATE_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    { name: 'mcpgate', level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger that drops everything (for commands that print their own output). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export type { Logger };
