/**
 * The gateway side of modern (2026-07-28) requests: what `server/discover` reports (exactly the
 * handlers mcpgate serves), the `clients:` rules of a caller, the `x-mcp-header` annotations the
 * header checks need, listen streams, and the hand-over to the same pipeline legacy sessions use.
 */
import type { JSONRPCRequest, RequestId, Result } from '@modelcontextprotocol/sdk/types.js';
import type { Catalog } from '../catalog/catalog.js';
import type { ClientDirectory } from '../policy/clients.js';
import { paramHeadersOf, type ParamHeader } from '../protocol/headers.js';
import type { Subscriptions } from '../pipeline/subscriptions.js';
import { Listener, Listeners, type ListedKind, type ResourceWatch } from './listeners.js';
import type { ModernHost } from './modern.js';
import type { ModernCaller } from './modernCaller.js';
import { ParkedCalls } from './modernBridge.js';
import type { RoundDeps } from './modernRounds.js';
import type { ClientSession, RequestExtra } from './session.js';

/** What the modern host needs from the gateway. */
export interface ModernHostDeps {
  readonly catalog: Catalog;
  readonly clients: ClientDirectory;
  readonly subscriptions: Subscriptions;
  /** The gateway's dispatcher (tracing included). */
  dispatch(caller: ClientSession, request: JSONRPCRequest, extra: RequestExtra): Promise<Result>;
  readonly instructions?: string;
  /** Sealing and opening request states. */
  readonly rounds: RoundDeps;
}

/**
 * A legacy-session-shaped view of a caller for the pipeline (until the pipeline takes a `Caller`):
 * the pipeline reads id, identity, clientRules, clientInfo, capabilities and notifies.
 */
function asSession(caller: ModernCaller): ClientSession {
  return caller as unknown as ClientSession;
}

/** Implements {@link ModernHost} over the gateway's catalog and pipeline. */
export class GatewayModernHost implements ModernHost, ResourceWatch {
  readonly listeners: Listeners;
  private readonly watchers = new Map<Listener, Map<string, ClientSession>>();
  /** Modern requests in the pipeline, by caller key (for attributing an upstream's asks). */
  private readonly inflight = new Map<string, Set<ModernCaller>>();

  readonly rounds: RoundDeps;
  readonly parked = new ParkedCalls();

  constructor(private readonly deps: ModernHostDeps) {
    this.listeners = new Listeners(this);
    this.rounds = deps.rounds;
  }

  discover(): { capabilities: Record<string, unknown>; instructions?: string } {
    // Every handler below answers (lists may be empty): the capabilities say exactly that.
    const capabilities: Record<string, unknown> = {
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      completions: {},
      logging: {},
    };
    return { capabilities, ...(this.deps.instructions ? { instructions: this.deps.instructions } : {}) };
  }

  prepare(caller: ModernCaller): void {
    caller.clientRules = this.deps.clients.forIdentity(caller.identity);
  }

  async dispatch(caller: ModernCaller, request: JSONRPCRequest, extra: RequestExtra): Promise<Result> {
    let calls = this.inflight.get(caller.id);
    if (!calls) this.inflight.set(caller.id, (calls = new Set()));
    calls.add(caller);
    try {
      return await this.deps.dispatch(asSession(caller), request, extra);
    } finally {
      calls.delete(caller);
      if (calls.size === 0) this.inflight.delete(caller.id);
    }
  }

  /**
   * The modern request an upstream's in-flight call belongs to: only when its caller key has
   * exactly this one request in flight (the legacy wire says nothing more; else undecidable: none).
   */
  callerFor(owner: { readonly session: string; readonly requestId?: RequestId }): ModernCaller | undefined {
    const calls = this.inflight.get(owner.session);
    if (!calls || calls.size !== 1) return undefined;
    const [caller] = calls as Set<ModernCaller>;
    return caller;
  }

  paramHeaders(toolName: string): readonly ParamHeader[] | undefined {
    const entry = this.deps.catalog.tool(toolName);
    return entry ? (paramHeadersOf(entry.publicTool.inputSchema) ?? []) : undefined;
  }

  listen(caller: ModernCaller, id: RequestId, params: Record<string, unknown>): Promise<void> {
    return this.listeners.listen(caller, id, params);
  }

  /** A public list changed: tells the listen streams that asked. */
  listChanged(kinds: ReadonlySet<ListedKind>): void {
    for (const kind of kinds) this.listeners.listChanged(kind);
  }

  async watch(listener: Listener, uris: readonly string[]): Promise<readonly string[]> {
    const catalog = this.deps.catalog;
    // Updates reach the stream through the shared per-URI upstream subscription, tagged with its id.
    const watcher = { id: listener.caller.id, subscriptions: new Set<string>(), notify: (n: { method: string; params?: Record<string, unknown> }) => listener.notify(n.method, n.params) };
    const session = watcher as unknown as ClientSession;
    const watched: string[] = [];
    for (const uri of new Set(uris)) {
      const upstream = catalog.resourceOwner(uri);
      if (!upstream || upstream.state !== 'ready' || !upstream.capabilities?.resources?.subscribe) continue;
      if (catalog.access(upstream).resources.decision !== 'allow') continue;
      try {
        await this.deps.subscriptions.subscribe(session, upstream, uri);
        watched.push(uri);
      } catch {
        // the upstream refused: not honoured (the acknowledgement leaves it out)
      }
    }
    this.watchers.set(listener, new Map(watched.map((uri) => [uri, session])));
    return watched;
  }

  unwatch(listener: Listener, uris: readonly string[]): void {
    const sessions = this.watchers.get(listener);
    this.watchers.delete(listener);
    for (const uri of uris) {
      const session = sessions?.get(uri);
      if (session) void this.deps.subscriptions.unsubscribe(session, this.deps.catalog.resourceOwner(uri), uri).catch(() => undefined);
    }
  }
}
