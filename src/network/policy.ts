/**
 * The egress policy of one upstream server: which destinations (host, port, and the addresses
 * the host resolves to) it may reach: allow, ask or deny. Pure: the proxy resolves names and
 * hands the addresses in.
 *
 * Precedence, over the managed layer, gateway.yaml and the server's own file together:
 *   1. a managed `network.deny` rule, or a destination outside managed `network.allowOnly` → deny (managed)
 *   2. a `deny` rule (by name, or by an IP/CIDR rule holding a resolved address) → deny
 *   3. a special address (loopback, private, link-local, CGNAT, metadata, multicast, reserved…)
 *      or special name (`localhost`, metadata names) that no allow/ask rule names explicitly → deny
 *   4. an `ask` rule → ask;  5. an `allow` rule → allow;  6. the default (server's, else global, else ask).
 */
import type { Decision } from '../config/schema.js';
import type { GatewayConfig, PolicySection, SourcedRule } from '../config/types.js';
import { defaultVerdict, ruleVerdict, type RuleRef, type Verdict } from '../policy/verdict.js';
import { destinationText, hostText, parseHost, specialKind, specialName, type Address, type Host } from './address.js';
import { compileNetworkRules, matchesAddress, matchesHost, namesExplicitly, portMatches, type NetworkRule } from './rules.js';

/** The managed layer's network part (requirements file). */
export interface ManagedNetwork {
  readonly file: string;
  readonly deny: readonly SourcedRule[];
  /** The only destinations that may ever be reached; absent: no cap. */
  readonly allowOnly?: readonly SourcedRule[];
}

/** What a network policy is built from. */
export interface NetworkSources {
  readonly global?: PolicySection;
  readonly server?: PolicySection;
  readonly managed?: ManagedNetwork;
}

interface Compiled {
  readonly rule: NetworkRule;
  readonly ref: RuleRef;
  readonly verdict: Verdict;
}

/** A rule of the effective policy as `mcpgate tools`/`check` print it. */
export interface EffectiveRule {
  readonly rule: string;
  /** `servers.d/x.yaml network.allow[0]` or `managed: FILE network.deny[1]`. */
  readonly source: string;
}

/** The effective policy in print (`mcpgate tools --json`). */
export interface EffectivePolicy {
  readonly default: Decision;
  readonly default_source: string;
  readonly deny: readonly EffectiveRule[];
  readonly ask: readonly EffectiveRule[];
  readonly allow: readonly EffectiveRule[];
  readonly allow_only?: readonly EffectiveRule[];
}

/** The compiled policy of one server. */
export class NetworkPolicy {
  private readonly managedDeny: readonly Compiled[];
  private readonly allowOnly: readonly Compiled[] | undefined;
  private readonly deny: readonly Compiled[];
  private readonly ask: readonly Compiled[];
  private readonly allow: readonly Compiled[];
  private readonly fallback: Verdict;
  private readonly fallbackSource: string;
  private readonly managedFile: string | undefined;

  constructor(sources: NetworkSources) {
    const { global, server, managed } = sources;
    const compile = (rules: readonly SourcedRule[], decision: Decision, isManaged = false): Compiled[] => {
      const compiled = compileNetworkRules(rules.map((r) => r.rule as string));
      return compiled.map((rule, i) => {
        const sourced = rules[i] as SourcedRule;
        const ref: RuleRef = { source: sourced.source, where: sourced.where, text: rule.text, ...(sourced.line === undefined ? {} : { line: sourced.line }) };
        const verdict = ruleVerdict(decision, ref, undefined);
        return { rule, ref, verdict: isManaged ? Object.freeze({ ...verdict, decidedBy: 'managed' as const, reason: `${verdict.reason.replace(' by ', ' by managed: ')}` }) : verdict };
      });
    };
    const both = (kind: 'allow' | 'ask' | 'deny') => [...(server?.[kind] ?? []), ...(global?.[kind] ?? [])];
    this.managedFile = managed?.file;
    this.managedDeny = compile(managed?.deny ?? [], 'deny', true);
    this.allowOnly = managed?.allowOnly ? compile(managed.allowOnly, 'allow', true) : undefined;
    this.deny = compile(both('deny'), 'deny');
    this.ask = compile(both('ask'), 'ask');
    this.allow = compile(both('allow'), 'allow');
    const setBy = server?.default !== undefined ? server.defaultSource : global?.default !== undefined ? global.defaultSource : undefined;
    const decision = server?.default ?? global?.default ?? 'ask';
    this.fallbackSource = setBy ? `${setBy.source} ${setBy.where}` : 'built-in default';
    this.fallback = defaultVerdict(decision, setBy ? this.fallbackSource : undefined);
  }

