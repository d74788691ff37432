/**
 * Keeps resolved secret values out of everything the gateway writes and forwards: what every
 * upstream sends towards the client (results, errors, lists, notifications, requests), logs,
 * audit records and telemetry. Upstreams register the values their `${…}` references resolved
 * to; every registered value is looked for in everything, whichever upstream it belongs to.
 *
 * What is recognised (docs/secrets.md "No leaks"): a value in decoded text (JSON strings and keys
 * as parsed), behind any number of layers of JSON, `\u`/`\x` or percent escaping (escapes.ts),
 * each line of a multi-line value, and its base64 and hex encodings (secretForms.ts).
 */
import { MAX_JSON_DEPTH } from '../jsonDepth.js';
import { decodeLayer, type DecodedLayer } from './escapes.js';
import { formsOf, MIN_SECRET_LENGTH } from './secretForms.js';

export { MIN_SECRET_LENGTH };

/** What a scrubbed secret, or the value of a secret-looking key, is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * Nesting deeper than this is copied as a placeholder (bounds recursion on hostile input). Above
 * {@link MAX_JSON_DEPTH}: a message let in is always copied whole.
 */
const MAX_DEPTH = MAX_JSON_DEPTH + 64;

/** Layers of escaping peeled off a text (each one doubles the backslashes of the one below). */
const MAX_LAYERS = 8;

/** Options of {@link jsonSafeCopy}. */
export interface CopyOptions {
  /** Applied to every string value. */
  readonly mapString?: (value: string) => string;
  /** Applied to every object key. */
  readonly mapKey?: (key: string) => string;
  /** When true for a key, that key's value (whatever it is) becomes `[REDACTED]`. */
  readonly redactKey?: (key: string) => boolean;
  /** Throw {@link TooDeepError} instead of copying nesting past the limit as a placeholder. */
  readonly strictDepth?: boolean;
}

/** A value nested deeper than a copy may go (only with `strictDepth`). */
export class TooDeepError extends Error {
  constructor() {
    super(`nested deeper than ${MAX_DEPTH} levels`);
    this.name = 'TooDeepError';
  }
}

/**
 * A deep copy with JSON's data model that never throws (unless `strictDepth`): cycles become
 * `"[Circular]"`, nesting past {@link MAX_JSON_DEPTH} + 64 levels `"[Too deep]"`, unreadable properties `"[Unreadable]"`; `toJSON` is honoured, bigints
 * become strings, Errors `{name, message}`, functions and symbols are dropped (null in arrays),
 * non-finite numbers become null. Object keys are kept as they are unless `mapKey` maps them.
 * @example jsonSafeCopy({ a: 1n, b: () => 1 }) // { a: '1' }
 */
export function jsonSafeCopy(value: unknown, options: CopyOptions = {}): unknown {
  return copy(value, options, new Set(), 0);
}

function copy(value: unknown, options: CopyOptions, ancestors: Set<object>, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return options.mapString ? options.mapString(value) : value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return null;
  if (ancestors.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) {
    if (options.strictDepth) throw new TooDeepError();
    return '[Too deep]';
  }
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return value.map((item) => copy(item, options, ancestors, depth + 1) ?? null);
    }
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      return copy((value as { toJSON: () => unknown }).toJSON(), options, ancestors, depth + 1);
    }
    const source: object = value instanceof Error ? { name: value.name, message: value.message } : value;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(source)) {
      let item: unknown;
      if (options.redactKey?.(key)) {
        item = REDACTED;
      } else {
        try {
          item = copy((source as Record<string, unknown>)[key], options, ancestors, depth + 1);
        } catch (error) {
          if (error instanceof TooDeepError) throw error;
          item = '[Unreadable]';
        }
      }
      if (item !== undefined) defineData(out, options.mapKey ? options.mapKey(key) : key, item);
    }
    return out;
  } catch (error) {
    if (error instanceof TooDeepError) throw error;
    return '[Unreadable]';
  } finally {
    ancestors.delete(value);
  }
}

