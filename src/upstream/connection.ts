/**
 * One live connection to an upstream, in the revision it speaks: a 2025-11-25 server behind the
 * SDK client (`initialize`, server-initiated requests, list_changed handlers), or a 2026-07-28
 * server spoken to statelessly (the `_meta` envelope on every request, notifications read by
 * hand, `subscriptions/listen` for list changes). Either way the forwarder carries the calls.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type Notification,
  type Result,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { paramHeadersOf, type ParamHeader } from '../protocol/headers.js';
import { MODERN_VERSION } from '../protocol/revisions.js';
import { CallSignal } from '../caller/cancelSignal.js';
import { ConnectionClosedError, Forwarder } from './forwarder.js';
import type { ForwardOptions } from './forwardOptions.js';
import { requestWithRounds, type AskOwner } from './inputRounds.js';
import type { ListKind, ListSource } from './lists.js';
import { GATEWAY_CLIENT_INFO, UPSTREAM_CLIENT_CAPABILITIES, withEnvelope, type ProbeVerdict, type SpokenProtocol } from './modern.js';
import type { UpstreamTransport } from './transport.js';

/** A connection to a started upstream. */
export interface Connection {
  readonly forwarder: Forwarder;
  readonly io: UpstreamTransport;
  readonly generation: number;
  readonly protocol: SpokenProtocol;
  readonly lists: ListSource;
  /** A 2026 upstream's listen request (absent for 2025 upstreams). */
  readonly listener?: Listener;
  close(): Promise<void>;
}

/** What a connection reports to the upstream that owns it. */
export interface ConnectionHost {
  readonly server: string;
  readonly startupTimeoutMs: number;
  /** The connection of this start generation closed. */
  closed(generation: number): void;
  transportError(error: Error | undefined): void;
  relist(kind: ListKind): void;
  /** A notification other than progress and list_changed. */
  notification(notification: Notification): void;
  /** A 2025 server's request towards the client. */
  request(request: JSONRPCRequest, signal: AbortSignal): Promise<Result>;
}

/** A 2025 upstream: the SDK client's `initialize`, then the forwarder takes over responses. */
export async function openLegacy(io: UpstreamTransport, generation: number, host: ConnectionHost): Promise<Connection & { capabilities: ServerCapabilities }> {
  const client = new Client({ ...GATEWAY_CLIENT_INFO }, { capabilities: structuredClone(UPSTREAM_CLIENT_CAPABILITIES) });
  client.fallbackRequestHandler = async (request, extra) => host.request(request, extra.signal);
  client.fallbackNotificationHandler = async (notification) => host.notification(notification);
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => host.relist('tools'));
  client.setNotificationHandler(PromptListChangedNotificationSchema, () => host.relist('prompts'));
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => host.relist('resources'));
  client.onclose = () => host.closed(generation);
  client.onerror = (error) => host.transportError(error);
  try {
    await client.connect(io.transport, { timeout: host.startupTimeoutMs });
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  const capabilities = client.getServerCapabilities() ?? {};
  return {
    forwarder: new Forwarder(io.transport, host.server),
    io,
    generation,
    protocol: '2025-11-25',
    capabilities,
    lists: { capabilities, request: (method, params, schema, timeout) => client.request({ method, params } as never, schema as never, { timeout }) as Promise<Record<string, unknown>> },
    close: () => client.close(),
  };
}

/** A 2026-07-28 upstream: no `initialize`, the envelope on every request, its notifications read here. */
export async function openModern(
  io: UpstreamTransport,
  verdict: ProbeVerdict & { kind: 'modern' },
  generation: number,
  host: ConnectionHost,
): Promise<Connection & { capabilities: ServerCapabilities }> {
  const transport = io.transport;
  transport.onmessage = (message) => onModernMessage(transport, message as { id?: unknown; method?: unknown }, host);
  transport.onclose = () => host.closed(generation);
  transport.onerror = (error) => host.transportError(error);
  await transport.start();
  const forwarder = new Forwarder(transport, host.server, withEnvelope);
  const capabilities = verdict.capabilities as ServerCapabilities;
  return {
    forwarder,
    listener: new Listener(forwarder, capabilities, (error) => host.transportError(error as Error)),
    io,
    generation,
    protocol: MODERN_VERSION,
    capabilities,
    lists: { capabilities, request: async (method, params, schema, timeout) => schema.parse(await forwarder.request(method, params, timeout)) as Record<string, unknown> },
    close: () => transport.close(),
  };
}

