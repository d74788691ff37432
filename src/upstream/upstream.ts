/**
 * One upstream MCP server: connects (spawning a stdio child or reaching a URL), lists what it
 * offers (all pages), forwards calls through a bounded queue with a per-call timeout, restarts it
 * with exponential backoff when it dies, and reports every state change as an event.
 *
 * References (`${env:…}`, `${file:…}`) are resolved at every (re)start, so a rotated credential
 * is picked up by the next restart without restarting the gateway.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ErrorCode,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
  type JSONRPCRequest,
  type Notification,
  type Progress,
  type Prompt,
  type RequestId,
  type Resource,
  type ResourceTemplate,
  type Result,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { resolveTarget, type ReferenceResolver } from '../config/references.js';
import type { ServerConfig } from '../config/types.js';
import { ErrorCodes, GatewayError, messageOf } from '../errors.js';
import { Redactor } from '../secrets/redactor.js';
import type { EventSink, UpstreamState } from '../telemetry/events.js';
import type { Logger } from '../telemetry/logger.js';
import type { CancelSignal } from './cancelSignal.js';
import { Forwarder } from './forwarder.js';
import { Limiter } from './limiter.js';
import { readLists, type ListKind } from './lists.js';
import { StderrTail } from './stderrTail.js';
import { createUpstreamTransport, type UpstreamTransport } from './transport.js';
import { GATEWAY_NAME, GATEWAY_VERSION } from '../version.js';

export type { ListKind };

/** Who a forwarded request belongs to, so upstream-initiated requests can be routed back. */
export interface CallOwner {
  /** Downstream session id. */
  readonly session: string;
  /** The downstream request being served, so routed messages land on its stream. */
  readonly requestId?: RequestId;
}

/** Callbacks from an upstream into the gateway (routing goes through these, never back up imports). */
export interface UpstreamHooks {
  /** A request the upstream sent towards the client (sampling, elicitation, roots). */
  onRequest(upstream: Upstream, request: JSONRPCRequest, signal: AbortSignal): Promise<Result>;
  /** A notification other than progress/cancellation/list_changed (logging, resource updates…). */
  onNotification(upstream: Upstream, notification: Notification): void;
  /** The upstream's lists were re-read (after start, restart or a list_changed notification). */
  onListsChanged(upstream: Upstream): void;
}

/** Shared dependencies of all upstreams. */
export interface UpstreamDeps {
  readonly resolver: ReferenceResolver;
  readonly events: EventSink;
  readonly redactor: Redactor;
  readonly logger: Logger;
  readonly hooks: UpstreamHooks;
  readonly restartInitialDelayMs: number;
  readonly restartMaxDelayMs: number;
}

/** Options of one forwarded request. */
export interface ForwardOptions {
  readonly owner?: CallOwner;
  readonly signal?: CancelSignal;
  readonly onprogress?: (progress: Progress) => void;
  /** Overrides the server's configured timeout. */
  readonly timeoutMs?: number;
}

interface Connection {
  readonly client: Client;
  readonly forwarder: Forwarder;
  readonly io: UpstreamTransport;
  readonly generation: number;
  readonly resolvedValues: readonly string[];
}

const GATEWAY_CLIENT_INFO = { name: GATEWAY_NAME, version: GATEWAY_VERSION };
/** A connection that stays up this long resets the restart backoff. */
const STABLE_AFTER_MS = 10_000;

/** One upstream MCP server and its connection lifecycle. */
export class Upstream {
  readonly config: ServerConfig;
  state: UpstreamState = 'stopped';
  lastError: string | undefined;
  tools: readonly Tool[] = [];
  prompts: readonly Prompt[] = [];
  resources: readonly Resource[] = [];
  resourceTemplates: readonly ResourceTemplate[] = [];
  capabilities: ServerCapabilities | undefined;

  private readonly deps: UpstreamDeps;
  private readonly limiter: Limiter;
  private readonly inflight = new Map<number, CallOwner>();
  private nextInflightId = 0;
  private connection: Connection | undefined;
  private generation = 0;
  private attempt = 0;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private stableTimer: NodeJS.Timeout | undefined;
  private readonly stderr: StderrTail;
  private readonly relisting = new Map<ListKind, Promise<void>>();
  private readonly relistAgain = new Set<ListKind>();
  private firstAttempt: Promise<void> | undefined;

  constructor(config: ServerConfig, deps: UpstreamDeps) {
    this.config = config;
    this.deps = deps;
    this.limiter = new Limiter(config.concurrency);
    this.stderr = new StderrTail(config.name, deps.logger);
  }

  /** True while the live connection holds resolved `${…}` values: its results are then scrubbed of secrets. */
  get holdsSecrets(): boolean {
    return (this.connection?.resolvedValues.length ?? 0) > 0;
  }

  /** Server name (the servers.d file stem). */
  get name(): string {
    return this.config.name;
  }

  /** Starts the upstream; resolves after the first attempt, whether it succeeded or not. */
  start(): Promise<void> {
    this.stopping = false;
    this.firstAttempt ??= this.connect();
    return this.firstAttempt;
  }

