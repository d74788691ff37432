/**
 * Fits recorded arguments into `audit.maxArgumentBytes` without letting padding hide the argument
 * that mattered: every key is kept as long as possible (long strings are shortened first, then
 * deep containers summarised), only an object with more keys than the cap can name loses some,
 * and the record says which paths were cut (`arguments_cut`), docs/audit.md.
 */
import { Buffer } from 'node:buffer';

/** The argument fields a capped record carries. */
export interface CappedArguments {
  arguments: unknown;
  /** Set when the recorded arguments were cut to fit. */
  arguments_truncated?: boolean;
  /** The paths (`options.body`, `items[3]`, `["odd key"]`) whose values were shortened, summarised or left out. */
  arguments_cut?: string[];
}

/** Strings are never cut shorter than this while trying to fit the cap. */
const MIN_STRING_KEEP = 16;
/** Paths listed in `arguments_cut` (then one "…and N more" entry). */
const MAX_CUT_PATHS = 32;
/** Characters of one listed path. */
const MAX_PATH_CHARS = 200;

interface Limits {
  /** Strings longer than this are shortened. */
  readonly string: number;
  /** Containers at this depth or deeper are summarised (the arguments object is depth 0). */
  readonly depth: number;
}

/** Paths cut so far (the first {@link MAX_CUT_PATHS}) and how many more. */
class CutPaths {
  readonly paths: string[] = [];
  more = 0;

  note(path: string): void {
    if (this.paths.length < MAX_CUT_PATHS) this.paths.push(path === '' ? '(all)' : path.slice(0, MAX_PATH_CHARS));
    else this.more++;
  }

  list(): string[] {
    return this.more ? [...this.paths, `…and ${this.more} more`] : this.paths;
  }
}

/**
 * `value` (a JSON-safe copy) fitted into `maxBytes` of JSON.
 * @example capArguments({ pad: 'x'.repeat(50000), command: 'rm -rf ~' }, 128)
 * // { arguments: { pad: 'xx…(64)…[truncated 49936 chars]', command: 'rm -rf ~' }, arguments_truncated: true, arguments_cut: ['pad'] }
 */
export function capArguments(value: unknown, maxBytes: number): CappedArguments {
  if (fits(value, maxBytes)) return { arguments: value };
  // 1. Every key kept; long strings shortened, ever shorter.
  for (let limit = Math.floor(maxBytes / 2); limit >= MIN_STRING_KEEP; limit = Math.floor(limit / 2)) {
    const attempt = capped(value, { string: limit, depth: Infinity }, maxBytes);
    if (attempt) return attempt;
  }
  // 2. Every key of the upper levels kept; deeper containers summarised, ever shallower.
  for (let depth = Math.floor(depthOf(value) / 2); depth >= 1; depth = Math.floor(depth / 2)) {
    const attempt = capped(value, { string: MIN_STRING_KEEP, depth }, maxBytes);
    if (attempt) return attempt;
  }
  // 3. More keys (or items) than the cap can name: as many as fit, in order; the rest are listed as cut.
  return firstMembers(value, maxBytes);
}

function capped(value: unknown, limits: Limits, maxBytes: number): CappedArguments | undefined {
  const cut = new CutPaths();
  const shortened = shorten(value, limits, '', 0, cut);
  return fits(shortened, maxBytes) ? { arguments: shortened, arguments_truncated: true, arguments_cut: cut.list() } : undefined;
}

function firstMembers(value: unknown, maxBytes: number): CappedArguments {
  const cut = new CutPaths();
  const summarised = shorten(value, { string: MIN_STRING_KEEP, depth: 1 }, '', 0, cut);
  if (typeof summarised !== 'object' || summarised === null) {
    cut.note('');
    return { arguments: summary(value), arguments_truncated: true, arguments_cut: cut.list() };
  }
  const array = Array.isArray(summarised);
  const out: Record<string, unknown> | unknown[] = array ? [] : {};
  let size = 2;
  for (const [key, item] of Object.entries(summarised)) {
    const member = Buffer.byteLength(JSON.stringify(item)) + 1 + (array ? 0 : Buffer.byteLength(JSON.stringify(key)) + 1);
    if (size + member > maxBytes) {
      cut.note(array ? `[${key}]` : pathOf('', key));
      continue;
    }
    size += member;
    if (Array.isArray(out)) out.push(item);
    else Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
  }
  return { arguments: out, arguments_truncated: true, arguments_cut: cut.list() };
}

function shorten(value: unknown, limits: Limits, path: string, depth: number, cut: CutPaths): unknown {
  if (typeof value === 'string') {
    const short = cutString(value, limits.string);
    if (short !== value) cut.note(path);
    return short;
  }
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= limits.depth) {
    cut.note(path);
    return summary(value);
  }
  if (Array.isArray(value)) return value.map((item, i) => shorten(item, limits, `${path}[${i}]`, depth + 1, cut));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // defineProperty: a `__proto__` key stays data.
    Object.defineProperty(out, key, { value: shorten(item, limits, pathOf(path, key), depth + 1, cut), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** What stands in for a container that was cut. */
function summary(value: unknown): string {
  if (Array.isArray(value)) return `[cut: array of ${value.length} items]`;
  if (typeof value === 'object' && value !== null) return `[cut: object of ${Object.keys(value).length} keys]`;
  return `[cut: ${typeof value}]`;
}

/** `path.key`, or `path["key"]` for a key that is not a plain name. */
function pathOf(path: string, key: string): string {
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key)}]`;
}

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  for (const item of Object.values(value)) deepest = Math.max(deepest, depthOf(item));
  return deepest + 1;
}

function fits(value: unknown, maxBytes: number): boolean {
  return Buffer.byteLength(JSON.stringify(value) ?? '') <= maxBytes;
}

/** `text` cut to `limit` characters plus `…[truncated N chars]`, when that makes it shorter. */
function cutString(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const kept = sliceChars(text, limit);
  const suffix = `…[truncated ${text.length - kept.length} chars]`;
  return kept.length + suffix.length < text.length ? kept + suffix : text;
}

/** The first `count` UTF-16 units of `text`, one fewer if that would split a surrogate pair. */
function sliceChars(text: string, count: number): string {
  const code = text.charCodeAt(count - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? count - 1 : count);
}
