/**
 * Compiles configured rules (SourcedRule) into matchers, once, when the policy is built.
 * Pure: no I/O, no side effects.
 */
import type { Decision } from '../config/schema.js';
import type { PolicySection, SourcedRule } from '../config/types.js';
import { compileCondition, conditionText, evaluateConditions, type ArgCondition } from './conditions.js';
import { compileGlob, type Matcher } from './glob.js';
import { failClosedMatch, ruleVerdict, type RuleRef, type Verdict } from './verdict.js';
import type { PathContext } from './pathGlob.js';

/** Rule kinds in precedence order: the first kind with a matching rule wins. */
export const RULE_KINDS = ['deny', 'ask', 'allow'] as const satisfies readonly Decision[];

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
    text: entries.length ? `${pattern} args{${entries.map(([path, value]) => conditionText(path, value)).join(', ')}}` : pattern,
  });
  const { server, tool } = scope === 'global' ? splitGlobalPattern(pattern) : { server: always, tool: compileGlob(pattern) };
  return {
    kind,
    server,
    tool,
    // `args: {}` names no argument, so it is an unconditional rule.
    conditions: entries.length ? entries.map(([path, value]) => compileCondition(path, value)) : undefined,
    verdict: ruleVerdict(kind, ref, typeof rule === 'string' ? undefined : rule.reason),
  };
}

/** `server/tool` split at the first `/`; a pattern without one applies to every server. */
function splitGlobalPattern(pattern: string): { server: Matcher; tool: Matcher } {
  const slash = pattern.indexOf('/');
  if (slash < 0) return { server: always, tool: compileGlob(pattern) };
  return { server: compileGlob(pattern.slice(0, slash)), tool: compileGlob(pattern.slice(slash + 1)) };
}

/**
 * The verdict of a conditional rule for these arguments, or undefined when its conditions do not
 * hold. A deny/ask rule that holds only because a value could not be judged says so in its reason.
 */
export function conditionalVerdict(rule: CompiledRule & { readonly conditions: readonly ArgCondition[] }, args: unknown, context: PathContext): Verdict | undefined {
  const result = evaluateConditions(rule.conditions, args, rule.kind === 'allow', context);
  if (result === false) return undefined;
  return result === true ? rule.verdict : failClosedMatch(rule.verdict, result);
}
