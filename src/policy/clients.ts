/**
 * Per-identity rules (gateway.yaml `clients:`), a layer applied on top of the per-tool verdict.
 * Pure: no I/O.
 *
 * How it composes: the rules of every `clients` entry matching the session (by subject glob, or
 * by any of its groups) join the rules that already apply to the tool, and the usual precedence
 * decides over all of them: deny > ask > allow > default. So a client rule can
 * - tighten anything: a client `deny` denies, a client `ask` turns an `allow` into `ask`;
 * - loosen only a *default*: a client `allow` allows a tool that no server or global rule named
 *   (its decision came from `tools.default` / `policy.default`), but never overrides a rule's
 *   `ask` or `deny` (nor, later, a managed requirement).
 * The same combination filters the session's `tools/list` and authorises its calls.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ClientRuleSet, PolicySection, ServerConfig } from '../config/types.js';
import { compileGlob, type Matcher } from './glob.js';
import { serverPathContext, type PathContext } from './pathGlob.js';
import { compilePolicy, type Policy } from './policy.js';
import { FAIL_CLOSED_VERDICT, type Verdict } from './verdict.js';

/** Who a session is: the verified token's subject and groups. */
export interface Identity {
  readonly subject: string;
  readonly groups: readonly string[];
}

/** A tool as the layer needs it: its server, upstream name, public definition and base policy. */
export interface LayerTool {
  readonly upstream: { readonly name: string };
  readonly name: string;
  readonly publicTool: Tool;
  readonly policy: { readonly listing: Verdict; decide(args: Readonly<Record<string, unknown>> | undefined): Verdict };
  /** Not listed whatever the rules (tool pinning). */
  readonly hidden?: boolean;
}

/** The client rules that apply to one identity. */
export interface ClientLayer {
  /** Describes which `clients` entries matched, e.g. `clients[0], clients[2]`. */
  readonly matched: string;
  /** The verdict for one call: `base` (the tool's own verdict) combined with the client rules. */
  decide(tool: LayerTool, args: Readonly<Record<string, unknown>> | undefined, base: Verdict): Verdict;
  /** The session's tools/list: `entries` filtered by the combined listing verdicts (cached per `entries` array). */
  listTools(entries: readonly LayerTool[], showDenied: boolean): readonly Tool[];
}

/** Finds (and caches) the layer for an identity. */
export interface ClientDirectory {
  /** The layer for `identity`, or undefined when no `clients` entry matches it (the common case). */
  forIdentity(identity: Identity | undefined): ClientLayer | undefined;
}

/**
 * Compiles the `clients` section once; `servers` give path conditions their cwd and home.
 * @example compileClients(config.clients ?? [], config.servers).forIdentity({ subject: 'alice', groups: [] })
 */
export function compileClients(sets: readonly ClientRuleSet[], servers: readonly ServerConfig[] = []): ClientDirectory {
  const contexts = new Map(servers.map((server) => [server.name, serverPathContext(server)]));
  const pathContext = (name: string): PathContext => contexts.get(name) ?? {};
  const matchers = sets.map((set) => ({ set, subject: set.subject ? compileGlob(set.subject) : undefined, group: set.group ? compileGlob(set.group) : undefined }));
  const layers = new Map<string, ClientLayer>();
  return {
    forIdentity(identity) {
      if (!identity || matchers.length === 0) return undefined;
      const matching = matchers.filter((m) => (m.subject ? m.subject(identity.subject) : identity.groups.some((g) => (m.group as Matcher)(g))));
      if (matching.length === 0) return undefined;
      const key = matching.map((m) => m.set.where).join(', ');
      let layer = layers.get(key);
      if (!layer) layers.set(key, (layer = buildLayer(key, matching.map((m) => m.set), pathContext)));
      return layer;
    },
  };
}

function buildLayer(matched: string, sets: readonly ClientRuleSet[], pathContext: (server: string) => PathContext): ClientLayer {
  const section: PolicySection = {
    allow: sets.flatMap((s) => s.policy.allow),
    ask: sets.flatMap((s) => s.policy.ask),
    deny: sets.flatMap((s) => s.policy.deny),
  };
  // Rules read `server/tool` like gateway.yaml's; with no default set, "no client rule matched"
  // shows as a verdict decided by the default.
  const policy: Policy = compilePolicy({ policy: { ...section, showDenied: false }, servers: [] }, { pathContext });
  let listedFrom: readonly LayerTool[] | undefined;
  let listedShowDenied = false;
  let listed: readonly Tool[] = [];
  return {
    matched,
    decide(tool, args, base) {
      return combineVerdicts(base, policy.forTool(tool.upstream.name, tool.name).decide(args));
    },
    listTools(entries, showDenied) {
      if (entries !== listedFrom || showDenied !== listedShowDenied) {
        listedFrom = entries;
        listedShowDenied = showDenied;
        listed = entries
          .filter((entry) => !entry.hidden && (showDenied || combineVerdicts(entry.policy.listing, policy.forTool(entry.upstream.name, entry.name).listing).decision !== 'deny'))
          .map((entry) => entry.publicTool);
      }
      return listed;
    },
  };
}

/**
 * `base` (the tool's verdict from server and global rules) combined with `client` (the client
 * layer's verdict): deny > ask > allow > default over both rule sets.
 * @example combineVerdicts(defaultAsk, clientAllow) // clientAllow
 */
export function combineVerdicts(base: Verdict, client: Verdict): Verdict {
  // Fail closed: either side that could not evaluate the arguments denies.
  if (base === FAIL_CLOSED_VERDICT || client === FAIL_CLOSED_VERDICT) return FAIL_CLOSED_VERDICT;
  if (client.decidedBy === 'default') return base; // no client rule matched
  if (base.decidedBy === 'default') return client; // a default yields to any matching rule
  if (base.decision === 'deny') return base;
  if (client.decision === 'deny') return client;
  if (client.decision === 'ask' && base.decision === 'allow') return client;
  return base;
}
