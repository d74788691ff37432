/**
 * `subscriptions/listen` (basic/patterns/subscriptions): each listen request is a stream that
 * first carries the acknowledgement (the subset of the filter mcpgate honours), then only the
 * notification types it asked for, every one tagged with the listen request's id, until the
 * client closes it or the gateway ends it with the graceful result. It replaces the 2025 GET
 * stream and `resources/subscribe` for modern clients; nothing outlives the stream.
 */
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { ErrorCodes, ProtocolError } from '../errors.js';
import { modernResult } from '../protocol/results.js';
import { MetaKeys } from '../protocol/revisions.js';
import type { ModernCaller } from './modernCaller.js';

const FilterSchema = z.looseObject({
  toolsListChanged: z.boolean().optional(),
  promptsListChanged: z.boolean().optional(),
  resourcesListChanged: z.boolean().optional(),
  resourceSubscriptions: z.array(z.string().max(4096)).max(1000).optional(),
});

/** What a listen stream asked for (and, in the acknowledgement, what mcpgate honours). */
export type SubscriptionFilter = z.infer<typeof FilterSchema>;

/** The list a `list_changed` notification is about. */
export type ListedKind = 'tools' | 'prompts' | 'resources';

const FLAG: Record<ListedKind, 'toolsListChanged' | 'promptsListChanged' | 'resourcesListChanged'> = {
  tools: 'toolsListChanged',
  prompts: 'promptsListChanged',
  resources: 'resourcesListChanged',
};

/** Resource subscriptions of a listen stream, kept by the gateway (one shared upstream subscription per URI). */
export interface ResourceWatch {
  /** Subscribes the URIs it may (exists, allowed, its upstream supports subscribe); returns those. */
  watch(listener: Listener, uris: readonly string[]): Promise<readonly string[]>;
  /** Drops what {@link watch} subscribed for it. */
  unwatch(listener: Listener): void;
}

/** One open listen stream. */
export class Listener {
  constructor(
    readonly caller: ModernCaller,
    readonly id: RequestId,
    readonly filter: SubscriptionFilter,
  ) {}

  /** Writes a notification tagged with this stream's subscription id. */
  notify(method: string, params: Record<string, unknown> = {}): void {
    const meta = typeof params._meta === 'object' && params._meta !== null ? params._meta : {};
    this.caller.stream.notify({ jsonrpc: '2.0', method, params: { ...params, _meta: { ...meta, [MetaKeys.subscriptionId]: this.id } } });
  }

  /** Ends the stream gracefully (the result closing a subscription carries its id). */
  close(): void {
    const result = modernResult('subscriptions/listen', { _meta: { [MetaKeys.subscriptionId]: this.id } });
    this.caller.stream.finish({ jsonrpc: '2.0', id: this.id, result }, 200);
  }
}

/** Every open listen stream of the gateway. */
export class Listeners {
  private readonly open = new Set<Listener>();
  private readonly closers = new Map<Listener, () => void>();

  constructor(private readonly resources: ResourceWatch) {}

  /** Serves one listen request: acknowledges, then holds the stream until it ends. */
  async listen(caller: ModernCaller, id: RequestId, params: Record<string, unknown>): Promise<void> {
    const parsed = FilterSchema.safeParse(params.notifications);
    if (!parsed.success) throw new ProtocolError(ErrorCodes.REQUEST_META_INVALID, -32602, 'Invalid params: subscriptions/listen needs params.notifications (a subscription filter)');
    const asked = parsed.data;
    const listener = new Listener(caller, id, {});
    const uris = asked.resourceSubscriptions?.length ? await this.resources.watch(listener, asked.resourceSubscriptions) : [];
    const honoured: SubscriptionFilter = {
      ...(asked.toolsListChanged ? { toolsListChanged: true } : {}),
      ...(asked.promptsListChanged ? { promptsListChanged: true } : {}),
      ...(asked.resourcesListChanged ? { resourcesListChanged: true } : {}),
      ...(asked.resourceSubscriptions ? { resourceSubscriptions: [...uris] } : {}),
    };
    (listener as { filter: SubscriptionFilter }).filter = honoured;
    caller.stream.stream();
    listener.notify('notifications/subscriptions/acknowledged', { notifications: honoured });
    this.open.add(listener);
    const signal = caller.stream.signal;
    await new Promise<void>((resolve) => {
      const end = () => resolve();
      this.closers.set(listener, end);
      if (signal.aborted) end();
      else signal.addEventListener('abort', end, { once: true });
    });
    this.open.delete(listener);
    this.closers.delete(listener);
    if (uris.length) this.resources.unwatch(listener);
  }

  /** A public list changed: tells the streams that asked for it. */
  listChanged(kind: ListedKind): void {
    for (const listener of this.open) if (listener.filter[FLAG[kind]]) listener.notify(`notifications/${kind}/list_changed`);
  }

  /** Open streams. */
  get size(): number {
    return this.open.size;
  }

  /** Ends every stream with the graceful result (gateway shutdown). */
  closeAll(): void {
    for (const [listener, end] of [...this.closers]) {
      listener.close();
      end();
    }
  }
}
