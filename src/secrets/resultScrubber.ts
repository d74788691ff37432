/**
 * Redacts secret values an upstream echoes back (a tool that prints its environment, an error
 * quoting a header). Only applied to upstreams that hold resolved references, so the common path
 * pays nothing; for those, a clean result costs one scan of its text and is forwarded unchanged.
 */
import { WireError } from '../errors.js';
import { rawResultLine } from '../jsonLines.js';
import type { Redactor } from './redactor.js';

/**
 * `result` itself when it contains no known secret value, else a copy with them redacted.
 * @example scrubResult(redactor, { content: [{ type: 'text', text: 'TOKEN=ghp_abcdef123' }] })
 */
export function scrubResult<T extends object>(redactor: Redactor, result: T): T {
  if (redactor.size === 0) return result;
  // The upstream's own line (stdio) holds every string JSON-escaped; the redactor matches that form too.
  const text = rawResultLine(result) ?? JSON.stringify(result);
  if (text === undefined || redactor.scrub(text) === text) return result;
  return redactor.scrubDeep(result) as T;
}

/** `error` with known secret values redacted from its message and data (a new WireError only when needed). */
export function scrubWireError(redactor: Redactor, error: WireError): WireError {
  if (redactor.size === 0) return error;
  const message = redactor.scrub(error.message);
  const data = error.data === undefined ? undefined : redactor.scrubDeep(error.data);
  if (message === error.message && JSON.stringify(data) === JSON.stringify(error.data)) return error;
  return new WireError(error.code, message, data);
}
