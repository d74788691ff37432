/**
 * Patterns of policy rules: tool-name globs and argument-value patterns (a glob or `/regex/flags`).
 * Pure: no I/O, no side effects.
 */

/** Tests one string. */
export type Matcher = (value: string) => boolean;

/** Characters a `u`-mode RegExp gives a meaning to outside a character class. */
const REGEXP_SYNTAX = /[\\^$.*+?()[\]{}|/]/g;

/**
 * The anchored RegExp equivalent of a glob: `*` is any run of characters (none included), `?` one
 * character, everything else literal. For display and interop; matching uses {@link compileGlob}.
 * @example globToRegExp('get_*').source // '^get_.*$'
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const char of glob) {
    source += char === '*' ? '.*' : char === '?' ? '.' : char.replace(REGEXP_SYNTAX, '\\$&');
  }
  return new RegExp(`^${source}$`, 'su');
}

/**
 * Compiles a glob (semantics of {@link globToRegExp}) into a matcher. Argument values are chosen
 * by the agent, and a backtracking RegExp such as `^.*a.*b.*c$` is polynomial in their length, so
 * the general case is a two-pointer wildcard match that is O(value × glob) at worst; the common
 * shapes (literal, `*`, `x*`, `*x`, `*x*`) are single string operations.
 * @example compileGlob('get_*')('get_issue') // true
 */
export function compileGlob(glob: string): Matcher {
  if (/^\*+$/.test(glob)) return () => true;
  if (!glob.includes('?')) {
    if (!glob.includes('*')) return (value) => value === glob;
    const first = glob.indexOf('*');
    const last = glob.lastIndexOf('*');
    if (first === last && last === glob.length - 1) {
      const prefix = glob.slice(0, -1);
      return (value) => value.startsWith(prefix);
    }
    if (first === last && first === 0) {
      const suffix = glob.slice(1);
      return (value) => value.endsWith(suffix);
    }
    const inner = glob.slice(1, -1);
    if (first === 0 && last === glob.length - 1 && !inner.includes('*')) return (value) => value.includes(inner);
  }
  return (value) => wildcardMatch(glob, value);
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/** Width in UTF-16 units of the character at `i`, so that `?` and `*` step whole characters. */
function charWidth(value: string, i: number): number {
  return isHighSurrogate(value.charCodeAt(i)) && isLowSurrogate(value.charCodeAt(i + 1)) ? 2 : 1;
}

/** Classic greedy wildcard matching with one backtrack point (the last `*` seen). */
function wildcardMatch(glob: string, value: string): boolean {
  let g = 0;
  let v = 0;
  let starG = -1;
  let starV = 0;
  while (v < value.length) {
    const p = glob[g];
    if (p === '?') {
      g += 1;
      v += charWidth(value, v);
    } else if (p === '*') {
      starG = g;
      starV = v;
      g += 1;
    } else if (p !== undefined && p === value[v]) {
      g += 1;
      v += 1;
    } else if (starG >= 0) {
      // Let the last `*` swallow one more character and retry the rest of the glob from there.
      starV += charWidth(value, starV);
      v = starV;
      g = starG + 1;
    } else {
      return false;
    }
  }
  while (glob[g] === '*') g += 1;
  return g === glob.length;
}

/** `/body/flags`, the way a JavaScript regex literal is written (an unescaped `/` ends the body). */
export function parseRegexLiteral(pattern: string): { readonly source: string; readonly flags: string } | undefined {
  if (pattern.length < 3 || pattern[0] !== '/') return undefined;
  const end = pattern.lastIndexOf('/');
  if (end <= 1) return undefined;
  const flags = pattern.slice(end + 1);
  if (!/^[dgimsuvy]*$/.test(flags)) return undefined;
  const source = pattern.slice(1, end);
  // A path glob such as `/home/*/` is not a regex: its body holds an unescaped `/`.
  let inClass = false;
  for (let i = 0; i < source.length; i += 1) {
    const char = source[i];
    if (char === '\\') i += 1;
    else if (char === '[') inClass = true;
    else if (char === ']') inClass = false;
    else if (char === '/' && !inClass) return undefined;
  }
  return { source, flags };
}

/**
 * Why an argument-value pattern cannot be compiled, or undefined when it can. For config checks.
 * @example valuePatternError('/[a-/') // 'invalid regular expression /[a-/: …'
 */
export function valuePatternError(pattern: string): string | undefined {
  const literal = parseRegexLiteral(pattern);
  if (!literal) return undefined;
  try {
    new RegExp(literal.source, literal.flags);
    return undefined;
  } catch (error) {
    return `invalid regular expression ${pattern}: ${(error as Error).message}`;
  }
}

/**
 * Compiles an argument-value pattern: `/regex/flags` is tested (unanchored, as written; `g` and
 * `y` are dropped because they make `.test` stateful), anything else is a glob that must match the
 * whole value. Returns undefined when the regex does not compile (see {@link valuePatternError}).
 * @example compileValuePattern('/^main$/i')?.('MAIN') // true
 */
export function compileValuePattern(pattern: string): Matcher | undefined {
  const literal = parseRegexLiteral(pattern);
  if (!literal) return compileGlob(pattern);
  let regex: RegExp;
  try {
    regex = new RegExp(literal.source, literal.flags.replace(/[gy]/g, ''));
  } catch {
    return undefined;
  }
  return (value) => regex.test(value);
}
