/**
 * The policy engine: every layer of src/policy/layers.ts compiled once from the configuration and
 * folded with the one combine rule. One engine serves tools/list, the per-identity listing, calls,
 * `mcpgate tools` and `check`. Everything that does not depend on the call is precompiled per
 * (server, tool[, pin]) and per identity, so deciding a call costs the tool's `decide` (a
 * constant for tools no argument rule names), the caller's layer when `clients:` match it, and
 * the inputSchema check. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Identity } from '../caller/caller.js';
import type { ClientRuleSet, GatewayConfig, ServerConfig } from '../config/types.js';
import type { ManagedRequirements } from '../requirements/types.js';
import type { ArgumentValidator } from './argumentSchema.js';
import { compileClients, type ClientRules } from './clients.js';
import { combine, combineListing, layered, LAYERS, type ContentAccess, type LayerTool, type ToolPolicy } from './layers.js';
import { compileManagedRules } from './managed.js';
import { serverPathContext } from './pathGlob.js';
import { compileUserRules, type UserRulesOptions } from './userRules.js';
import type { Verdict } from './verdict.js';

/** The compiled policy of a whole configuration. */
export interface Policy {
  /**
   * `sha256:…` over the effective configured layers (user rules and defaults, managed rules,
   * `clients:` rules): equal on replicas with the same configuration, changed by any rule change.
   */
  readonly version: string;
  /** The layers user → managed → pins of `tool` on `server` (a config, or a server name). Cached unless pinned. */
  forTool(server: ServerConfig | string, tool: string, pin?: Verdict): ToolPolicy;
  /** Whether `server`'s resources and prompts may be used (user, then managed). Cached. */
  content(server: ServerConfig | string): ContentAccess;
  /** The `clients:` layer of an identity; undefined when no entry matches it (the common case). */
  forCaller(identity: Identity | undefined): CallerPolicy | undefined;
  /** {@link version} with the pins in force (the public names of tools whose changed definition waits). */
  versionWith(pinned: readonly string[]): string;
}

/** The `clients:` layer for one identity. */
export interface CallerPolicy {
  /** Which `clients` entries matched, e.g. `clients[0], clients[2]`. */
  readonly matched: string;
  /** `tool`'s verdict with this layer on top (`base`: the tool's own verdict for these arguments). */
  decide(tool: LayerTool, args: Readonly<Record<string, unknown>> | undefined, base: Verdict): Verdict;
  /** This identity's tools/list: `entries` filtered by their combined listing verdicts (cached per `entries` array). */
  listTools(entries: readonly LayerTool[], showDenied: boolean): readonly Tool[];
}

/** The configuration the engine reads. */
export type PolicySource = Pick<GatewayConfig, 'policy' | 'servers'> & {
  readonly requirements?: ManagedRequirements | undefined;
  readonly clients?: readonly ClientRuleSet[] | undefined;
};

/**
 * Compiles every layer of the configuration once.
 * @example compilePolicy(config).forTool('github', 'delete_repo').decide(args).decision // 'deny'
 */
export function compilePolicy(config: PolicySource, options: UserRulesOptions = {}): Policy {
  const user = compileUserRules(config, options);
  const managed = compileManagedRules(config.requirements);
  const clients = compileClients(config.clients ?? [], config.servers);
  const tools = new Map<ServerConfig | string, Map<string, ToolPolicy>>();
  const contents = new Map<ServerConfig | string, ContentAccess>();
  const callers = new WeakMap<ClientRules, CallerPolicy>();
  const version = policyVersion(config);
  const compile = (server: ServerConfig | string, tool: string, pin: Verdict | undefined): ToolPolicy =>
    layered(user.forTool(server, tool), [
      [managed?.forTool(server, tool), LAYERS.managed],
      [pin && { listing: pin }, LAYERS.pins],
    ]);
  return {
    version,
    forTool(server, tool, pin) {
      if (pin) return compile(server, tool, pin);
      let byTool = tools.get(server);
      if (!byTool) tools.set(server, (byTool = new Map()));
      let policy = byTool.get(tool);
      if (!policy) byTool.set(tool, (policy = compile(server, tool, undefined)));
      return policy;
    },
    content(server) {
      let access = contents.get(server);
      if (!access) {
        const own = user.content(server);
        const admin = managed?.content(typeof server === 'string' ? server : server.name);
        access = admin ? { resources: combine(own.resources, admin.resources, LAYERS.managed), prompts: combine(own.prompts, admin.prompts, LAYERS.managed) } : own;
        contents.set(server, access);
      }
      return access;
    },
    forCaller(identity) {
      const rules = clients.forIdentity(identity);
      if (!rules) return undefined;
      let policy = callers.get(rules);
      if (!policy) callers.set(rules, (policy = callerPolicyOf(rules)));
      return policy;
    },
    versionWith(pinned) {
      return pinned.length === 0 ? version : `sha256:${sha256(`${version}\npins ${[...pinned].sort().join('\n')}`)}`;
    },
  };
}

/** The `clients:` layer of the identities `rules` were matched for. */
export function callerPolicyOf(rules: ClientRules): CallerPolicy {
  let listedFrom: readonly LayerTool[] | undefined;
  let listedShowDenied = false;
  let listed: readonly Tool[] = [];
  return {
    matched: rules.matched,
    decide(tool, args, base) {
      const layer = rules.forTool(tool.upstream.name, tool.name);
      if (!layer) return base;
      return combine(base, args !== undefined && layer.decide ? layer.decide(args) : layer.listing, LAYERS.clients);
    },
    listTools(entries, showDenied) {
      if (entries !== listedFrom || showDenied !== listedShowDenied) {
        listedFrom = entries;
        listedShowDenied = showDenied;
        listed = entries
          .filter((entry) => !entry.hidden && (showDenied || combineListing(entry.policy.listing, rules.forTool(entry.upstream.name, entry.name)?.listing, LAYERS.clients).decision !== 'deny'))
          .map((entry) => entry.publicTool);
      }
      return listed;
    },
  };
}

/**
 * The verdict of one call: the tool's precompiled layers (user, managed, pins), the caller's
 * `clients:` layer, then the arguments against the tool's inputSchema (skipped for a deny: a
 * deny stands whatever the arguments).
 */
export function decideCall(
  tool: LayerTool & { readonly validator?: ArgumentValidator | undefined },
  caller: CallerPolicy | undefined,
  args: Readonly<Record<string, unknown>> | undefined,
): Verdict {
  const own = tool.policy.decide(args);
  const verdict = caller ? caller.decide(tool, args, own) : own;
  if (verdict.decision === 'deny' || !tool.validator) return verdict;
  return combine(verdict, tool.validator(args), LAYERS.schema);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The content digest of the configured layers (replicas with the same files agree). */
function policyVersion(config: PolicySource): string {
  const servers = config.servers.map((server) => ({
    name: server.name,
    tools: server.tools,
    resources: server.resources,
    prompts: server.prompts,
    // path conditions are read relative to the server's cwd and home
    paths: serverPathContext(server),
  }));
  const requirements = config.requirements && { rules: config.requirements.rules, content: config.requirements.content };
  return `sha256:${sha256(JSON.stringify({ v: 1, policy: config.policy, servers, requirements, clients: config.clients ?? [] }))}`;
}
