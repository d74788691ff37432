/**
 * The managed layer of the policy: admins' rules (from the requirements file) merged above the
 * user policy. The effective decision is the strictest of the two (deny > ask > allow); when the
 * managed layer is at least as strict as the user's, it is the one that decided (`managed`), and
 * the listing verdict names the looser user decision it overrode. Pure, compiled once per tool:
 * a call costs the two layers' `decide` and one comparison.
 */
import type { ManagedRequirements } from '../requirements/types.js';
import { compileGlob } from './glob.js';
import { serverPathContext, type PathContext } from './pathGlob.js';
import { compileSection, conditionalVerdict, type CompiledRule } from './rules.js';
import { describeRule, ruleVerdict, type Verdict } from './verdict.js';
import type { ContentAccess, Policy, ToolPolicy } from './policy.js';
import type { ServerConfig } from '../config/types.js';

const STRICTNESS = { allow: 0, ask: 1, deny: 2 } as const;

/**
 * The user policy with the managed rules above it; the policy itself when there are none.
 * @example withManagedRules(compilePolicy(config), config.requirements).forTool('x', 'rm').listing.decidedBy // 'managed'
 */
export function withManagedRules(user: Policy, requirements: ManagedRequirements | undefined): Policy {
  if (!requirements || (requirements.rules.ask.length + requirements.rules.deny.length === 0 && !requirements.content)) return user;
  const rules = compileSection(requirements.rules, 'global').map(asManaged);
  const cache = new Map<string, Map<string, ToolPolicy>>();
  const content = managedContent(user, requirements);
  return {
    forTool(server, tool) {
      const name = typeof server === 'string' ? server : server.name;
      let tools = cache.get(name);
      if (!tools) cache.set(name, (tools = new Map()));
      let policy = tools.get(tool);
      if (!policy) {
        const context = serverPathContext(typeof server === 'string' ? undefined : server);
        tools.set(tool, (policy = merge(user.forTool(server as ServerConfig | string, tool), rules.filter((r) => r.server(name) && r.tool(tool)), context)));
      }
      return policy;
    },
    content,
  };
}

/** The user's resource/prompt access with the managed `resources.deny` / `prompts.deny` globs above it. */
function managedContent(user: Policy, requirements: ManagedRequirements): Policy['content'] {
  if (!requirements.content) return (server) => user.content(server);
  const deny = (kind: 'resources' | 'prompts') =>
    (requirements.content?.[kind] ?? []).map((glob, index) => ({
      matches: compileGlob(glob),
      verdict: Object.freeze({ ...ruleVerdict('deny', { source: requirements.file, where: `${kind}.deny[${index}]`, text: glob }, undefined), decidedBy: 'managed' as const }),
    }));
  const resources = deny('resources');
  const prompts = deny('prompts');
  const cache = new Map<string, ContentAccess>();
  return (server) => {
    const name = typeof server === 'string' ? server : server.name;
    let access = cache.get(name);
    if (!access) {
      const own = user.content(server);
      access = {
        resources: resources.find((rule) => rule.matches(name))?.verdict ?? own.resources,
        prompts: prompts.find((rule) => rule.matches(name))?.verdict ?? own.prompts,
      };
      cache.set(name, access);
    }
    return access;
  };
}

function asManaged(rule: CompiledRule): CompiledRule {
  return { ...rule, verdict: Object.freeze({ ...rule.verdict, decidedBy: 'managed' as const }) };
}

function merge(user: ToolPolicy, rules: readonly CompiledRule[], context: PathContext): ToolPolicy {
  if (rules.length === 0) return user;
  // rules come deny first, then ask, in file order: the first that holds is the managed verdict.
  const fixed = rules.find((rule) => !rule.conditions)?.verdict;
  const candidates = rules.filter((rule) => rule.conditions && (!fixed || STRICTNESS[rule.kind] > STRICTNESS[fixed.decision]));
  const managedFor = (args: Readonly<Record<string, unknown>> | undefined): Verdict | undefined => {
    if (args !== undefined) {
      for (const rule of candidates) {
        const verdict = conditionalVerdict(rule as Parameters<typeof conditionalVerdict>[0], args, context);
        if (verdict) return verdict;
      }
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
