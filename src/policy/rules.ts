/**
 * Compiles configured rules (SourcedRule) into matchers, once, when the policy is built.
 * Pure: no I/O, no side effects.
 */
import type { Decision } from '../config/schema.js';
import type { PolicySection, SourcedRule } from '../config/types.js';
import { compileGlob, compileValuePattern, type Matcher } from './glob.js';
import { ruleVerdict, type RuleRef, type Verdict } from './verdict.js';

/** Rule kinds in precedence order: the first kind with a matching rule wins. */
export const RULE_KINDS = ['deny', 'ask', 'allow'] as const satisfies readonly Decision[];

/** One `args` entry: the path to walk and the pattern its value must match. */
export interface ArgCondition {
  readonly path: readonly string[];
  readonly test: Matcher;
}

/** A rule ready to be matched. */
export interface CompiledRule {
  readonly kind: Decision;
  /** Server-name glob: everything for server-file rules, the part before `/` for gateway.yaml ones. */
  readonly server: Matcher;
  readonly tool: Matcher;
  /** Undefined for rules without `args`: they match on the tool name alone. */
  readonly conditions: readonly ArgCondition[] | undefined;
  /** What the rule answers when it matches (built once, shared by every tool it names). */
  readonly verdict: Verdict;
}

const always: Matcher = () => true;
const never: Matcher = () => false;

/**
 * Compiles every rule of a section, kinds in precedence order and rules in file order.
 * `scope: 'global'` reads `server/tool` globs (gateway.yaml); `'server'` reads tool globs.
 */
export function compileSection(section: PolicySection, scope: 'server' | 'global'): CompiledRule[] {
  return RULE_KINDS.flatMap((kind) => section[kind].map((sourced) => compileRule(sourced, kind, scope)));
}

/** Compiles one rule. */
export function compileRule(sourced: SourcedRule, kind: Decision, scope: 'server' | 'global'): CompiledRule {
  const { rule } = sourced;
  const pattern = typeof rule === 'string' ? rule : rule.tool;
  const args = typeof rule === 'string' ? undefined : rule.args;
  const entries = args ? Object.entries(args) : [];
  const ref: RuleRef = Object.freeze({
    source: sourced.source,
    where: sourced.where,
    ...(sourced.line === undefined ? {} : { line: sourced.line }),
    text: entries.length ? `${pattern} args{${entries.map(([path, value]) => `${path}=${value}`).join(', ')}}` : pattern,
  });
  const { server, tool } = scope === 'global' ? splitGlobalPattern(pattern) : { server: always, tool: compileGlob(pattern) };
  return {
    kind,
    server,
    tool,
    // `args: {}` names no argument, so it is an unconditional rule.
    conditions: entries.length ? entries.map(([path, value]) => compileCondition(path, value, kind)) : undefined,
    verdict: ruleVerdict(kind, ref, typeof rule === 'string' ? undefined : rule.reason),
  };
}

/** `server/tool` split at the first `/`; a pattern without one applies to every server. */
function splitGlobalPattern(pattern: string): { server: Matcher; tool: Matcher } {
  const slash = pattern.indexOf('/');
  if (slash < 0) return { server: always, tool: compileGlob(pattern) };
  return { server: compileGlob(pattern.slice(0, slash)), tool: compileGlob(pattern.slice(slash + 1)) };
}

function compileCondition(path: string, pattern: string, kind: Decision): ArgCondition {
  // Config checks reject a regex that does not compile; should one get here anyway, fail closed:
  // the condition holds for deny/ask rules (stricter) and never for allow rules.
  const test = compileValuePattern(pattern) ?? (kind === 'allow' ? never : always);
  return { path: path.split('.'), test };
}

/** True when every condition holds for these arguments (see {@link argumentText}). */
export function conditionsHold(conditions: readonly ArgCondition[], args: unknown): boolean {
  for (const condition of conditions) {
    const value = argumentText(args, condition.path);
    if (value === undefined || !condition.test(value)) return false;
  }
  return true;
}

/**
 * The value at `path` (own properties only, walking nested objects and array indexes) as text:
 * strings as they are, numbers and booleans stringified; anything else (missing, null, object,
 * array) is undefined, so a rule conditioned on it does not match.
 */
export function argumentText(args: unknown, path: readonly string[]): string | undefined {
  let value = args;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
      return String(value);
    default:
      return undefined;
  }
}
