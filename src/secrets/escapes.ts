/**
 * One layer of escaping removed from a text, with a map back to the text's own positions, so a
 * secret found in the decoded text can be redacted where it stands in the original. A hostile
 * upstream can hide a value by escaping it any number of times (JSON inside a JSON string,
 * `\u0070`, `%70`…); the redactor peels layer after layer and searches each.
 *
 * Decoded in one layer: the JSON escapes (`\" \\ \/ \b \f \n \r \t \uXXXX`), `\'` and `\xHH`
 * (Python and JavaScript string literals), and runs of percent escapes (`%HH…`, as UTF-8; bytes
 * that are not UTF-8 stay as written). A backslash or percent sign before anything else stays.
 * Linear in the text's length: one scan, one map entry per decoded character.
 */
import { Buffer } from 'node:buffer';

/** One decoded layer: its text, and where each of its characters came from in the text below. */
export interface DecodedLayer {
  readonly text: string;
  /**
   * `below[i]` is where character i of `text` starts in the text below, `below[text.length]` the
   * length of the text below: character i came from `below[i]` up to `below[i + 1]`.
   */
  readonly below: Int32Array;
}

const BACKSLASH = 0x5c;
const PERCENT = 0x25;
/** Character codes of the one-letter escapes, by the letter's code. */
const SIMPLE = new Map<number, number>(
  [
    ['"', '"'], ['\\', '\\'], ['/', '/'], ["'", "'"], ['b', '\b'], ['f', '\f'], ['n', '\n'], ['r', '\r'], ['t', '\t'],
  ].map(([letter, char]) => [(letter as string).charCodeAt(0), (char as string).charCodeAt(0)]),
);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The value of hex digit `code`, or -1. */
function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/** The value of the `count` hex digits at `at`, or -1. */
function hexAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = 0; i < count; i++) {
    const digit = hexDigit(text.charCodeAt(at + i));
    if (digit === -1) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** Builds one decoded layer: UTF-16 units and their sources, in typed arrays (no string per piece). */
class LayerBuilder {
  private readonly units: Uint16Array;
  readonly below: Int32Array;
  private length = 0;
  private copied = 0;
  private decodedAny = false;

  constructor(private readonly text: string) {
    this.units = new Uint16Array(text.length);
    this.below = new Int32Array(text.length + 1);
  }

  /** Copies the source text up to `end` unchanged. */
  copyUpTo(end: number): void {
    for (let i = this.copied; i < end; i++) {
      this.units[this.length] = this.text.charCodeAt(i);
      this.below[this.length++] = i;
    }
    if (end > this.copied) this.copied = end;
  }

  /** One decoded UTF-16 unit standing for the source from `start` to `end`. */
  unit(code: number, start: number, end: number): void {
    this.copyUpTo(start);
    this.units[this.length] = code;
    this.below[this.length++] = start;
    this.copied = end;
    this.decodedAny = true;
  }

  /** A decoded character of one or two units standing for the source from `start` to `end`. */
  char(char: string, start: number, end: number): void {
    this.unit(char.charCodeAt(0), start, end);
    // The second unit of an astral character shares its source (a match never splits a pair).
    if (char.length === 2) this.unit(char.charCodeAt(1), start, end);
  }

  finish(): DecodedLayer | undefined {
    if (!this.decodedAny) return undefined;
    this.copyUpTo(this.text.length);
    this.below[this.length] = this.text.length;
    const text = Buffer.from(this.units.buffer, this.units.byteOffset, this.length * 2).toString('utf16le');
    return { text, below: this.below.subarray(0, this.length + 1) };
  }
}

/**
 * `text` with one layer of escapes decoded, or undefined when it has none.
 * @example decodeLayer('a\\u0062c')?.text // 'abc'
 */
export function decodeLayer(text: string): DecodedLayer | undefined {
  const candidates = new Candidates(text);
  let next = candidates.from(0);
  if (next === -1) return undefined;
  const layer = new LayerBuilder(text);
  while (next !== -1) {
    const end = text.charCodeAt(next) === BACKSLASH ? backslashEscape(text, next, layer) : percentRun(text, next, layer);
    next = candidates.from(Math.max(end, next + 1));
  }
  return layer.finish();
}

/** Finds backslashes and percent signs left to right, each text searched once (linear overall). */
class Candidates {
  private slash = -2;
  private percent = -2;

  constructor(private readonly text: string) {}

  /** The next backslash or percent sign at or after `position` (never less than before), or -1. */
  from(position: number): number {
    if (this.slash !== -1 && this.slash < position) this.slash = this.text.indexOf('\\', position);
    if (this.percent !== -1 && this.percent < position) this.percent = this.text.indexOf('%', position);
    if (this.slash === -1) return this.percent;
    if (this.percent === -1) return this.slash;
    return Math.min(this.slash, this.percent);
  }
}

/** Decodes the backslash escape at `at` if it is one; returns where scanning goes on. */
function backslashEscape(text: string, at: number, layer: LayerBuilder): number {
  const kind = text.charCodeAt(at + 1);
  const simple = SIMPLE.get(kind);
  if (simple !== undefined) {
    layer.unit(simple, at, at + 2);
    return at + 2;
  }
  const digits = kind === 0x75 ? 4 : kind === 0x78 ? 2 : 0; // \u, \x
  const code = digits === 0 ? -1 : hexAt(text, at + 2, digits);
  if (code === -1) return at + 1;
  layer.unit(code, at, at + 2 + digits);
  return at + 2 + digits;
}

/**
 * Decodes the run of `%HH` escapes at `at` (if any); returns where scanning goes on. ASCII bytes
 * are decoded one by one, other bytes as UTF-8 sequences (left as written when they are not).
 */
function percentRun(text: string, at: number, layer: LayerBuilder): number {
  let end = at;
  let pending: number[] | undefined;
  let pendingAt = at;
  for (let byte = hexAt(text, end + 1, 2); text.charCodeAt(end) === PERCENT && byte !== -1; byte = hexAt(text, end + 1, 2)) {
    if (byte < 0x80) {
      if (pending) utf8Sequence(pending, pendingAt, layer);
      pending = undefined;
      layer.unit(byte, end, end + 3);
    } else {
      if (!pending) pendingAt = end;
      (pending ??= []).push(byte);
    }
    end += 3;
  }
  if (pending) utf8Sequence(pending, pendingAt, layer);
  return end === at ? at + 1 : end;
}

/** Decodes percent-escaped bytes (from `at`, three characters each) as UTF-8, if they are. */
function utf8Sequence(bytes: number[], at: number, layer: LayerBuilder): void {
  let decoded: string;
  try {
    decoded = utf8.decode(new Uint8Array(bytes));
  } catch {
    return; // not UTF-8: left as written
  }
  let offset = at;
  for (const char of decoded) {
    const code = char.codePointAt(0) as number;
    const size = 3 * (code < 0x800 ? 2 : code < 0x10000 ? 3 : 4);
    layer.char(char, offset, offset + size);
    offset += size;
  }
}
