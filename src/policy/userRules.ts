/**
 * The user layer of the policy (src/policy/layers.ts): the rules of the server files and of
 * gateway.yaml, and the defaults. Pure: no I/O.
 *
 * Precedence over every matching rule, from the server's file and from gateway.yaml alike:
 * deny > ask > allow > default. Everything that does not depend on arguments is computed once per
 * (server, tool), so deciding a call costs a Map lookup plus, only for tools named by rules with
 * `args`, those rules' conditions.
 */
import type { GatewayConfig, PolicySection, ServerConfig } from '../config/types.js';
import type { ArgCondition } from './conditions.js';
import type { ContentAccess, ToolPolicy } from './layers.js';
import { serverPathContext, type PathContext } from './pathGlob.js';
import { compileSection, conditionalVerdict, RULE_KINDS, type CompiledRule } from './rules.js';
import { defaultVerdict, FAIL_CLOSED_VERDICT, ruleVerdict, type Verdict } from './verdict.js';

/** The compiled user rules of a whole configuration. */
export interface UserRules {
  /** The policy of `tool` on `server` (a config, or a server name looked up in the config). Cached. */
  forTool(server: ServerConfig | string, tool: string): ToolPolicy;
  /** Whether `server`'s resources and prompts may be used (allow or deny, never ask). Cached. */
  content(server: ServerConfig | string): ContentAccess;
}

/** A conditional rule that can still decide a call. */
type Candidate = CompiledRule & { readonly conditions: readonly ArgCondition[] };

/** The rules that can apply to one server, in reporting order, and its default. */
interface ServerPolicy {
  readonly rules: readonly CompiledRule[];
  readonly fallback: Verdict;
  readonly context: PathContext;
  readonly content: ContentAccess;
  readonly tools: Map<string, ToolPolicy>;
}

/** Options of {@link compileUserRules}. */
export interface UserRulesOptions {
  /** Path context of a server name with no servers.d file here (the `clients:` layer knows the servers elsewhere). */
  readonly pathContext?: (server: string) => PathContext;
}

/**
 * Compiles the user rules once; `forTool` then precomputes and caches each tool's policy.
 * @example compileUserRules(config).forTool('github', 'delete_repo').decide(args).decision // 'deny'
 */
export function compileUserRules(config: Pick<GatewayConfig, 'policy' | 'servers'>, options: UserRulesOptions = {}): UserRules {
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
      if (!policy) unconfigured.set(server, (policy = buildServerPolicy(server, undefined, config.policy, globalRules, options.pathContext?.(server) ?? {})));
      return policy;
    }
    let policy = byConfig.get(server);
    if (!policy) byConfig.set(server, (policy = buildServerPolicy(server.name, server, config.policy, globalRules, serverPathContext(server))));
    return policy;
  };

  return {
    forTool(server, tool) {
      const policy = serverPolicy(server);
      let toolPolicy = policy.tools.get(tool);
      if (!toolPolicy) policy.tools.set(tool, (toolPolicy = buildToolPolicy(policy, tool)));
      return toolPolicy;
    },
    content: (server) => serverPolicy(server).content,
  };
}

function buildServerPolicy(
  name: string,
  server: ServerConfig | undefined,
  global: PolicySection,
  globalRules: readonly CompiledRule[],
  context: PathContext,
): ServerPolicy {
  const own = server ? compileSection(server.tools, 'server') : [];
  const rules = [...own, ...globalRules.filter((rule) => rule.server(name))];
  const fallback = serverDefault(server, global);
  const content = { resources: contentVerdict(server, 'resources', fallback), prompts: contentVerdict(server, 'prompts', fallback) };
  return { rules, fallback, context, content, tools: new Map() };
}

/**
 * A server's `resources` / `prompts` setting, else derived from its tool default: `deny` denies
 * them, `allow` and `ask` allow them (they are read-only and, per the MCP spec, chosen by the
 * application or the user; an admin who wants them gone says `deny`).
 */
function contentVerdict(server: ServerConfig | undefined, kind: 'resources' | 'prompts', fallback: Verdict): Verdict {
  const own = server?.[kind];
  if (server && own) return ruleVerdict(own, { source: server.file, where: kind, text: `${kind}: ${own}` }, own === 'deny' ? `${kind} of ${server.name} are denied (${server.file} ${kind}: deny)` : undefined);
  const decision = fallback.decision === 'deny' ? 'deny' : 'allow';
  return Object.freeze({ decision, decidedBy: 'default', reason: `${kind} ${decision === 'deny' ? 'denied' : 'allowed'} by default, following the tool default (${fallback.reason})` });
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
        if (!listing) candidates.push(rule as Candidate);
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
          const verdict = conditionalVerdict(candidate, args, server.context);
          if (verdict) return verdict;
        }
        return fixed;
      } catch {
        return FAIL_CLOSED_VERDICT;
      }
    },
  };
}
