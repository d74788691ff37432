/**
 * A readable one-line summary of a call's arguments for the person asked to approve it: secrets
 * redacted (known secret values and secret-looking keys), long values cut.
 */
import { recordArguments } from '../audit/redact.js';
import type { Redactor } from '../secrets/redactor.js';
import { printable } from '../printable.js';

const MAX_SUMMARY = 600;
const MAX_VALUE = 160;

/**
 * @example summariseArguments({ path: '/tmp/a', token: 'x' }, redactor) // 'path="/tmp/a", token="[REDACTED]"'
 */
export function summariseArguments(args: Readonly<Record<string, unknown>> | undefined, redactor: Redactor): string {
  if (!args || Object.keys(args).length === 0) return '(none)';
  const recorded = recordArguments(args, 'redacted', { maxBytes: 4096, redactor }).arguments;
  if (recorded === null || typeof recorded !== 'object' || Array.isArray(recorded)) return cut(printable(JSON.stringify(recorded) ?? ''), MAX_SUMMARY);
  const parts = Object.entries(recorded as Record<string, unknown>).map(([key, value]) => `${printable(key)}=${cut(printable(JSON.stringify(value) ?? 'undefined'), MAX_VALUE)}`);
  return cut(parts.join(', '), MAX_SUMMARY);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
