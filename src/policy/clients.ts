/**
 * The `clients:` layer of the policy (src/policy/layers.ts): gateway.yaml rules for the callers
 * whose verified identity an entry matches (by subject glob, or by any of its groups). The rules
 * of every matching entry are read together, deny > ask > allow, like gateway.yaml's own; the
 * layer loosens defaults and does not win ties, so a client rule can
 * - tighten anything: a client `deny` denies, a client `ask` turns an `allow` into `ask`;
 * - loosen only a *default*: a client `allow` allows a tool that no server or global rule named
 *   (its decision came from `tools.default` / `policy.default`), but never overrides a rule's
 *   `ask` or `deny`, a managed requirement or a pin.
 * Pure: no I/O.
 */
import type { Identity } from '../caller/caller.js';
import type { ClientRuleSet, PolicySection, ServerConfig } from '../config/types.js';
import { compileGlob, type Matcher } from './glob.js';
import type { LayerRules, ToolPolicy } from './layers.js';
import { serverPathContext, type PathContext } from './pathGlob.js';
import { compileUserRules } from './userRules.js';
import type { Verdict } from './verdict.js';

/** The client rules that apply to one identity. */
export interface ClientRules {
  /** Describes which `clients` entries matched, e.g. `clients[0], clients[2]`. */
  readonly matched: string;
  /** What the rules say of `tool` on `server`; undefined when none names it. Cached. */
  forTool(server: string, tool: string): LayerRules | undefined;
}

/** Finds (and caches) the client rules for an identity. */
export interface ClientDirectory {
  /** The rules for `identity`, or undefined when no `clients` entry matches it (the common case). */
  forIdentity(identity: Identity | undefined): ClientRules | undefined;
}

/**
 * Compiles the `clients` section once; `servers` give path conditions their cwd and home.
 * @example compileClients(config.clients ?? [], config.servers).forIdentity({ subject: 'alice', groups: [] })
 */
export function compileClients(sets: readonly ClientRuleSet[], servers: readonly ServerConfig[] = []): ClientDirectory {
  const contexts = new Map(servers.map((server) => [server.name, serverPathContext(server)]));
  const pathContext = (name: string): PathContext => contexts.get(name) ?? {};
  const matchers = sets.map((set) => ({ set, subject: set.subject ? compileGlob(set.subject) : undefined, group: set.group ? compileGlob(set.group) : undefined }));
  const byMatch = new Map<string, ClientRules>();
  // An identity object is reused by every request of a session or token: match it once.
  const byIdentity = new WeakMap<Identity, ClientRules | null>();
  return {
    forIdentity(identity) {
      if (!identity || matchers.length === 0) return undefined;
      const known = byIdentity.get(identity);
      if (known !== undefined) return known ?? undefined;
      const matching = matchers.filter((m) => (m.subject ? m.subject(identity.subject) : identity.groups.some((g) => (m.group as Matcher)(g))));
      let rules: ClientRules | undefined;
      if (matching.length > 0) {
        const key = matching.map((m) => m.set.where).join(', ');
        rules = byMatch.get(key);
        if (!rules) byMatch.set(key, (rules = buildRules(key, matching.map((m) => m.set), pathContext)));
      }
      byIdentity.set(identity, rules ?? null);
      return rules;
    },
  };
}

function buildRules(matched: string, sets: readonly ClientRuleSet[], pathContext: (server: string) => PathContext): ClientRules {
  const section: PolicySection = {
    allow: sets.flatMap((s) => s.policy.allow),
    ask: sets.flatMap((s) => s.policy.ask),
    deny: sets.flatMap((s) => s.policy.deny),
  };
  // Rules read `server/tool` like gateway.yaml's; with no default set, "no client rule matched"
  // shows as a verdict decided by the default, which is the layer saying nothing.
  const rules = compileUserRules({ policy: { ...section, showDenied: false }, servers: [] }, { pathContext });
  const tools = new Map<string, LayerRules | null>();
  return {
    matched,
    forTool(server, tool) {
      const key = `${server}\u0000${tool}`;
      let layer = tools.get(key);
      if (layer === undefined) tools.set(key, (layer = asLayer(rules.forTool(server, tool))));
      return layer ?? undefined;
    },
  };
}

/** The client rules of one tool as a layer: a verdict decided by the default is no opinion (a fail-closed one stands). */
function asLayer(policy: ToolPolicy): LayerRules | null {
  const opinion = (verdict: Verdict): Verdict | undefined => (verdict.decidedBy === 'default' && !verdict.failClosed ? undefined : verdict);
  const listing = opinion(policy.listing);
  if (!policy.conditional) return listing === undefined ? null : { listing };
  return { listing, decide: (args) => opinion(policy.decide(args)) };
}