  /** The decision for destinations no rule names. */
  get defaultDecision(): Decision {
    return this.fallback.decision;
  }

  /**
   * What can be decided from the name alone, before any DNS lookup (a denied name is never
   * resolved, so a DNS query cannot carry data out for it); undefined: resolve, then {@link decide}.
   */
  beforeResolving(host: Host, port: number): Verdict | undefined {
    const named = (list: readonly Compiled[]) => list.find((c) => portMatches(c.rule, port) && matchesHost(c.rule, host));
    const denied = named(this.managedDeny) ?? named(this.deny);
    if (denied) return denied.verdict;
    if (this.allowOnly && !named(this.allowOnly) && (host.kind === 'ip' || !this.allowOnly.some((c) => c.rule.target.kind === 'cidr'))) {
      return this.outsideAllowOnly(host, port);
    }
    const kind = host.kind === 'name' ? specialName(host.name) : undefined;
    if (kind && !this.explicitlyNamed(host, port, undefined)) return builtIn(`${hostText(host)} is a ${kind} name`);
    return undefined;
  }

  /** The decision for a destination whose host resolved to `addresses` (an IP literal: itself). */
  decide(host: Host, port: number, addresses: readonly Address[]): Verdict {
    const early = this.beforeResolving(host, port);
    if (early) return early;
    if (addresses.length === 0) return FAIL_CLOSED_NO_ADDRESS;
    for (const address of addresses) {
      const byAddress = (list: readonly Compiled[]) => list.find((c) => portMatches(c.rule, port) && matchesAddress(c.rule, address));
      const denied = byAddress(this.managedDeny) ?? byAddress(this.deny);
      if (denied) return resolvedTo(denied.verdict, host, address);
      if (this.allowOnly && !this.allowOnly.some((c) => portMatches(c.rule, port) && (matchesHost(c.rule, host) || matchesAddress(c.rule, address)))) {
        return this.outsideAllowOnly(host, port, address);
      }
      const kind = specialKind(address);
      if (kind && !this.explicitlyNamed(host, port, address)) {
        const what = host.kind === 'ip' ? `${address.text} is a ${kind} address` : `${host.name} resolves to ${address.text}, a ${kind} address`;
        return builtIn(what);
      }
    }
    const matches = (c: Compiled) => portMatches(c.rule, port) && (matchesHost(c.rule, host) || addresses.some((a) => matchesAddress(c.rule, a)));
    const asked = this.ask.find(matches);
    if (asked) return asked.verdict;
    // Allowed by name, or every address it resolved to is in an allowed range.
    const byName = this.allow.find((c) => portMatches(c.rule, port) && matchesHost(c.rule, host));
    if (byName) return byName.verdict;
    const inRange = addresses.map((a) => this.allow.find((c) => portMatches(c.rule, port) && matchesAddress(c.rule, a)));
    if (inRange.every((c) => c !== undefined)) return resolvedTo((inRange[0] as Compiled).verdict, host, addresses[0] as Address);
    return this.fallback;
  }

  /**
   * The check of a Streamable HTTP / SSE upstream's own URL: the admin wrote it, so it counts as
   * named (special addresses included), but every deny and the managed allow-list still apply.
   */
  checkUpstreamUrl(host: Host, port: number, addresses: readonly Address[]): Verdict {
    const named = (list: readonly Compiled[], address?: Address) =>
      list.find((c) => portMatches(c.rule, port) && (address ? matchesAddress(c.rule, address) : matchesHost(c.rule, host)));
    const denied = named(this.managedDeny) ?? named(this.deny);
    if (denied) return denied.verdict;
    for (const address of addresses) {
      const byAddress = named(this.managedDeny, address) ?? named(this.deny, address);
      if (byAddress) return resolvedTo(byAddress.verdict, host, address);
      if (this.allowOnly && !this.allowOnly.some((c) => portMatches(c.rule, port) && (matchesHost(c.rule, host) || matchesAddress(c.rule, address)))) {
        return this.outsideAllowOnly(host, port, address);
      }
    }
    return UPSTREAM_URL_ALLOWED;
  }

