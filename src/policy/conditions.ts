/**
 * Argument conditions of rules (`args: { path: "/etc/*" }`): what each condition means for every
 * value an agent can send. Pure: no I/O, no side effects.
 *
 * A deny or ask condition fails closed: a value it cannot judge (an object, a number where
 * `true` is expected, a path with a NUL byte…) counts as matching, and the rule's explanation says
 * so. An allow condition is strict: it holds only for values it can judge and that match.
 * The full table is in docs/configuration.md ("Rules").
 */
import type { ArgConditionInput } from '../config/schema.js';
import { compileValuePattern, parseRegexLiteral, valuePatternError, type Matcher } from './glob.js';
import { compilePathPattern, readPath, rootedPattern, type PathContext, type PathPattern } from './pathGlob.js';

/** One `args` entry, compiled. */
export interface ArgCondition {
  /** The argument path as written (`options.branch`). */
  readonly key: string;
  readonly path: readonly string[];
  readonly leaf: Leaf;
}

/**
 * How the conditions of one rule went for one call: `true` (they hold), `false`, or a string
 * when they hold only because a value could not be judged (why, e.g. `path is an object, not a string`).
 */
export type ConditionResult = boolean | string;

/** A value that could not be judged: where it is (filled in on the way back up) and what it is. */
interface Undecided {
  readonly steps: (string | number)[];
  readonly what: string;
}
type Outcome = boolean | Undecided;

/** Tests the value at the end of a condition's path. `strict`: an allow rule's condition. */
type Leaf = (value: unknown, strict: boolean, context: PathContext) => Outcome;

/** Arrays nested deeper than this inside a conditioned value are not judged (fail closed). */
const MAX_ARRAY_NESTING = 16;

const IGNORE_CASE_BY_DEFAULT = process.platform === 'darwin' || process.platform === 'win32';

/**
 * Compiles one `args` entry. `pattern` is a glob or `/regex/` (the text form) or the path form.
 * A regex that does not compile (config checks reject it first) fails closed: it matches
 * everything for deny/ask rules and nothing for allow rules.
 */
export function compileCondition(key: string, condition: ArgConditionInput): ArgCondition {
  const leaf = typeof condition === 'string' ? textLeaf(condition) : pathLeaf(condition.path, condition.root, condition.ignoreCase ?? IGNORE_CASE_BY_DEFAULT);
  return { key, path: key.split('.'), leaf };
}

/** The condition as a rule's text shows it: `path=/etc/*` or `path=path(/etc/**)`. */
export function conditionText(key: string, condition: ArgConditionInput): string {
  if (typeof condition === 'string') return `${key}=${condition}`;
  return `${key}=path(${condition.path}${condition.root ? `, root ${condition.root}` : ''})`;
}

/**
 * Evaluates a rule's conditions on call arguments: all must hold. `strict` for allow rules.
 * @example evaluateConditions([compileCondition('path', '/etc/*')], { path: ['/etc/passwd'] }, false, {}) // true
 */
export function evaluateConditions(conditions: readonly ArgCondition[], args: unknown, strict: boolean, context: PathContext): ConditionResult {
  let undecided: Undecided | undefined;
  let key = '';
  for (const condition of conditions) {
    const outcome = walk(condition, args, 0, strict, context);
    if (outcome === false) return false;
    if (outcome !== true && undecided === undefined) {
      undecided = outcome;
      key = condition.key;
    }
  }
  if (undecided === undefined) return true;
  return `${where(key, undecided.steps)} ${undecided.what}`;
}

/** Follows the condition's path from `value` (at step `index`). */
function walk(condition: ArgCondition, value: unknown, index: number, strict: boolean, context: PathContext): Outcome {
  // A missing key or null is an absent argument: nothing a rule could forbid was sent.
  if (value === undefined || value === null) return false;
  if (index === condition.path.length) return condition.leaf(value, strict, context);
  const key = condition.path[index] as string;
  if (Array.isArray(value)) {
    // `files.0.path` picks one element; `files.path` means the `path` of every element.
    if (/^(0|[1-9]\d*)$/.test(key)) return Object.hasOwn(value, key) ? located(walk(condition, value[Number(key)], index + 1, strict, context), Number(key)) : false;
    return each(value, strict, (element) => walk(condition, element, index, strict, context), 0);
  }
  if (typeof value === 'object') {
    return Object.hasOwn(value, key) ? located(walk(condition, (value as Record<string, unknown>)[key], index + 1, strict, context), key) : false;
  }
  return undecided(strict, `is ${describe(value)}, not an object`);
}