  /** Stops the upstream for good; pending calls fail. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.stableTimer);
    const connection = this.connection;
    this.connection = undefined;
    if (connection) {
      this.removeSecrets(connection);
      await connection.client.close().catch(() => undefined);
      connection.forwarder.failAll();
    }
    if (this.state !== 'stopped') this.setState('stopped');
  }

  /** The session that owns the request in flight here, if exactly one session has calls in flight. */
  soleOwner(): CallOwner | undefined {
    let owner: CallOwner | undefined;
    for (const candidate of this.inflight.values()) {
      if (owner && owner.session !== candidate.session) return undefined;
      owner = candidate;
    }
    return owner;
  }

  /** Forwards a request through the per-upstream queue with the per-call timeout. */
  async request(method: string, params: Record<string, unknown> | undefined, options: ForwardOptions = {}): Promise<Result> {
    const connection = this.connection;
    if (!connection || this.state !== 'ready') throw this.unavailable();
    const timeoutMs = options.timeoutMs ?? this.config.timeoutMs;
    const queuedAt = Date.now();
    const id = this.nextInflightId++;
    if (options.owner) this.inflight.set(id, options.owner);
    try {
      return await this.limiter.run(
        () => connection.forwarder.request(method, params, Math.max(1, timeoutMs - (Date.now() - queuedAt)), options.signal, options.onprogress),
        options.signal,
      );
    } catch (error) {
      throw this.translate(error, method, params, options, timeoutMs, connection);
    } finally {
      if (options.owner) this.inflight.delete(id);
    }
  }

