/**
 * A readable one-line summary of a call's arguments for the person asked to approve it: secrets
 * redacted (known secret values and secret-looking keys), long values cut.
 */
import { recordArguments } from '../audit/redact.js';
import type { Redactor } from '../secrets/redactor.js';

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

/**
 * Characters that let text chosen by the agent or an upstream rewrite what the person approving
 * sees: C0/C1 controls (newlines faking a line of the prompt, terminal escape sequences), line
 * separators and bidirectional overrides/isolates.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with those characters written as `\uXXXX` escapes, for prompts and terminals.
 * @example printable('a\u001b[2Kb') // 'a\\u001b[2Kb'
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