/**
 * An array against one condition: for deny/ask any matching element matches, and so does any
 * element that cannot be judged; for allow, every element must match (and there must be one).
 */
function each(values: readonly unknown[], strict: boolean, test: (value: unknown) => Outcome, nesting: number): Outcome {
  if (nesting > MAX_ARRAY_NESTING) return undecided(strict, `nests arrays deeper than ${MAX_ARRAY_NESTING} levels`);
  if (strict) {
    if (values.length === 0) return false;
    for (const value of values) if (test(value) !== true) return false;
    return true;
  }
  let first: Outcome = false;
  for (let i = 0; i < values.length; i += 1) {
    const outcome = test(values[i]);
    if (outcome === true) return true;
    if (outcome !== false && first === false) first = located(outcome, i);
  }
  return first;
}

/** The text form: a glob or `/regex/` on strings, and on numbers and booleans as JSON writes them. */
function textLeaf(pattern: string): Leaf {
  const compiled = compileValuePattern(pattern);
  if (!compiled) return (_value, strict) => undecided(strict, `cannot be tested: the rule's regex ${pattern} does not compile`);
  const test: Matcher = compiled;
  // `true`/`false` and plain numbers expect that type: another type, or another spelling, cannot
  // be judged (a tool may well read 1, "yes" or "01" the way the rule's value reads).
  const literal = pattern === 'true' || pattern === 'false' ? 'boolean' : /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(pattern) ? 'number' : 'text';
  const leaf: Leaf = (value, strict) => {
    switch (typeof value) {
      case 'string':
        if (test(value)) return true;
        if (literal === 'boolean') return value === 'true' || value === 'false' ? false : undecided(strict, `is a string other than "true" or "false" where the rule expects ${pattern}`);
        if (literal === 'number') return undecided(strict, `is a string other than "${pattern}" where the rule expects the number ${pattern}`);
        return false;
      case 'number':
        if (test(String(value))) return true;
        if (literal === 'number') return value === Number(pattern) ? true : false;
        return literal === 'boolean' ? undecided(strict, `is a number (${value}) where the rule expects ${pattern}`) : false;
      case 'boolean':
        if (test(String(value))) return true;
        return literal === 'number' ? undecided(strict, `is a boolean where the rule expects the number ${pattern}`) : false;
      default:
        if (Array.isArray(value)) {
          const outcome = each(value, strict, (element) => leafNested(leaf, element, strict), 0);
          // deny/ask: an argv such as ["rm", "-rf", "/"] is also read as the command line it spells
          if (outcome !== true && !strict && test(spelled(value))) return true;
          return outcome;
        }
        return undecided(strict, `is ${describe(value)}, not a string`);
    }
  };
  return leaf;
}