/** Sets `out[key]`; defineProperty, not assignment: a `__proto__` key must stay data, not become a prototype. */
function defineData(out: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The set of known secret values, with a count per value so that two upstreams sharing a secret
 * can each register and unregister it independently.
 * @example
 * const redactor = new Redactor();
 * redactor.add(['ghp_abcdef123']);
 * redactor.scrub('token=ghp_abcdef123'); // 'token=[REDACTED]'
 * redactor.scrub('token=ghp_\\u0061bcdef123'); // 'token=[REDACTED]'
 */
export class Redactor {
  private readonly counts = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  /** One alternation of every form of every value, longest first; rebuilt lazily after changes. */
  private pattern: RegExp | undefined;
  /** Whether a form could be the text of a JSON number (then numbers are checked too). */
  private numeric = false;

  /** @param values registered at once (see {@link add}) */
  constructor(values: Iterable<string> = []) {
    this.add(values);
  }

  /** Registers values; those shorter than {@link MIN_SECRET_LENGTH} are ignored. */
  add(values: Iterable<string>): void {
    let changed = false;
    for (const value of values) {
      if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) continue;
      const count = this.counts.get(value) ?? 0;
      this.counts.set(value, count + 1);
      if (count === 0) changed = true;
    }
    if (changed) this.changed();
  }

  /** Unregisters values added before; a value added twice stays known until removed twice. */
  remove(values: Iterable<string>): void {
    let changed = false;
    for (const value of values) {
      const count = this.counts.get(value);
      if (count === undefined) continue;
      if (count > 1) {
        this.counts.set(value, count - 1);
      } else {
        this.counts.delete(value);
        changed = true;
      }
    }
    if (changed) this.changed();
  }

  /** How many distinct values are known. */
  get size(): number {
    return this.counts.size;
  }

  /** Calls `listener` whenever the set of known values changes; returns a function that stops it. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Replaces every known value in `text` with `[REDACTED]`, also where it stands escaped (one or
   * more layers of JSON, `\u`, `\x` or percent escapes: the whole escaped spelling is replaced);
   * returns `text` itself when there is none.
   */
  scrub(text: string): string {
    if (this.counts.size === 0 || text.length < MIN_SECRET_LENGTH) return text;
    const pattern = (this.pattern ??= this.compile());
    const spans: number[] = [];
    collect(pattern, text, [], spans);
    const layers: DecodedLayer[] = [];
    for (let below = text; layers.length < MAX_LAYERS; ) {
      const layer = decodeLayer(below);
      if (!layer) break;
      layers.push(layer);
      collect(pattern, layer.text, layers, spans);
      below = layer.text;
    }
    return spans.length === 0 ? text : redactSpans(text, spans);
  }

  /**
   * `value` (a parsed JSON message or part of one) with every string and every object key
   * scrubbed, at every level; the very same value when nothing needed scrubbing, otherwise a copy
   * that shares the parts that did not. Cheap when no value is known (one branch).
   */
  scrubJson<T>(value: T): T {
    if (this.counts.size === 0) return value;
    this.pattern ??= this.compile();
    return this.walk(value, 0) as T;
  }

  /**
   * A JSON-safe copy of `value` (see {@link jsonSafeCopy}) with every string and key scrubbed.
   * `redactKey` additionally redacts the values of the keys it selects.
   */
  scrubDeep(value: unknown, options: { readonly redactKey?: (key: string) => boolean } = {}): unknown {
    const scrub = (text: string) => this.scrub(text);
    return jsonSafeCopy(value, { mapString: scrub, mapKey: scrub, ...options });
  }

  /**
   * `text` scrubbed, for text that was cut before it could be scrubbed whole (a capped line): a
   * trailing piece of at least 4 characters that begins a known value is redacted too.
   */
  scrubCut(text: string): string {
    const clean = this.scrub(text);
    if (this.counts.size === 0) return clean;
    for (const value of this.counts.keys()) {
      for (let length = Math.min(value.length - 1, clean.length); length >= 4; length--) {
        if (clean.endsWith(value.slice(0, length))) return `${clean.slice(0, clean.length - length)}${REDACTED}`;
      }
    }
    return clean;
  }

  private changed(): void {
    this.pattern = undefined;
    for (const listener of this.listeners) listener();
  }

  private walk(value: unknown, depth: number): unknown {
    switch (typeof value) {
      case 'string':
        return this.scrub(value);
      case 'number':
        return this.numeric && this.scrub(String(value)) !== String(value) ? REDACTED : value;
      case 'object':
        break;
      default:
        return value;
    }
    if (value === null) return value;
    if (depth >= MAX_DEPTH) return '[Too deep]'; // messages are refused before this deep; a guard only
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const clean = this.walk(item, depth + 1);
        if (clean !== item) (out ??= value.slice())[i] = clean;
      }
      return out ?? value;
    }
    const source = value as Record<string, unknown>;
    const keys = Object.keys(source);
    let out: Record<string, unknown> | undefined;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const item = source[key];
      const cleanKey = this.scrub(key);
      const clean = this.walk(item, depth + 1);
      if (!out && (cleanKey !== key || clean !== item)) {
        out = {};
        for (let j = 0; j < i; j++) defineData(out, keys[j] as string, source[keys[j] as string]);
      }
      if (out) defineData(out, cleanKey, clean);
    }
    return out ?? value;
  }

  private compile(): RegExp {
    const forms = new Set<string>();
    for (const value of this.counts.keys()) for (const form of formsOf(value)) forms.add(form);
    this.numeric = [...forms].some((form) => /^[-+0-9.eE]+$/.test(form));
    // Longest first: where one value contains another, the whole longer one is redacted. One pass
    // also means a replacement is never scanned again (a value such as "REDACT" stays harmless).
    const alternatives = [...forms].sort((a, b) => b.length - a.length).map((form) => form.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'));
    return new RegExp(alternatives.join('|'), 'g');
  }
}

/**
 * Adds to `spans` (flat start/end pairs in the original text) every match of `pattern` in `text`,
 * the text of the last of `layers` (or the original text when there are none).
 */
function collect(pattern: RegExp, text: string, layers: readonly DecodedLayer[], spans: number[]): void {
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    let start = match.index;
    let end = start + match[0].length;
    for (let i = layers.length - 1; i >= 0; i--) {
      const { below } = layers[i] as DecodedLayer;
      start = below[start] as number;
      end = below[end] as number;
    }
    spans.push(start, end);
  }
}

/** `text` with the (possibly overlapping) spans replaced by one `[REDACTED]` per merged run. */
function redactSpans(text: string, spans: number[]): string {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < spans.length; i += 2) pairs.push([spans[i] as number, spans[i + 1] as number]);
  pairs.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [start, end] of pairs) {
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  let out = '';
  let copied = 0;
  for (const [start, end] of merged) {
    out += `${text.slice(copied, start)}${REDACTED}`;
    copied = end;
  }
  return out + text.slice(copied);
}
