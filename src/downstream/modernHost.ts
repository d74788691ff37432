/**
 * The gateway side of modern (2026-07-28) requests: what `server/discover` reports (exactly the
 * handlers mcpgate serves), the `x-mcp-header` annotations the header checks need, listen
 * streams, and the hand-over to the same pipeline legacy sessions use (a {@link ModernCaller} is a
 * `Caller` like a session's).
 */
import type { JSONRPCRequest, RequestId, Result } from '@modelcontextprotocol/sdk/types.js';
import type { Caller, Subscriber } from '../caller/caller.js';
import type { Catalog } from '../catalog/catalog.js';
import { paramHeadersOf, type ParamHeader } from '../protocol/headers.js';
import { TASKS_EXTENSION } from '../protocol/taskId.js';
import type { Upstream } from '../upstream/upstream.js';
import { Listener, Listeners, type ListedKind, type ResourceWatch } from './listeners.js';
import type { ModernHost } from './modern.js';
import type { ModernCaller } from './modernCaller.js';
import { ParkedCalls } from './modernBridge.js';
import type { RoundDeps } from './modernRounds.js';

/** What the modern host needs from the gateway. */
export interface ModernHostDeps {
  readonly catalog: Catalog;
  /** The resource subscriptions sessions share (src/pipeline/subscriptions.ts: one upstream subscription per URI). */
  readonly subscriptions: {
    subscribe(subscriber: Subscriber, upstream: Upstream, uri: string): Promise<void>;
    unsubscribe(subscriber: Subscriber, upstream: Upstream | undefined, uri: string): Promise<void>;
  };
  /** Resolves once the first start of every upstream has settled (bounded): discover reports what they offer. */
  ready(): Promise<void>;
  /** The gateway's dispatcher (tracing included). */
  dispatch(caller: Caller, request: JSONRPCRequest): Promise<Result>;
  readonly instructions?: string;
  /** Sealing and opening request states. */
  readonly rounds: RoundDeps;
}

/** Implements {@link ModernHost} over the gateway's catalog and pipeline. */
export class GatewayModernHost implements ModernHost, ResourceWatch {
  readonly listeners: Listeners;
  private readonly watchers = new Map<Listener, Subscriber>();

  readonly rounds: RoundDeps;
  readonly parked = new ParkedCalls();

  constructor(private readonly deps: ModernHostDeps) {
    this.listeners = new Listeners(this);
    this.rounds = deps.rounds;
  }

  async discover(): Promise<{ capabilities: Record<string, unknown>; instructions?: string }> {
    // What the upstreams offer (the tasks extension) is known once they started, as for the lists.
    await this.deps.ready();
    // Every handler below answers (lists may be empty): the capabilities say exactly that.
    const capabilities: Record<string, unknown> = {
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      completions: {},
      logging: {},
      // The tasks extension passes through (src/pipeline/taskRequest.ts) when an upstream offers it.
      ...(this.deps.catalog.offersExtension(TASKS_EXTENSION) ? { extensions: { [TASKS_EXTENSION]: {} } } : {}),
    };
    return { capabilities, ...(this.deps.instructions ? { instructions: this.deps.instructions } : {}) };
  }

  dispatch(caller: ModernCaller, request: JSONRPCRequest): Promise<Result> {
    return this.deps.dispatch(caller, request);
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
    const subscriber: Subscriber = { subscriptions: new Set<string>(), notify: (n) => listener.notify(n.method, n.params) };
    for (const uri of new Set(uris)) {
      const upstream = catalog.resourceOwner(uri);
      if (!upstream || upstream.state !== 'ready' || !upstream.capabilities?.resources?.subscribe) continue;
      if (catalog.access(upstream).resources.decision !== 'allow') continue;
      try {
        await this.deps.subscriptions.subscribe(subscriber, upstream, uri);
      } catch {
        // the upstream refused: not honoured (the acknowledgement leaves it out)
      }
    }
    this.watchers.set(listener, subscriber);
    return [...subscriber.subscriptions];
  }

  unwatch(listener: Listener): void {
    const subscriber = this.watchers.get(listener);
    if (!subscriber) return;
    this.watchers.delete(listener);
    for (const uri of [...subscriber.subscriptions]) {
      void this.deps.subscriptions.unsubscribe(subscriber, this.deps.catalog.resourceOwner(uri), uri).catch(() => undefined);
    }
  }
}
