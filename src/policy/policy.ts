/**
 * The policy: which decision (allow / ask / deny) applies to a tool, and to one call of it.
 * One check serves both `tools/list` (`listing`) and `tools/call` (`decide`). Pure: no I/O.
 *
 * Precedence over every matching rule, from the server's file and from gateway.yaml alike:
 * deny > ask > allow > default. Everything that does not depend on arguments is computed once per
 * (server, tool), so deciding a call costs a Map lookup plus, only for tools named by rules with
 * `args`, those rules' conditions.
 */
import type { GatewayConfig, PolicySection, ServerConfig } from '../config/types.js';
import { compileSection, conditionsHold, RULE_KINDS, type ArgCondition, type CompiledRule } from './rules.js';
import { defaultVerdict, FAIL_CLOSED_VERDICT, type Verdict } from './verdict.js';

export { describeRule, type RuleRef, type Verdict } from './verdict.js';

/** The precompiled policy of one tool of one server. */
export interface ToolPolicy {
  /** verdict with argument-conditional rules ignored; what tools/list and `mcpgate tools` use */
  readonly listing: Verdict;
  /** true if some rule with `args` conditions names this tool */
  readonly conditional: boolean;
  /** verdict for a call with these arguments (undefined = listing) */
  decide(args: Readonly<Record<string, unknown>> | undefined): Verdict;
}

/** The compiled policy of a whole configuration. */
export interface Policy {
  /** The policy of `tool` on `server` (a config, or a server name looked up in the config). Cached. */
  forTool(server: ServerConfig | string, tool: string): ToolPolicy;
}

/** A conditional rule that can still decide a call, with the verdict it gives when it holds. */
interface Candidate {
  readonly conditions: readonly ArgCondition[];
  readonly verdict: Verdict;
}

/** The rules that can apply to one server, in reporting order, and its default. */
interface ServerPolicy {
  readonly rules: readonly CompiledRule[];
  readonly fallback: Verdict;
  readonly tools: Map<string, ToolPolicy>;
}

/**
 * Compiles the policy once; `forTool` then precomputes and caches each tool's policy.
 * @example compilePolicy(config).forTool('github', 'delete_repo').decide(args).decision // 'deny'
 */
export function compilePolicy(config: Pick<GatewayConfig, 'policy' | 'servers'>): Policy {
  const globalRules = compileSection(config.policy, 'global');
  const configured = new Map(config.servers.map((server) => [server.name, server]));
  const byConfig = new WeakMap<ServerConfig, ServerPolicy>();
  // Names with no servers.d file: only gateway.yaml rules and defaults apply.
  const unconfigured = new Map<string, ServerPolicy>();

  const serverPolicy = (server: ServerConfig | string): ServerPolicy => {
    if (typeof server === 'string') {
      const known = configured.get(server);
      if (known) return serverPolicy(known);
      let policy = unconfigured.get(server);
      if (!policy) unconfigured.set(server, (policy = buildServerPolicy(server, undefined, config.policy, globalRules)));
      return policy;
    }
    let policy = byConfig.get(server);
    if (!policy) byConfig.set(server, (policy = buildServerPolicy(server.name, server, config.policy, globalRules)));
    return policy;
  };

  return {
    forTool(server, tool) {
      const policy = serverPolicy(server);
      let toolPolicy = policy.tools.get(tool);
      if (!toolPolicy) policy.tools.set(tool, (toolPolicy = buildToolPolicy(policy, tool)));
      return toolPolicy;
    },
  };
}

function buildServerPolicy(
  name: string,
  server: ServerConfig | undefined,
  global: PolicySection,
  globalRules: readonly CompiledRule[],
): ServerPolicy {
  const own = server ? compileSection(server.tools, 'server') : [];
  const rules = [...own, ...globalRules.filter((rule) => rule.server(name))];
  return { rules, fallback: serverDefault(server, global), tools: new Map() };
}

/** The server's `tools.default`, else gateway.yaml `policy.default`, else the built-in `ask`. */
function serverDefault(server: ServerConfig | undefined, global: PolicySection): Verdict {
  const own = server?.tools;
  if (server && own?.default) {
    return defaultVerdict(own.default, placeOf(own.defaultSource) ?? `${server.file} tools.default`);
  }
  if (global.default) return defaultVerdict(global.default, placeOf(global.defaultSource) ?? 'gateway.yaml policy.default');
  return defaultVerdict('ask', undefined);
}

function placeOf(source: PolicySection['defaultSource']): string | undefined {
  return source ? `${source.source} ${source.where}` : undefined;
}

function buildToolPolicy(server: ServerPolicy, tool: string): ToolPolicy {
  // Walking kind by kind (deny, ask, allow), server-file rules before gateway.yaml ones, the first
  // matching rule is the one to report. Once an unconditional rule matches, nothing after it can
  // win any more: conditional rules after it are dropped, those before it stay as candidates.
  const candidates: Candidate[] = [];
  let listing: Verdict | undefined;
  let conditional = false;
  for (const kind of RULE_KINDS) {
    for (const rule of server.rules) {
      if (rule.kind !== kind || !rule.tool(tool)) continue;
      if (rule.conditions) {
        conditional = true;
        if (!listing) candidates.push({ conditions: rule.conditions, verdict: rule.verdict });
      } else {
        listing ??= rule.verdict;
      }
    }
  }
  const fixed = listing ?? server.fallback;
  if (candidates.length === 0) {
    return { listing: fixed, conditional, decide: () => fixed };
  }
  return {
    listing: fixed,
    conditional,
    decide(args) {
      if (args === undefined) return fixed;
      try {
        for (const candidate of candidates) {
          if (conditionsHold(candidate.conditions, args)) return candidate.verdict;
        }
        return fixed;
      } catch {
        return FAIL_CLOSED_VERDICT;
      }
    },
  };
}