  private translate(
    error: unknown,
    method: string,
    params: Record<string, unknown> | undefined,
    options: ForwardOptions,
    timeoutMs: number,
    connection: Connection,
  ): unknown {
    const what = method === 'tools/call' && typeof params?.name === 'string' ? `${method} "${params.name}"` : method;
    if (options.signal?.aborted) {
      return new GatewayError(ErrorCodes.UPSTREAM_TIMEOUT, `request cancelled by the client: ${what} on upstream "${this.name}"`, {
        cause: error,
      });
    }
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
      return new GatewayError(
        ErrorCodes.UPSTREAM_TIMEOUT,
        `upstream "${this.name}" did not answer ${what} within ${timeoutMs} ms (timeout)${this.stderr.summary()}; the request was cancelled`,
        { remedy: `raise \`timeout\` in ${this.config.file} if the tool is legitimately slow` },
      );
    }
    const crashed = connection !== this.connection || connection.generation !== this.generation;
    if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) {
      return new GatewayError(
        ErrorCodes.UPSTREAM_CRASHED,
        `upstream "${this.name}" exited while ${what} was in flight${this.stderr.summary(connection.io)}; it is being restarted`,
        { remedy: `check the server's stderr in the gateway log; it restarts automatically`, cause: error },
      );
    }
    if (crashed && !(error instanceof McpError)) {
      return new GatewayError(ErrorCodes.UPSTREAM_CRASHED, `upstream "${this.name}" went away while ${what} was in flight${this.stderr.summary(connection.io)}`, {
        cause: error,
      });
    }
    return error;
  }

  private unavailable(): GatewayError {
    const detail = this.lastError ? `: ${this.lastError}` : '';
    return new GatewayError(ErrorCodes.UPSTREAM_UNAVAILABLE, `upstream "${this.name}" is not available (state ${this.state}${detail})`, {
      remedy: 'see `mcpgate.upstream.state` events in the audit log; the gateway retries with backoff',
    });
  }

  private setState(state: UpstreamState, extra: { error?: string; retry_in_ms?: number } = {}): void {
    this.state = state;
    if (extra.error !== undefined) this.lastError = extra.error;
    if (state === 'ready') this.lastError = undefined;
    const event = { event: 'mcpgate.upstream.state', server: this.name, state, attempt: this.attempt, ...extra } as const;
    this.deps.events.emit(event);
    const log = state === 'failed' || state === 'restarting' ? 'warn' : 'info';
    // The message carries the error too: a person reading a terminal sees why at once.
    this.deps.logger[log]({ server: this.name, state, ...extra }, `upstream ${this.name} ${state}${extra.error ? `: ${extra.error}` : ''}`);
  }

  private async connect(): Promise<void> {
    if (this.stopping) return;
    const generation = ++this.generation;
    this.attempt += 1;
    this.stderr.clear();
    this.setState('starting');
    let io: UpstreamTransport | undefined;
    let client: Client | undefined;
    let values: string[] = [];
    try {
      const resolved = await resolveTarget(this.config, this.deps.resolver);
      values = resolved.values;
      this.deps.redactor.add(values);
      io = createUpstreamTransport(resolved.target);
      // Its stderr is scrubbed of its own values even after they are unregistered (a failed
      // start unregisters them at once, while the process may still be writing).
      this.stderr.watch(io, this.deps.redactor, new Redactor(values));
      client = new Client(GATEWAY_CLIENT_INFO, {
        capabilities: { sampling: {}, elicitation: { form: {}, url: {} }, roots: {} },
      });
      this.wireClient(client);
      const connectedClient = client;
      connectedClient.onclose = () => this.onConnectionClosed(generation);
      connectedClient.onerror = (error) => {
        this.deps.logger.warn({ server: this.name, err: this.deps.redactor.scrub(String(error?.message ?? error)) }, 'upstream transport error');
      };
      await connectedClient.connect(io.transport, { timeout: this.config.startupTimeoutMs });
      if (generation !== this.generation || this.stopping) {
        await connectedClient.close().catch(() => undefined);
        return;
      }
      const connection: Connection = { client: connectedClient, forwarder: new Forwarder(io.transport), io, generation, resolvedValues: values };
      this.connection = connection;
      this.capabilities = connectedClient.getServerCapabilities();
      await this.refreshLists(['tools', 'prompts', 'resources'], connection);
      if (generation !== this.generation) return;
      this.setState('ready');
      this.deps.hooks.onListsChanged(this);
      clearTimeout(this.stableTimer);
      this.stableTimer = setTimeout(() => {
        this.attempt = 0;
      }, STABLE_AFTER_MS);
      this.stableTimer.unref();
    } catch (error) {
      if (generation !== this.generation || this.stopping) return;
      this.connection = undefined;
      // scrub first: the error may echo a value that is about to be unregistered
      const message = this.describeStartError(error);
      if (values.length) this.deps.redactor.remove(values);
      await client?.close().catch(() => undefined);
      this.setState('failed', { error: message });
      this.scheduleRestart();
    }
  }

  private describeStartError(error: unknown): string {
    // A reference that cannot be resolved says how to fix it right in the server's state.
    if (error instanceof GatewayError) return error.remedy ? `${error.message}; fix: ${error.remedy}` : error.message;
    const raw = messageOf(error);
    let message = raw;
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
      message = `did not finish initialising within ${this.config.startupTimeoutMs} ms${this.stderr.summary()}`;
    } else if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) {
      message = `exited during start-up${this.stderr.summary()}`;
    } else if (/ENOENT/.test(raw) && this.config.target.kind === 'stdio') {
      message = `command not found: ${this.config.target.command} (\`mcpgate check\` shows the PATH it was looked up in)`;
    } else {
      message = `${raw}${this.stderr.summary()}`;
    }
    return this.deps.redactor.scrub(message);
  }

  private onConnectionClosed(generation: number): void {
    if (generation !== this.generation || this.stopping) return;
    const connection = this.connection;
    if (!connection) return; // closed during start-up: connect() reports it
    this.connection = undefined;
    connection.forwarder.failAll();
    this.removeSecrets(connection);
    clearTimeout(this.stableTimer);
    this.generation++;
    this.setState('restarting', { error: `connection closed${this.stderr.summary(connection.io)}` });
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.stopping) return;
    const delay = Math.min(this.deps.restartInitialDelayMs * 2 ** Math.max(0, this.attempt - 1), this.deps.restartMaxDelayMs);
    if (this.state !== 'restarting') this.setState('restarting', { retry_in_ms: delay });
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      void this.connect();
    }, delay);
    this.restartTimer.unref();
  }

  private removeSecrets(connection: Connection): void {
    if (connection.resolvedValues.length) this.deps.redactor.remove(connection.resolvedValues);
  }

  private wireClient(client: Client): void {
    client.fallbackRequestHandler = async (request, extra) => this.deps.hooks.onRequest(this, request, extra.signal);
    client.fallbackNotificationHandler = async (notification) => this.deps.hooks.onNotification(this, notification);
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.relist('tools'));
    client.setNotificationHandler(PromptListChangedNotificationSchema, () => this.relist('prompts'));
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => this.relist('resources'));
  }

  /** Re-reads one list after a list_changed notification; coalesces bursts. */
  private relist(kind: ListKind): void {
    const connection = this.connection;
    if (!connection) return;
    if (this.relisting.has(kind)) {
      this.relistAgain.add(kind);
      return;
    }
    const run = this.refreshLists([kind], connection)
      .then(() => {
        if (connection === this.connection) this.deps.hooks.onListsChanged(this);
      })
      .catch((error: unknown) => {
        this.deps.logger.warn({ server: this.name, kind, err: String(error) }, 're-listing after list_changed failed');
      })
      .finally(() => {
        this.relisting.delete(kind);
        if (this.relistAgain.delete(kind)) this.relist(kind);
      });
    this.relisting.set(kind, run);
  }

  private async refreshLists(kinds: readonly ListKind[], connection: Connection): Promise<void> {
    const lists = await readLists(connection.client, kinds, this.config.timeoutMs);
    if (lists.tools) this.tools = lists.tools;
    if (lists.prompts) this.prompts = lists.prompts;
    if (lists.resources) this.resources = lists.resources;
    if (lists.resourceTemplates) this.resourceTemplates = lists.resourceTemplates;
  }
}