/** A 2026 upstream's list-changed notifications. */
const LIST_KINDS: Readonly<Record<string, ListKind>> = {
  'notifications/tools/list_changed': 'tools',
  'notifications/prompts/list_changed': 'prompts',
  'notifications/resources/list_changed': 'resources',
};

/** A 2026 upstream's own message (responses and progress are the forwarder's): notifications; requests are refused (it asks with input_required). */
function onModernMessage(transport: UpstreamTransport['transport'], message: { id?: unknown; method?: unknown }, host: ConnectionHost): void {
  if (typeof message.method !== 'string') return;
  if (message.id !== undefined) {
    const error = { code: -32601, message: `Method not found: a ${MODERN_VERSION} server asks for input with input_required, not requests` };
    void transport.send({ jsonrpc: '2.0', id: message.id, error } as JSONRPCMessage).catch(() => undefined);
    return;
  }
  const kind = LIST_KINDS[message.method];
  if (kind) host.relist(kind);
  else host.notification(message as Notification);
}

/** A listen request has no deadline of its own: it ends with the connection. */
const LISTEN_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * `subscriptions/listen` on a 2026 upstream (replaces 2025's GET stream and `resources/subscribe`):
 * one request held open while the connection lives, asking for the list changes the server
 * announces and for updates of the resources clients watch; a change of those is a new listen
 * (the previous one cancelled).
 */
export class Listener {
  private readonly uris = new Set<string>();
  private current: CallSignal | undefined;

  constructor(
    private readonly forwarder: Forwarder,
    private readonly capabilities: ServerCapabilities,
    private readonly failed: (error: unknown) => void,
  ) {}

  /** Opens the listen request (again), or none when there is nothing to hear. */
  start(): void {
    this.current?.abort('replaced by a listen with other subscriptions');
    this.current = undefined;
    const caps = this.capabilities as Record<string, { listChanged?: boolean; subscribe?: boolean } | undefined>;
    const notifications = {
      ...(caps.tools?.listChanged ? { toolsListChanged: true } : {}),
      ...(caps.prompts?.listChanged ? { promptsListChanged: true } : {}),
      ...(caps.resources?.listChanged ? { resourcesListChanged: true } : {}),
      ...(caps.resources?.subscribe && this.uris.size > 0 ? { resourceSubscriptions: [...this.uris] } : {}),
    };
    if (Object.keys(notifications).length === 0) return;
    const signal = new CallSignal();
    this.current = signal;
    this.forwarder.request('subscriptions/listen', { notifications }, LISTEN_TIMEOUT_MS, signal).catch((error: unknown) => {
      if (!signal.aborted && !(error instanceof ConnectionClosedError)) this.failed(error);
    });
  }

  /** Starts or stops watching a resource's updates (a client's `resources/subscribe` / `unsubscribe`). */
  watch(uri: string, on: boolean): void {
    if (on === this.uris.has(uri)) return;
    if (on) this.uris.add(uri);
    else this.uris.delete(uri);
    this.start();
  }
}

/**
 * One request to a 2026 upstream: `resources/subscribe`/`unsubscribe` (which it does not have)
 * become a change of the listen request; everything else is sent, its input rounds fulfilled.
 */
export function modernRequest(
  connection: Connection,
  method: string,
  params: Record<string, unknown> | undefined,
  send: (params: Record<string, unknown> | undefined) => Promise<Result>,
  server: string,
  options: ForwardOptions,
  ask: AskOwner,
): Promise<Result> {
  if ((method === 'resources/subscribe' || method === 'resources/unsubscribe') && connection.listener && typeof params?.uri === 'string') {
    connection.listener.watch(params.uri, method === 'resources/subscribe');
    return Promise.resolve({});
  }
  return requestWithRounds(send, params, server, options, ask);
}

/**
 * A 2026 upstream's tools minus those whose `x-mcp-header` annotations are invalid (a client MUST
 * leave them out, SEP-2243), with the valid annotations by tool name.
 */
export function callableTools(tools: readonly Tool[]): { kept: readonly Tool[]; dropped: readonly string[]; headers: Map<string, readonly ParamHeader[]> } {
  const headers = new Map<string, readonly ParamHeader[]>();
  const dropped: string[] = [];
  const kept = tools.filter((tool) => {
    const annotations = paramHeadersOf(tool.inputSchema);
    if (annotations === undefined) dropped.push(tool.name);
    else if (annotations.length > 0) headers.set(tool.name, annotations);
    return annotations !== undefined;
  });
  return { kept, dropped, headers };
}
