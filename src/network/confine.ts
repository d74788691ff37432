/**
 * What an upstream's (re)start asks of the network side: its egress route (the sandbox launcher
 * binds it into the sandbox, or points an unconfined server's proxy variables at its loopback
 * port: src/sandbox/launcher.ts) and, for a remote (Streamable HTTP / SSE) server, a check of its
 * URL against the network policy.
 */
import type { EgressRoute } from './egress.js';

/** The egress side as an upstream sees it (bound by the composition root, src/gateway.ts). */
export interface UpstreamNetwork {
  /** The server's egress proxy route (undefined: it has none). */
  egress(server: string): Promise<EgressRoute | undefined>;
  /** Checks a remote upstream's URL against the network policy; throws MCPGATE_NETWORK_DENIED. */
  checkUrl(server: string, url: string): Promise<void>;
}
