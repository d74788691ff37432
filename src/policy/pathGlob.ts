/**
 * The path form of argument conditions: a value is read as a file path the way an upstream could
 * read it, normalised lexically, and matched with a path glob. Pure: no I/O (symlinks are not
 * followed: the gateway cannot see the upstream's file system in general).
 */
import { posix } from 'node:path';
import type { ServerConfig } from '../config/types.js';
import { compileGlob, type Matcher } from './glob.js';

/** Where relative values and `~` are resolved for one server. */
export interface PathContext {
  /** Absolute working directory of the server (stdio), if known. */
  readonly cwd?: string;
  /** Home directory the server sees (stdio: its env HOME, else the gateway's), if known. */
  readonly home?: string;
}

/** A path value read every way mcpgate considers: absolute, normalised, as segments. */
export type PathReadings = readonly (readonly string[])[];

/** Why a path value cannot be read, or its readings. */
export type PathReading = { readonly readings: PathReadings } | { readonly undecidable: string };

/**
 * The path context of a configured server: a stdio server's cwd, and the HOME it runs with (its
 * own `env.HOME` when set without references, else the gateway's, which it inherits). A remote
 * server has neither: relative and `~` values cannot be judged there unless the rule gives `root`.
 */
export function serverPathContext(server: ServerConfig | undefined, gatewayHome: string | undefined = process.env.HOME): PathContext {
  if (server?.target.kind !== 'stdio') return {};
  const own = server.target.env.HOME;
  const home = own === undefined ? gatewayHome : own.includes('${') ? undefined : own;
  return { cwd: server.target.cwd, ...(home ? { home } : {}) };
}

const GLOBSTAR = Symbol('**');
type Segment = Matcher | typeof GLOBSTAR;

/** A compiled path glob: absolute (or `**`-led) segments, each `**` or a one-segment glob. */
export interface PathPattern {
  /** True when the pattern is relative to `root` (neither `/` nor `**` leads it). */
  readonly relative: boolean;
  matches(segments: readonly string[]): boolean;
}

/** Characters no file name should hold: C0 controls and DEL (NUL ends a C path early). */
const CONTROL = /[\u0000-\u001f\u007f]/;
const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * Compiles a path glob: `**` (a whole segment) is any number of segments, zero included, so
 * `/etc/**` also names `/etc`; `*` and `?` stay within one segment and match a leading dot.
 * @example compilePathPattern('/etc/**', false).matches(['etc', 'ssh', 'sshd_config']) // true
 */
export function compilePathPattern(pattern: string, ignoreCase: boolean): PathPattern {
  const text = ignoreCase ? pattern.toLowerCase() : pattern;
  const relative = !text.startsWith('/') && !text.startsWith('**');
  const segments: Segment[] = splitSegments(posix.normalize(text)).map((part) => (part === '**' ? GLOBSTAR : compileGlob(part)));
  return {
    relative,
    matches: (value) => matchSegments(segments, ignoreCase ? value.map((part) => part.toLowerCase()) : value),
  };
}

/** Joins a relative pattern to a root (both as written), for compiling per server. */
export function rootedPattern(pattern: string, root: string): string {
  return `${root.replace(/\/+$/, '')}/${pattern}`;
}

/**
 * The readings of a path value: `~` and relative values resolved (against `context.home` and
 * `root`), `.`/`..`/`//` folded, and, for values that hold them, the variants with `\` read as a
 * separator and in Unicode NFKC form (full-width `／` and `．`), so that a deny rule matches what
 * any upstream could make of the value. Undecidable when a control character is in it or the
 * value needs a home or root that is not known.
 * @example readPath('/tmp/../etc//passwd', '/srv', {}) // { readings: [['etc', 'passwd']] }
 */
export function readPath(value: string, root: string | undefined, context: PathContext): PathReading {
  if (CONTROL.test(value)) return { undecidable: 'holds a control character (NUL, newline…)' };
  // the common case (ASCII, no backslash) has one reading
  const texts = value.includes('\\') || NON_ASCII.test(value) ? variants(value) : [value];
  const readings: string[][] = [];
  for (const text of texts) {
    let absolute = text;
    if (text === '~' || text.startsWith('~/')) {
      if (context.home === undefined) return { undecidable: 'starts with ~ and the home directory of this server is not known' };
      absolute = `${context.home}/${text.slice(1)}`;
    } else if (text.startsWith('~')) {
      return { undecidable: "starts with ~user, another user's home directory" };
    } else if (!text.startsWith('/')) {
      if (root === undefined) return { undecidable: 'is a relative path and no root is known for this server (set root)' };
      absolute = `${root}/${text}`;
    }
    readings.push(splitSegments(posix.normalize(absolute)));
  }
  return { readings };
}

/** The value, with `\\` as a separator, and each in NFKC form: distinct texts only. */
function variants(value: string): string[] {
  const texts = new Set([value, value.replaceAll('\\', '/')]);
  for (const text of [...texts]) texts.add(text.normalize('NFKC'));
  return [...texts];
}

/** `/a//b/./c/` → `['a', 'b', 'c']` (no `..` folding: the caller normalises first). */
function splitSegments(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

/**
 * Glob over segments with one backtrack point (the last `**` seen): O(segments × pattern) at
 * worst, whatever the value, like the character-level match in glob.ts.
 */
function matchSegments(pattern: readonly Segment[], value: readonly string[]): boolean {
  let p = 0;
  let v = 0;
  let starP = -1;
  let starV = 0;
  while (v < value.length) {
    const segment = pattern[p];
    if (segment === GLOBSTAR) {
      starP = p;
      starV = v;
      p += 1;
    } else if (segment !== undefined && segment(value[v] as string)) {
      p += 1;
      v += 1;
    } else if (starP >= 0) {
      starV += 1;
      v = starV;
      p = starP + 1;
    } else {
      return false;
    }
  }
  while (pattern[p] === GLOBSTAR) p += 1;
  return p === pattern.length;
}
