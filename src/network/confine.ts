/**
 * What an upstream's (re)start asks of the network side: an unsandboxed stdio server gets the
 * proxy variables pointing at its own egress route (loopback TCP); a remote (Streamable HTTP /
 * SSE) server's URL is checked against its network policy first.
 */
import type { UpstreamTarget } from '../config/types.js';
import type { EgressRoute } from './egress.js';
import { proxyEnv } from './proxyEnv.js';

/** The egress side as an upstream sees it (bound by the composition root, src/gateway.ts). */
export interface UpstreamNetwork {
  /** The server's egress proxy route (undefined: it has none). */
  egress(server: string): Promise<EgressRoute | undefined>;
  /** Checks a remote upstream's URL against the network policy; throws MCPGATE_NETWORK_DENIED. */
  checkUrl(server: string, url: string): Promise<void>;
}

/** The target as it is started: proxy variables added (set last, so a servers.d env cannot route around them), or the URL checked. */
export async function confineTarget(network: UpstreamNetwork, server: string, target: UpstreamTarget): Promise<UpstreamTarget> {
  if (target.kind !== 'stdio') {
    await network.checkUrl(server, target.url);
    return target;
  }
  const route = await network.egress(server);
  return route ? { ...target, env: { ...target.env, ...proxyEnv(`http://127.0.0.1:${route.tcpPort}`) } } : target;
}
