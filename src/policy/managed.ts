/**
 * The managed layer of the policy: admins' rules (from the requirements file) merged above the
 * user policy. The effective decision is the strictest of the two (deny > ask > allow); when the
 * managed layer is at least as strict as the user's, it is the one that decided (`managed`), and
 * the listing verdict names the looser user decision it overrode. Pure, compiled once per tool:
 * a call costs the two layers' `decide` and one comparison.
 */
import type { ManagedRequirements } from '../requirements/types.js';
import { compileSection, conditionsHold, type CompiledRule } from './rules.js';
import { describeRule, type Verdict } from './verdict.js';
import type { Policy, ToolPolicy } from './policy.js';
import type { ServerConfig } from '../config/types.js';

const STRICTNESS = { allow: 0, ask: 1, deny: 2 } as const;

/**
 * The user policy with the managed rules above it; the policy itself when there are none.
 * @example withManagedRules(compilePolicy(config), config.requirements).forTool('x', 'rm').listing.decidedBy // 'managed'
 */
export function withManagedRules(user: Policy, requirements: ManagedRequirements | undefined): Policy {
  if (!requirements || requirements.rules.ask.length + requirements.rules.deny.length === 0) return user;
  const rules = compileSection(requirements.rules, 'global').map(asManaged);
  const cache = new Map<string, Map<string, ToolPolicy>>();
  return {
    forTool(server, tool) {
      const name = typeof server === 'string' ? server : server.name;
      let tools = cache.get(name);
      if (!tools) cache.set(name, (tools = new Map()));
      let policy = tools.get(tool);
      if (!policy) tools.set(tool, (policy = merge(user.forTool(server as ServerConfig | string, tool), rules.filter((r) => r.server(name) && r.tool(tool)))));
      return policy;
    },
  };
}

function asManaged(rule: CompiledRule): CompiledRule {
  return { ...rule, verdict: Object.freeze({ ...rule.verdict, decidedBy: 'managed' as const }) };
}

function merge(user: ToolPolicy, rules: readonly CompiledRule[]): ToolPolicy {
  if (rules.length === 0) return user;
  // rules come deny first, then ask, in file order: the first that holds is the managed verdict.
  const fixed = rules.find((rule) => !rule.conditions)?.verdict;
  const candidates = rules.filter((rule) => rule.conditions && (!fixed || STRICTNESS[rule.kind] > STRICTNESS[fixed.decision]));
  const managedFor = (args: Readonly<Record<string, unknown>> | undefined): Verdict | undefined => {
    if (args !== undefined) {
      for (const rule of candidates) if (conditionsHold(rule.conditions as never, args)) return rule.verdict;
    }
    return fixed;
  };
  const listing = stricter(fixed, user.listing, true);
  if (candidates.length === 0 && !user.conditional) {
    return { listing, conditional: false, decide: () => listing };
  }
  return {
    listing,
    conditional: true,
    decide(args) {
      let managed: Verdict | undefined;
      try {
        managed = managedFor(args);
      } catch {
        // a hostile argument object: the managed layer cannot vouch for it, the user layer decides
        // below only if it is stricter; otherwise deny (fail closed)
        return user.decide(args).decision === 'deny' ? user.decide(args) : FAIL_CLOSED_MANAGED;
      }
      return stricter(managed, user.decide(args), false);
    },
  };
}

/** The managed verdict when it is at least as strict as the user's, else the user's. */
function stricter(managed: Verdict | undefined, user: Verdict, explain: boolean): Verdict {
  if (!managed || STRICTNESS[managed.decision] < STRICTNESS[user.decision]) return user;
  if (!explain || managed.decision === user.decision) return managed;
  return Object.freeze({ ...managed, overrides: `${describeRule(user.rule)} ${user.decision}` });
}

const FAIL_CLOSED_MANAGED: Verdict = Object.freeze({
  decision: 'deny',
  decidedBy: 'managed',
  reason: 'denied: the managed requirements could not evaluate the call arguments (fail closed)',
});
