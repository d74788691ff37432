/**
 * What the policy answers and how it explains itself. Verdicts are built once per rule or default
 * and frozen, so deciding a call hands out a shared object instead of allocating one.
 */
import type { Decision } from '../config/schema.js';

/** Where a rule was written, and the rule as a human reads it. */
export interface RuleRef {
  /** Config-dir-relative file, e.g. `servers.d/github.yaml`. */
  readonly source: string;
  /** Field path inside the file, e.g. `tools.deny[1]`. */
  readonly where: string;
  readonly line?: number;
  /** The rule as written, e.g. `push_files args{branch=main}` or `github/get_*`. */
  readonly text: string;
}

/** The policy's answer for one tool (and, for conditional rules, one set of arguments). */
export interface Verdict {
  readonly decision: Decision;
  readonly decidedBy: 'rule' | 'default' | 'managed' | 'schema';
  /** The deciding rule; absent when the default decided. */
  readonly rule?: RuleRef;
  /** Shown to the agent and recorded in the audit log. */
  readonly reason: string;
  /** When the managed layer decided: the looser user decision it overrode, e.g. `servers.d/x.yaml tools.allow[0] (x) allow`. */
  readonly overrides?: string;
  /**
   * Only a person may answer this `ask` (a tool whose definition changed since it was pinned):
   * no remembered "always"/session approval and no auto-reviewer, which were given for the old one.
   */
  readonly humanOnly?: boolean;
  /** The verdict stands for a layer that could not evaluate the call (a deny): no later layer changes it. */
  readonly failClosed?: true;
}

/**
 * One-line explanation for the CLI and the audit log.
 * @example describeRule(ref) // 'servers.d/x.yaml tools.deny[1] (push_files args{branch=main})'
 * @example describeRule(undefined) // 'default'
 */
export function describeRule(rule: RuleRef | undefined): string {
  return rule === undefined ? 'default' : `${rule.source} ${rule.where} (${rule.text})`;
}

/** The verdict a matching rule gives; `reason` is the rule's own, when it has one (allow ignores it). */
export function ruleVerdict(decision: Decision, rule: RuleRef, reason: string | undefined): Verdict {
  const described = describeRule(rule);
  const text =
    decision === 'deny'
      ? (reason ?? `denied by ${described}`)
      : decision === 'ask'
        ? (reason ?? `approval required (${described})`)
        : `allowed by ${described}`;
  return Object.freeze({ decision, decidedBy: 'rule', rule, reason: text });
}

/** The verdict of a default; `setAt` is where it was set (`servers.d/x.yaml tools.default`), if anywhere. */
export function defaultVerdict(decision: Decision, setAt: string | undefined): Verdict {
  return Object.freeze({ decision, decidedBy: 'default', reason: `${decision} by default (${setAt ?? 'built-in default'})` });
}

/**
 * A deny/ask rule that matched only because a value could not be judged (fail closed): its
 * verdict with the reason saying so. Built per call, only in that rare case.
 * @example failClosedMatch(deny, 'path is an object, not a path').reason // '… (path is an object, not a path: treated as matching the deny rule)'
 */
export function failClosedMatch(verdict: Verdict, why: string): Verdict {
  return Object.freeze({ ...verdict, reason: `${verdict.reason} (${why}: treated as matching the ${verdict.decision} rule)` });
}

/**
 * Fail closed: what a call gets when evaluating its arguments against the rules throws (a hostile
 * getter, a proxy). Never expected with JSON arguments; named so the choice is visible.
 */
export const FAIL_CLOSED_VERDICT: Verdict = Object.freeze({
  decision: 'deny',
  decidedBy: 'default',
  reason: 'denied: the policy could not evaluate the call arguments (fail closed)',
  failClosed: true,
});