  /** The effective rules in precedence order, for `mcpgate tools`/`check`. */
  effective(): EffectivePolicy {
    const list = (rules: readonly Compiled[], managed = false) =>
      rules.map((c) => ({ rule: c.rule.text, source: `${managed ? 'managed: ' : ''}${c.ref.source} ${c.ref.where}` }));
    return {
      default: this.fallback.decision,
      default_source: this.fallbackSource,
      deny: [...list(this.managedDeny, true), ...list(this.deny)],
      ask: list(this.ask),
      allow: list(this.allow),
      ...(this.allowOnly ? { allow_only: list(this.allowOnly, true) } : {}),
    };
  }

  private explicitlyNamed(host: Host, port: number, address: Address | undefined): boolean {
    return [...this.ask, ...this.allow].some((c) => portMatches(c.rule, port) && namesExplicitly(c.rule, host, address));
  }

  private outsideAllowOnly(host: Host, port: number, address?: Address): Verdict {
    const where = address && host.kind === 'name' ? ` (resolves to ${address.text})` : '';
    return Object.freeze({
      decision: 'deny',
      decidedBy: 'managed',
      reason: `${destinationText(hostText(host), port)}${where} is outside the managed allow-list (${this.managedFile ?? 'requirements'} network.allowOnly)`,
    });
  }
}

/**
 * Every configured server's policy: gateway.yaml's `network`, the server's own, the managed layer.
 * @example compileNetworkPolicies(config).get('github')?.defaultDecision // 'ask'
 */
export function compileNetworkPolicies(config: Pick<GatewayConfig, 'network' | 'servers' | 'requirements'>): Map<string, NetworkPolicy> {
  const managed = config.requirements?.network ? { file: config.requirements.file, ...config.requirements.network } : undefined;
  return new Map(
    config.servers.map((server) => [server.name, new NetworkPolicy({ global: config.network, ...(server.network ? { server: server.network } : {}), ...(managed ? { managed } : {}) })]),
  );
}

/**
 * The effective policy on one line, for `mcpgate check` / `tools`.
 * @example policyLine(policy) // 'default deny (gateway.yaml network.default); deny: 127.0.0.3 (gateway.yaml network.deny[0]); allow: …'
 */
export function policyLine(effective: EffectivePolicy): string {
  const list = (name: string, rules: readonly EffectiveRule[] | undefined) => (rules && rules.length > 0 ? [`${name}: ${rules.map((r) => `${r.rule} (${r.source})`).join(', ')}`] : []);
  return [
    `default ${effective.default} (${effective.default_source})`,
    ...list('deny', effective.deny),
    ...list('ask', effective.ask),
    ...list('allow', effective.allow),
    ...list('allowOnly', effective.allow_only),
    'loopback/private/link-local/metadata: denied unless named',
  ].join('; ');
}

/** A remote upstream URL's destination: canonical host and port (default 80/443), or why it has none. */
export function urlDestination(url: string): { readonly host: Host; readonly port: number } | { readonly error: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { error: 'not a URL' };
  }
  const host = parseHost(parsed.hostname);
  if ('error' in host) return host;
  return { host, port: parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80 };
}

/** A deny by an address rule says which address it held. */
function resolvedTo(verdict: Verdict, host: Host, address: Address): Verdict {
  if (host.kind === 'ip') return verdict;
  return Object.freeze({ ...verdict, reason: `${host.name} resolves to ${address.text}: ${verdict.reason}` });
}

/** The built-in protection of special names and addresses. */
function builtIn(what: string): Verdict {
  return Object.freeze({
    decision: 'deny',
    decidedBy: 'default',
    reason: `${what}: denied unless a network rule names it (an IP literal, a CIDR range or this exact host)`,
  });
}

/** Fail closed: a name that resolved to nothing is never connected to. */
const FAIL_CLOSED_NO_ADDRESS: Verdict = Object.freeze({ decision: 'deny', decidedBy: 'default', reason: 'the host resolved to no address: denied (fail closed)' });

const UPSTREAM_URL_ALLOWED: Verdict = Object.freeze({ decision: 'allow', decidedBy: 'rule', reason: 'the upstream URL of the server file, no network rule denies it' });