/** An array's strings, numbers and booleans (nested arrays flattened, bounded) joined by spaces. */
function spelled(values: readonly unknown[]): string {
  return values
    .flat(MAX_ARRAY_NESTING)
    .filter((value) => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    .join(' ');
}

/** The path form: `{path, root?, ignoreCase?}` (see pathGlob.ts). */
function pathLeaf(pattern: string, root: string | undefined, ignoreCase: boolean): Leaf {
  const fixed = compilePathPattern(pattern, ignoreCase);
  const perRoot = new Map<string, PathPattern>();
  const patternFor = (base: string | undefined): PathPattern | undefined => {
    if (!fixed.relative) return fixed;
    if (base === undefined) return undefined;
    let compiled = perRoot.get(base);
    if (!compiled) perRoot.set(base, (compiled = compilePathPattern(rootedPattern(pattern, base), ignoreCase)));
    return compiled;
  };
  const leaf: Leaf = (value, strict, context) => {
    if (typeof value !== 'string') {
      if (Array.isArray(value)) return each(value, strict, (element) => leafNested(leaf, element, strict, context), 0);
      return undecided(strict, `is ${describe(value)}, not a path`);
    }
    const base = root ?? context.cwd;
    const compiled = patternFor(base);
    if (!compiled) return undecided(strict, `cannot be tested: the rule's pattern ${pattern} is relative and no root is known for this server`);
    const reading = readPath(value, base, context);
    if ('undecidable' in reading) return undecided(strict, reading.undecidable);
    // deny/ask: any reading of the value that matches; allow: every reading must match
    return strict ? reading.readings.every((segments) => compiled.matches(segments)) : reading.readings.some((segments) => compiled.matches(segments));
  };
  return leaf;
}

/** Nested arrays at the leaf: counted so that a hostile nesting depth is bounded. */
function leafNested(leaf: Leaf, value: unknown, strict: boolean, context: PathContext = {}, nesting = 1): Outcome {
  if (Array.isArray(value)) {
    return each(value, strict, (element) => leafNested(leaf, element, strict, context, nesting + 1), nesting);
  }
  return leaf(value, strict, context);
}

function undecided(strict: boolean, what: string): Outcome {
  return strict ? false : { steps: [], what };
}

/** Adds one step (a key or an array index) to where an undecided value is. */
function located(outcome: Outcome, step: string | number): Outcome {
  if (typeof outcome !== 'boolean') outcome.steps.unshift(step);
  return outcome;
}

/** `path` + [0, 'name'] → `path[0].name` */
function where(key: string, steps: readonly (string | number)[]): string {
  // steps repeat the condition's own keys after the first: rebuild the location from the steps
  let text = '';
  for (const step of steps) text += typeof step === 'number' ? `[${step}]` : text ? `.${step}` : step;
  return text || key;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'object':
      return 'an object';
    case 'number':
      return `a number (${value})`;
    case 'boolean':
      return `a boolean (${value})`;
    case 'string':
      return 'a string';
    default:
      return `a ${typeof value}`;
  }
}

/** Argument names that usually hold a file path (the last segment of the condition's key). */
const PATH_LIKE = /^(paths?|files?|file_?names?|file_?paths?|dirs?|director(y|ies)|folders?|cwd|root|source|destination|src|dest)$|(_path|_paths|_file|_files|_dir|_directory|Path|Paths|File|Files|Dir|Directory)$/i;

/**
 * What config checks say about one `args` entry: errors (a regex that does not compile, a
 * relative `root`) and warnings (a path-like argument under the plain text form).
 * @example conditionIssues('path', '/etc/*') // [{ severity: 'warning', message: '"path" looks like … write { path: "/etc/*" } …' }]
 */
export function conditionIssues(key: string, condition: ArgConditionInput): { readonly severity: 'error' | 'warning'; readonly message: string }[] {
  if (typeof condition === 'string') {
    const error = valuePatternError(condition);
    if (error) return [{ severity: 'error', message: error }];
    const last = key.split('.').at(-1) ?? key;
    if (!PATH_LIKE.test(last)) return [];
    // the plain `*` crosses `/`, a path `*` does not: a trailing `/*` becomes `/**`
    const suggestion = isRegex(condition) ? '"…"' : JSON.stringify(condition.replace(/(^|\/)\*$/, '$1**'));
    return [{ severity: 'warning', message: `"${key}" looks like a file path, and the plain form compares the text as sent, so "/tmp/../etc/x", "//etc/x" or a relative path escape it; write { path: ${suggestion} } to match the normalised path` }];
  }
  const issues: { severity: 'error' | 'warning'; message: string }[] = [];
  if (condition.root !== undefined && !condition.root.startsWith('/')) issues.push({ severity: 'error', message: `root must be an absolute directory, not "${condition.root}"` });
  if (condition.path.startsWith('~')) issues.push({ severity: 'error', message: `path patterns do not expand ~: write the absolute directory (e.g. "/home/me/.ssh/**") or "**/.ssh/**"` });
  return issues;
}

function isRegex(pattern: string): boolean {
  return parseRegexLiteral(pattern) !== undefined;
}
