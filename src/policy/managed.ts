/**
 * The managed layer of the policy (src/policy/layers.ts): the administrators' rules from the
 * requirements file. It only has `ask` and `deny` rules and wins ties, so it can tighten the
 * user's decision and never loosen it. Pure, compiled once per tool.
 */
import type { ServerConfig } from '../config/types.js';
import type { ManagedRequirements } from '../requirements/types.js';
import { compileGlob } from './glob.js';
import type { LayerRules } from './layers.js';
import { serverPathContext, type PathContext } from './pathGlob.js';
import { compileSection, conditionalVerdict, type CompiledRule } from './rules.js';
import { ruleVerdict, type Verdict } from './verdict.js';

/** The compiled managed rules. */
export interface ManagedRules {
  /** What the managed rules say of `tool` on `server`; undefined when none names it. */
  forTool(server: ServerConfig | string, tool: string): LayerRules | undefined;
  /** The managed `resources.deny` / `prompts.deny` verdicts of a server, where a glob names it. */
  content(server: string): { readonly resources?: Verdict; readonly prompts?: Verdict };
}

const STRICTNESS = { allow: 0, ask: 1, deny: 2 } as const;

/**
 * Compiles the managed rules; undefined when the requirements have none.
 * @example compileManagedRules(config.requirements)?.forTool('x', 'rm')?.listing?.decidedBy // 'managed'
 */
export function compileManagedRules(requirements: ManagedRequirements | undefined): ManagedRules | undefined {
  if (!requirements || (requirements.rules.ask.length + requirements.rules.deny.length === 0 && !requirements.content)) return undefined;
  const rules = compileSection(requirements.rules, 'global').map(asManaged);
  const deny = (kind: 'resources' | 'prompts') =>
    (requirements.content?.[kind] ?? []).map((glob, index) => ({
      matches: compileGlob(glob),
      verdict: Object.freeze({ ...ruleVerdict('deny', { source: requirements.file, where: `${kind}.deny[${index}]`, text: glob }, undefined), decidedBy: 'managed' as const }),
    }));
  const resources = deny('resources');
  const prompts = deny('prompts');
  return {
    forTool(server, tool) {
      const name = typeof server === 'string' ? server : server.name;
      const naming = rules.filter((rule) => rule.server(name) && rule.tool(tool));
      return naming.length === 0 ? undefined : toolRules(naming, serverPathContext(typeof server === 'string' ? undefined : server));
    },
    content(server) {
      const resource = resources.find((rule) => rule.matches(server))?.verdict;
      const prompt = prompts.find((rule) => rule.matches(server))?.verdict;
      return { ...(resource ? { resources: resource } : {}), ...(prompt ? { prompts: prompt } : {}) };
    },
  };
}

function asManaged(rule: CompiledRule): CompiledRule {
  return { ...rule, verdict: Object.freeze({ ...rule.verdict, decidedBy: 'managed' as const }) };
}

/** The managed verdicts of one tool: the first unconditional rule, and the conditional ones that could be stricter. */
function toolRules(rules: readonly CompiledRule[], context: PathContext): LayerRules {
  // rules come deny first, then ask, in file order: the first that holds is the managed verdict.
  const fixed = rules.find((rule) => !rule.conditions)?.verdict;
  const candidates = rules.filter((rule) => rule.conditions && (!fixed || STRICTNESS[rule.kind] > STRICTNESS[fixed.decision]));
  if (candidates.length === 0) return { listing: fixed };
  return {
    listing: fixed,
    decide(args) {
      try {
        for (const rule of candidates) {
          const verdict = conditionalVerdict(rule as Parameters<typeof conditionalVerdict>[0], args, context);
          if (verdict) return verdict;
        }
        return fixed;
      } catch {
        return FAIL_CLOSED_MANAGED; // a hostile argument object: the managed layer cannot vouch for it
      }
    },
  };
}

const FAIL_CLOSED_MANAGED: Verdict = Object.freeze({
  decision: 'deny',
  decidedBy: 'managed',
  reason: 'denied: the managed requirements could not evaluate the call arguments (fail closed)',
  failClosed: true,
});
