/**
 * Keeps resolved secret values out of everything the gateway writes: logs, audit records, error
 * messages relayed to clients. Upstreams register the values their `${…}` references resolved to
 * and unregister them when their connection goes away.
 */

/** What a scrubbed secret, or the value of a secret-looking key, is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * Values shorter than this are not registered: a secret reference that resolves to "1", "true" or
 * "prod" would otherwise redact those characters everywhere, making every log line unreadable,
 * and a value that short protects nothing anyway.
 */
export const MIN_SECRET_LENGTH = 6;

/** Nesting deeper than this is recorded as a placeholder (bounds recursion on hostile input). */
const MAX_DEPTH = 64;

/** Options of {@link jsonSafeCopy}. */
export interface CopyOptions {
  /** Applied to every string value (never to keys). */
  readonly mapString?: (value: string) => string;
  /** When true for a key, that key's value (whatever it is) becomes `[REDACTED]`. */
  readonly redactKey?: (key: string) => boolean;
}

/**
 * A deep copy with JSON's data model that never throws: cycles become `"[Circular]"`, nesting past
 * 64 levels `"[Too deep]"`, unreadable properties `"[Unreadable]"`; `toJSON` is honoured, bigints
 * become strings, Errors `{name, message}`, functions and symbols are dropped (null in arrays),
 * non-finite numbers become null. Object keys are kept as they are.
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
  if (depth >= MAX_DEPTH) return '[Too deep]';
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
        } catch {
          item = '[Unreadable]';
        }
      }
      // defineProperty, not assignment: a `__proto__` key must stay data, not become a prototype.
      if (item !== undefined) Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
    }
    return out;
  } catch {
    return '[Unreadable]';
  } finally {
    ancestors.delete(value);
  }
}

/**
 * The set of known secret values, with a count per value so that two upstreams sharing a secret
 * can each register and unregister it independently.
 * @example
 * const redactor = new Redactor();
 * redactor.add(['ghp_abcdef123']);
 * redactor.scrub('token=ghp_abcdef123'); // 'token=[REDACTED]'
 */
export class Redactor {
  private readonly counts = new Map<string, number>();
  /** One alternation of every form of every value, longest first; rebuilt lazily after changes. */
  private pattern: RegExp | undefined;

  /** @param values registered at once (see {@link add}) */
  constructor(values: Iterable<string> = []) {
    this.add(values);
  }

  /** Registers values; those shorter than {@link MIN_SECRET_LENGTH} are ignored. */
  add(values: Iterable<string>): void {
    for (const value of values) {
      if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) continue;
      this.counts.set(value, (this.counts.get(value) ?? 0) + 1);
      this.pattern = undefined;
    }
  }

  /** Unregisters values added before; a value added twice stays known until removed twice. */
  remove(values: Iterable<string>): void {
    for (const value of values) {
      const count = this.counts.get(value);
      if (count === undefined) continue;
      if (count > 1) this.counts.set(value, count - 1);
      else this.counts.delete(value);
      this.pattern = undefined;
    }
  }

  /** How many distinct values are known. */
  get size(): number {
    return this.counts.size;
  }

  /** Replaces every known value in `text` with `[REDACTED]`; returns `text` itself when there is none. */
  scrub(text: string): string {
    if (this.counts.size === 0 || text.length < MIN_SECRET_LENGTH) return text;
    this.pattern ??= this.compile();
    return text.replace(this.pattern, REDACTED);
  }

  /**
   * A JSON-safe copy of `value` (see {@link jsonSafeCopy}) with every string scrubbed; object keys
   * are kept. `redactKey` additionally redacts the values of the keys it selects.
   */
  scrubDeep(value: unknown, options: { readonly redactKey?: (key: string) => boolean } = {}): unknown {
    return jsonSafeCopy(value, { mapString: (text) => this.scrub(text), ...options });
  }

  private compile(): RegExp {
    // A secret also shows up JSON-escaped inside serialised text, and percent-encoded in URLs.
    const forms = new Set<string>();
    for (const value of this.counts.keys()) {
      forms.add(value);
      forms.add(JSON.stringify(value).slice(1, -1));
      forms.add(encodeURIComponent(value));
    }
    // Longest first: where one value contains another, the whole longer one is redacted. One pass
    // also means a replacement is never scanned again (a value such as "REDACT" stays harmless).
    const alternatives = [...forms].sort((a, b) => b.length - a.length).map((form) => form.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'));
    return new RegExp(alternatives.join('|'), 'g');
  }
}
