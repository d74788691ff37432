/**
 * `isolation: session`: one upstream process (or remote connection) per client session, for
 * servers that keep per-user state or send requests back to the client. This upstream itself
 * runs one instance that only lists what the server offers; each session's requests go to an
 * instance of its own, started on its first request, stopped when the session ends or after
 * `idleTimeout` without a request, at most `maxInstances` at once. Since an instance only ever
 * carries one session's calls, its sampling/elicitation/roots requests and log messages always
 * have exactly one session to go to, whatever else is in flight.
 */
import type { ServerConfig } from '../config/types.js';
import { ErrorCodes, GatewayError } from '../errors.js';
import type { ForwardOptions } from '../upstream/forwardOptions.js';
import { Upstream, type UpstreamDeps } from '../upstream/upstream.js';
import type { Result } from '@modelcontextprotocol/sdk/types.js';

interface Instance {
  readonly upstream: Upstream;
  readonly started: Promise<void>;
  active: number;
  idle: NodeJS.Timeout | undefined;
}

/** A server with one upstream instance per client session. */
export class SessionUpstream extends Upstream {
  private readonly instances = new Map<string, Instance>();
  private readonly isolation: NonNullable<ServerConfig['isolation']>;
  /** Set once retired or stopped: no new instance starts (a reload's successor takes new requests). */
  private ended: { readonly successor: Upstream | undefined } | undefined;

  constructor(config: ServerConfig & { readonly isolation: NonNullable<ServerConfig['isolation']> }, private readonly instanceDeps: UpstreamDeps) {
    super(config, instanceDeps);
    this.isolation = config.isolation;
  }

  /** Sessions with an instance running (or starting). */
  get instanceCount(): number {
    return this.instances.size;
  }

  /** Forwards to the calling session's own instance (started on first use); a request with no session goes to the listing instance. */
  override async request(method: string, params: Record<string, unknown> | undefined, options: ForwardOptions = {}): Promise<Result> {
    if (this.ended?.successor) return this.ended.successor.request(method, params, options);
    // the caller's key: a 2025 session's id (a stateless 2026 caller's key once that exists: docs/protocol.md §7.4)
    const session = options.owner?.caller.identity.key;
    if (session === undefined || this.ended) return super.request(method, params, options);
    const instance = this.instanceFor(session);
    instance.active++;
    clearTimeout(instance.idle);
    try {
      await instance.started;
      return await instance.upstream.request(method, params, options);
    } finally {
      instance.active--;
      if (instance.active === 0 && this.instances.get(session) === instance) this.armIdle(session, instance);
    }
  }

  /** The session ended: its instance stops. */
  sessionClosed(session: string): void {
    const instance = this.instances.get(session);
    if (!instance) return;
    this.instances.delete(session);
    clearTimeout(instance.idle);
    void instance.upstream.stop();
  }

  override reconfigure(config: ServerConfig): void {
    super.reconfigure(config);
    for (const instance of this.instances.values()) instance.upstream.reconfigure(config);
  }

  override async retire(graceMs: number, successor?: Upstream): Promise<void> {
    this.ended = { successor };
    const instances = [...this.instances.values()];
    this.instances.clear();
    await Promise.all([super.retire(graceMs, successor), ...instances.map((instance) => (clearTimeout(instance.idle), instance.upstream.retire(graceMs)))]);
  }

  override async stop(): Promise<void> {
    this.ended ??= { successor: undefined };
    const instances = [...this.instances.values()];
    this.instances.clear();
    await Promise.all([super.stop(), ...instances.map((instance) => (clearTimeout(instance.idle), instance.upstream.stop()))]);
  }

  private instanceFor(session: string): Instance {
    const existing = this.instances.get(session);
    if (existing) return existing;
    if (this.instances.size >= this.isolation.maxInstances) {
      throw new GatewayError(
        ErrorCodes.ISOLATION_LIMIT,
        `upstream "${this.name}" runs one instance per client session and already runs ${this.instances.size} (maxInstances: ${this.isolation.maxInstances})`,
        { remedy: `try again when another session ends or idles out (idleTimeout), or raise \`maxInstances\` in ${this.config.file}` },
      );
    }
    const upstream = new Upstream(this.config, this.instanceDeps, session);
    const instance: Instance = { upstream, started: upstream.start(), active: 0, idle: undefined };
    this.instances.set(session, instance);
    return instance;
  }

  private armIdle(session: string, instance: Instance): void {
    clearTimeout(instance.idle);
    instance.idle = setTimeout(() => {
      if (instance.active > 0 || this.instances.get(session) !== instance) return;
      this.instances.delete(session);
      void instance.upstream.stop();
    }, this.isolation.idleTimeoutMs);
    instance.idle.unref();
  }
}
