/**
 * The network side of a gateway, assembled: each server's compiled policy (gateway.yaml and its
 * servers.d `network`, under the managed requirements), the egress proxy, and the check of a
 * remote upstream's URL. The composition root (src/gateway.ts) supplies who is calling and how
 * to ask; upstreams see it as {@link UpstreamNetwork}.
 */
import type { GatewayConfig } from '../config/types.js';
import { ErrorCodes, GatewayError, messageOf } from '../errors.js';
import { displayUrl } from '../secrets/displayUrl.js';
import type { EventSink } from '../telemetry/events.js';
import type { Logger } from '../telemetry/logger.js';
import { describeRule, type Verdict } from '../policy/verdict.js';
import { hostText, parseHost, type Address } from './address.js';
import type { UpstreamNetwork } from './confine.js';
import { Egress, type EgressRoute } from './egress.js';
import { decideDestination, resolveName, type AskAnswer, type NetworkOwner } from './gatekeeper.js';
import { compileNetworkPolicies, urlDestination, type NetworkPolicy } from './policy.js';

/** A network ask handed to the approval broker. */
export interface NetworkAskRequest {
  readonly server: string;
  readonly host: string;
  readonly port: number;
  readonly verdict: Verdict;
  readonly signal: AbortSignal;
}

/** What the network side needs from the gateway. */
export interface NetworkOptions {
  readonly config: GatewayConfig;
  readonly events: EventSink;
  readonly logger: Logger;
  /** The session/call in flight on a server, if exactly one session's is. */
  owner(server: string): NetworkOwner | undefined;
  /** Asks the approval broker (never rejects). */
  ask(request: NetworkAskRequest): Promise<AskAnswer>;
}

/** Policies, proxy and URL checks of every configured server. */
export class Network implements UpstreamNetwork {
  private policies: ReadonlyMap<string, NetworkPolicy>;
  private readonly stdio = new Set<string>();
  private readonly egressProxy: Egress;

  constructor(private readonly options: NetworkOptions) {
    const { config } = options;
    this.policies = compileNetworkPolicies(config);
    for (const server of config.servers) if (server.target.kind === 'stdio') this.stdio.add(server.name);
    const gatekeeper = {
      policy: (server: string) => this.policies.get(server),
      owner: options.owner,
      ask: (server: string, host: string, port: number, verdict: Verdict, signal: AbortSignal) => options.ask({ server, host, port, verdict, signal }),
      connectTimeoutMs: config.network.connectTimeoutMs,
    };
    this.egressProxy = new Egress({
      decide: (server, destination, signal) => decideDestination(gatekeeper, server, destination, signal),
      record: (event) => options.events.emit(event),
      maxConnections: config.network.maxConnections,
      idleTimeoutMs: config.network.idleTimeoutMs,
      connectTimeoutMs: config.network.connectTimeoutMs,
      logger: options.logger,
    });
  }

  /**
   * Takes a reloaded configuration's server list and rules (src/reload): connections opened from
   * now on are judged by them. The proxy's limits stay those the gateway started with.
   */
  reconfigure(config: GatewayConfig): void {
    this.policies = compileNetworkPolicies(config);
    this.stdio.clear();
    for (const server of config.servers) if (server.target.kind === 'stdio') this.stdio.add(server.name);
  }

  /** The server's compiled policy. */
  policy(server: string): NetworkPolicy | undefined {
    return this.policies.get(server);
  }

  /**
   * Whether the current policy denies a destination a pending network ask names (a reload
   * re-decides those: src/reload/revisit.ts): a verdict when it is denied now (by name, or by the
   * address of an IP literal; a server without a policy any more is denied), else undefined.
   */
  deniedNow(server: string, host: string, port: number): Verdict | undefined {
    const policy = this.policies.get(server);
    if (!policy) return { decision: 'deny', decidedBy: 'default', reason: `server "${server}" has no network policy any more` };
    const parsed = parseHost(host);
    if ('error' in parsed) return { decision: 'deny', decidedBy: 'default', reason: `invalid host: ${parsed.error}` };
    const verdict = parsed.kind === 'ip' ? policy.decide(parsed, port, [parsed.address]) : policy.beforeResolving(parsed, port);
    return verdict?.decision === 'deny' ? verdict : undefined;
  }

  /** A stdio server's egress route; undefined for a remote server, or when the proxy cannot listen (logged). */
  async egress(server: string): Promise<EgressRoute | undefined> {
    if (!this.stdio.has(server)) return undefined;
    try {
      return await this.egressProxy.route(server);
    } catch (error) {
      this.options.logger.error({ server }, `egress proxy for "${server}" could not listen: ${messageOf(error)}`);
      return undefined;
    }
  }

  async checkUrl(server: string, url: string): Promise<void> {
    const policy = this.policies.get(server);
    const target = urlDestination(url);
    const port = 'error' in target ? 0 : target.port;
    const hostName = 'error' in target ? '' : hostText(target.host);
    const record = (verdict: Pick<Verdict, 'decision' | 'decidedBy' | 'reason' | 'rule'>, address?: string) =>
      this.options.events.emit({
        event: 'mcpgate.network.decision',
        server,
        host: hostName,
        port,
        ...(address ? { address } : {}),
        protocol: 'upstream_url',
        decision: verdict.decision === 'deny' ? 'deny' : 'allow',
        decided_by: verdict.decidedBy,
        ...(verdict.rule ? { rule: describeRule(verdict.rule) } : {}),
        reason: verdict.reason,
      });
    const refuse = (reason: string) =>
      new GatewayError(ErrorCodes.NETWORK_DENIED, `upstream URL ${displayUrl(url)} refused by the network policy: ${reason}`, {
        remedy: 'remove the deny rule that names it (gateway.yaml / servers.d network.deny), or ask the administrator (managed network.deny / network.allowOnly)',
      });
    if ('error' in target || !policy) {
      const verdict = { decision: 'deny' as const, decidedBy: 'default' as const, reason: 'error' in target ? `invalid host: ${target.error}` : 'the server has no network policy (fail closed)' };
      record(verdict);
      throw refuse(verdict.reason);
    }
    const { host } = target;
    // A name that does not resolve is judged by name only: the transport then fails to connect on its own.
    const addresses: readonly Address[] = host.kind === 'ip' ? [host.address] : await resolveName(host.name, this.options.config.network.connectTimeoutMs).catch(() => []);
    const verdict = policy.checkUpstreamUrl(host, port, addresses);
    record(verdict, addresses[0]?.text);
    if (verdict.decision === 'deny') throw refuse(verdict.reason);
  }

  /** A removed server's egress route stops (its listeners and open connections). */
  release(server: string): Promise<void> {
    return this.egressProxy.release(server);
  }

  /** Stops the proxy; open connections are closed and recorded. */
  close(): Promise<void> {
    return this.egressProxy.close();
  }
}
