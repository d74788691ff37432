/**
 * Policy rules as the configuration holds them, with where each was written. Below both
 * src/config/types.ts and src/requirements/types.ts, which both carry policy sections.
 */
import type { Decision, RuleInput } from './ruleSchema.js';

/** A rule as written in a file, with where it was written (for explanations). */
export interface SourcedRule {
  readonly rule: RuleInput;
  /** Config-dir-relative file, e.g. `servers.d/github.yaml` or `gateway.yaml`. */
  readonly source: string;
  /** Field path inside the file, e.g. `tools.deny[1]` or `policy.allow[0]`. */
  readonly where: string;
  /** 1-based line in the file, when known. */
  readonly line?: number;
}

/** The policy section of one server or of gateway.yaml, with provenance. */
export interface PolicySection {
  readonly default?: Decision;
  /** Where `default` was set, when it was. */
  readonly defaultSource?: { readonly source: string; readonly where: string };
  readonly allow: readonly SourcedRule[];
  readonly ask: readonly SourcedRule[];
  readonly deny: readonly SourcedRule[];
}
