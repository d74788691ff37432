/**
 * The upstreams in service, by server name, as a reload changes them (src/reload/plan.ts decides
 * how): removed ones stop taking calls and are retired (they finish those in flight, bounded by
 * their `timeout`); added ones start; a replaced one keeps serving until its successor's first
 * start settled, then hands it new requests; a reconfigured one takes its new settings in the same
 * process. The gateway owns one and rebuilds its catalog when told the set changed.
 */
import type { ServerConfig } from '../config/types.js';
import { SessionUpstream } from '../isolation/sessionUpstream.js';
import type { Upstream } from '../upstream/upstream.js';
import type { ServerChanges } from './plan.js';

/** The upstreams in service and those a reload retired. */
export class UpstreamSet {
  private readonly running = new Map<string, Upstream>();
  /** Removed or replaced by a reload, finishing their calls in flight. */
  private readonly retiring = new Set<Upstream>();

  /**
   * `make` builds a server's upstream (shared, or one instance per session: src/isolation);
   * `removed` is told when a server a reload removed has finished its calls and stopped.
   */
  constructor(
    private readonly make: (server: ServerConfig) => Upstream,
    private readonly removed: (name: string) => void = () => undefined,
  ) {}

  /** The upstreams in service, by server name. */
  get inService(): ReadonlyMap<string, Upstream> {
    return this.running;
  }

  /** Adds the enabled servers of the starting configuration (not started yet). */
  addAll(servers: readonly ServerConfig[]): void {
    for (const server of servers) if (server.enabled) this.running.set(server.name, this.make(server));
  }

  /**
   * Applies a reload's `changes` with the reloaded `servers`; `changed` is called whenever the set
   * in service changed (the catalog rebuilds). Resolves once every started upstream's first start
   * settled, with the names of those that did not become ready.
   */
  async apply(servers: readonly ServerConfig[], changes: ServerChanges, changed: () => void): Promise<string[]> {
    const byName = new Map(servers.filter((server) => server.enabled).map((server) => [server.name, server]));
    for (const name of changes.removed) {
      const old = this.running.get(name);
      this.running.delete(name);
      // A server added back meanwhile keeps its route: only a name still out of service is released.
      if (old) void this.retire(old).then(() => (this.running.has(name) ? undefined : this.removed(name)));
    }
    for (const name of changes.reconfigured) {
      const server = byName.get(name);
      if (server) this.running.get(name)?.reconfigure(server);
    }
    const starting = new Map<string, Upstream>();
    for (const name of [...changes.added, ...changes.restarted]) {
      const server = byName.get(name);
      if (server) starting.set(name, this.make(server));
    }
    for (const name of changes.added) {
      const upstream = starting.get(name);
      if (upstream) this.running.set(name, upstream);
    }
    changed();
    await Promise.all([...starting.values()].map((upstream) => upstream.start()));
    for (const name of changes.restarted) {
      const fresh = starting.get(name);
      const old = this.running.get(name);
      if (!fresh) continue;
      this.running.set(name, fresh);
      if (old) void this.retire(old, fresh);
    }
    if (changes.restarted.length > 0) changed();
    return [...starting.values()].filter((upstream) => upstream.state !== 'ready').map((upstream) => upstream.name);
  }

  /** A client session ended: its own instances (isolation: session) stop. */
  sessionClosed(session: string): void {
    for (const upstream of this.running.values()) if (upstream instanceof SessionUpstream) upstream.sessionClosed(session);
  }

  /** Stops every upstream, those still finishing calls after a reload too. */
  async stop(): Promise<void> {
    await Promise.all([...this.running.values(), ...this.retiring].map((upstream) => upstream.stop()));
  }

  private retire(upstream: Upstream, successor?: Upstream): Promise<void> {
    this.retiring.add(upstream);
    return upstream
      .retire(upstream.config.timeoutMs, successor)
      .catch(() => undefined) // a retirement that failed still ends
      .finally(() => this.retiring.delete(upstream));
  }
}
