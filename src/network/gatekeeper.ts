/**
 * Decides one destination for one server: the policy on the name (a denied name is never
 * resolved), one DNS lookup, the policy on the addresses, and for an `ask` the approval broker
 * (through `ask`, which the composition root binds to the session whose call is in flight).
 * The proxy then connects only to the addresses judged here: there is no second lookup for DNS
 * rebinding to answer differently. Every failure is a deny (fail closed), never a throw.
 */
import { lookup } from 'node:dns/promises';
import { describeRule, type Verdict } from '../policy/verdict.js';
import type { DecidedBy } from '../telemetry/events.js';
import { parseIP, type Address, type Host } from './address.js';
import type { Decided, DecisionFields, ProxyDestination } from './connection.js';
import type { NetworkPolicy } from './policy.js';

/** Whose tool call is in flight on a server (when exactly one session's is). */
export interface NetworkOwner {
  readonly session: string;
  readonly call?: string;
  readonly tool?: string;
}

/** The approval broker's answer, as far as a network decision needs it. */
export interface AskAnswer {
  readonly decision: 'allow' | 'deny';
  readonly decidedBy: DecidedBy;
  readonly scope?: 'once' | 'session' | 'always';
  readonly reason: string;
  readonly waitMs: number;
  readonly via: NonNullable<DecisionFields['approval_channel']>;
  readonly rule?: string;
}

/** What the gatekeeper needs. */
export interface GatekeeperDeps {
  /** The server's compiled policy; undefined: the server has none (fail closed: deny). */
  policy(server: string): NetworkPolicy | undefined;
  /** The session/call in flight on the server, if exactly one session's is. */
  owner(server: string): NetworkOwner | undefined;
  /** Asks the approval broker (never rejects). */
  ask(server: string, host: string, port: number, verdict: Verdict, signal: AbortSignal): Promise<AskAnswer>;
  /** Resolves a name (default: the system resolver, bounded by `connectTimeoutMs`). */
  resolve?(name: string): Promise<readonly Address[]>;
  readonly connectTimeoutMs: number;
}

/** Decides a destination; never rejects. */
export async function decideDestination(deps: GatekeeperDeps, server: string, destination: ProxyDestination, signal: AbortSignal): Promise<Decided> {
  const owner = deps.owner(server);
  const who: DecisionFields = { decided_by: 'default', reason: '', ...(owner ? { session: owner.session, call: owner.call, tool: owner.tool } : {}) };
  try {
    const policy = deps.policy(server);
    if (!policy) return deny(who, 'default', `server "${server}" has no network policy: denied (fail closed)`);
    const { host, port } = destination;
    const early = policy.beforeResolving(host, port);
    if (early) return fromVerdict(who, early, []);
    const addresses = host.kind === 'ip' ? [host.address] : await (deps.resolve ?? ((name) => resolveName(name, deps.connectTimeoutMs)))(host.name);
    const verdict = policy.decide(host, port, addresses);
    if (verdict.decision !== 'ask') return fromVerdict(who, verdict, addresses);
    const answer = await deps.ask(server, hostOf(host), port, verdict, signal);
    const fields: DecisionFields = {
      ...who,
      decided_by: answer.decidedBy,
      rule: answer.rule ?? (verdict.rule ? describeRule(verdict.rule) : undefined),
      reason: answer.reason,
      ...(answer.scope ? { scope: answer.scope } : {}),
      approval_wait_ms: answer.waitMs,
      approval_channel: answer.via,
    };
    return { decision: answer.decision, addresses: answer.decision === 'allow' ? addresses : [], fields };
  } catch (error) {
    return deny(who, 'default', `${error instanceof Error ? error.message : String(error)}: denied (fail closed)`);
  }
}

/**
 * Resolves a name once, with every address it has (IPv4-mapped IPv6 answers become IPv4),
 * bounded in time; a failure throws a message that names the host.
 */
export async function resolveName(name: string, timeoutMs: number): Promise<readonly Address[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not resolve within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const answers = await Promise.race([lookup(name, { all: true, verbatim: true }), timeout]).catch((error: NodeJS.ErrnoException) => {
      throw new Error(error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN' ? `${name} does not resolve (${error.code})` : error.message);
    });
    const seen = new Map<string, Address>();
    for (const answer of answers) {
      const address = parseIP(answer.address);
      if (address) seen.set(address.text, address);
    }
    return [...seen.values()];
  } finally {
    clearTimeout(timer);
  }
}

function fromVerdict(who: DecisionFields, verdict: Verdict, addresses: readonly Address[]): Decided {
  const fields: DecisionFields = { ...who, decided_by: verdict.decidedBy, reason: verdict.reason, ...(verdict.rule ? { rule: describeRule(verdict.rule) } : {}) };
  return { decision: verdict.decision === 'allow' ? 'allow' : 'deny', addresses: verdict.decision === 'allow' ? addresses : [], fields };
}

function deny(who: DecisionFields, decidedBy: DecidedBy, reason: string): Decided {
  return { decision: 'deny', addresses: [], fields: { ...who, decided_by: decidedBy, reason } };
}

function hostOf(host: Host): string {
  return host.kind === 'name' ? host.name : host.address.text;
}
