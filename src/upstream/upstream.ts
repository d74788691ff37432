/**
 * One upstream MCP server: connects (spawning a stdio child or reaching a URL), lists what it
 * offers (all pages), forwards calls through a bounded queue with a per-call timeout, restarts it
 * with exponential backoff when it dies, and reports every state change as an event.
 *
 * References (`${env:…}`, `${file:…}`) are resolved at every (re)start, so a rotated credential
 * is picked up by the next restart without restarting the gateway.
 */
import {
  type JSONRPCRequest,
  type Notification,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type Result,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { ParamHeader } from '../protocol/headers.js';
import { resolveTarget, type ReferenceResolver } from '../secrets/resolve.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../config/schema.js';
import type { ServerConfig, StdioTarget } from '../config/types.js';
import { ErrorCodes, GatewayError } from '../errors.js';
import type { SandboxLauncher, SandboxState } from '../sandbox/launcher.js';
import type { Redactor } from '../secrets/redactor.js';
import type { EventSink, UpstreamState } from '../telemetry/events.js';
import type { Logger } from '../telemetry/logger.js';
import { callableTools, modernRequest, openLegacy, openModern, type Connection, type ConnectionHost } from './connection.js';
import type { CallOwner, ForwardOptions } from './forwardOptions.js';
import { requestError, startErrorMessage, unavailableError } from './requestError.js';
import { Limiter } from './limiter.js';
import { readLists, Relister, type ListKind } from './lists.js';
import type { AskOwner } from './inputRounds.js';
import type { SpokenProtocol } from './modern.js';
import { ProbeClosedError } from './modernConnection.js';
import { StderrTail } from './stderrTail.js';
import { negotiate, type UpstreamTransport } from './transport.js';
import type { UpstreamNetwork } from '../network/confine.js';
import { MODERN_VERSION } from '../protocol/revisions.js';

export type { CallOwner, ListKind };

/** Callbacks from an upstream into the gateway (routing goes through these, never back up imports). */
export interface UpstreamHooks {
  /**
   * A request the upstream sent towards the client (sampling, elicitation, roots): a 2025
   * upstream's server-initiated request (routed to the sole owner in flight), or an input request
   * of a 2026 upstream's `input_required` result (`owner`: the call it answered).
   */
  onRequest(upstream: Upstream, request: JSONRPCRequest, signal: AbortSignal, owner?: CallOwner): Promise<Result>;
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
  /** Decides how a stdio server is started (sandboxed or not). */
  readonly launcher: SandboxLauncher;
  readonly restartInitialDelayMs: number;
  readonly restartMaxDelayMs: number;
  /** Network confinement (src/network/confine.ts); absent: none. */
  readonly network?: UpstreamNetwork;
}

/** A connection that stays up this long resets the restart backoff. */
const STABLE_AFTER_MS = 10_000;

/** One upstream MCP server and its connection lifecycle. */
export class Upstream {
  state: UpstreamState = 'stopped';
  lastError: string | undefined;
  tools: readonly Tool[] = [];
  prompts: readonly Prompt[] = [];
  resources: readonly Resource[] = [];
  resourceTemplates: readonly ResourceTemplate[] = [];
  capabilities: ServerCapabilities | undefined;
  /** How the stdio server last started runs (absent before its first start, and for url/sse servers). */
  sandbox: SandboxState | undefined;
  /** The MCP revision the running server is spoken to in (absent until it started). */
  protocolVersion: SpokenProtocol | undefined;

  private current: ServerConfig;
  private readonly deps: UpstreamDeps;
  private readonly limiter: Limiter;
  /** Requests forwarded and not yet answered (owned or not): what a retiring upstream waits for. */
  private active = 0;
  /** Set once a reload removed (or replaced) this upstream: it takes no new requests (src/reload). */
  private retired: { readonly graceMs: number; readonly successor: Upstream | undefined } | undefined;
  private readonly inflight = new Map<number, CallOwner>();
  private nextInflightId = 0;
  private connection: Connection | undefined;
  private generation = 0;
  private attempt = 0;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private stableTimer: NodeJS.Timeout | undefined;
  private readonly stderrTail: StderrTail;
  private readonly relister: Relister;
  /** A 2026 upstream's tools' `x-mcp-header` annotations, by upstream tool name (its HTTP requests mirror them). */
  private paramHeaders = new Map<string, readonly ParamHeader[]>();
  /** The server exited when probed: later starts go straight to `initialize`. */
  private skipProbe = false;
  private readonly askOwner: AskOwner = (request, signal, owner) => this.deps.hooks.onRequest(this, request, signal, owner);
  /** What a connection reports back. */
  private readonly host: ConnectionHost = {
    server: '',
    startupTimeoutMs: 0,
    closed: (generation) => this.onConnectionClosed(generation),
    transportError: (error) => this.deps.logger.warn({ server: this.name, err: this.deps.redactor.scrub(String(error?.message ?? error)) }, 'upstream transport error'),
    relist: (kind) => this.relist(kind),
    notification: (notification) => this.deps.hooks.onNotification(this, notification),
    request: (request, signal) => this.deps.hooks.onRequest(this, request, signal),
  };
  private firstAttempt: Promise<void> | undefined;
  /**
   * The resolved `${…}` values registered with the redactor: from the first resolution until the
   * upstream stops, replaced at each restart, so they stay redacted while it restarts too.
   */
  private registered: readonly string[] = [];

  /** `session`: this is the instance of one client session (isolation: session; src/isolation). */
  constructor(config: ServerConfig, deps: UpstreamDeps, private readonly session?: string) {
    this.current = config;
    this.deps = deps;
    this.limiter = new Limiter(config.concurrency);
    this.stderrTail = new StderrTail(config.name, deps.redactor, deps.logger);
    this.relister = new Relister(
      async (kind) => {
        const connection = this.connection;
        if (!connection) return;
        await this.refreshLists([kind], connection);
        if (connection === this.connection) this.deps.hooks.onListsChanged(this);
      },
      (kind, error) => this.deps.logger.warn({ server: this.name, kind, err: String(error) }, 're-listing after list_changed failed'),
    );
  }

  /** True when this stdio server runs without a sandbox: it can do whatever the user can. */
  get unconfined(): boolean {
    return this.sandbox !== undefined && this.sandbox.kind !== 'bwrap';
  }

  /** The server's configuration in force (a reload may replace what does not affect the process). */
  get config(): ServerConfig {
    return this.current;
  }

  /**
   * Applies a reloaded configuration whose process-affecting fields are unchanged (src/reload
   * decides): the next request uses its timeout, the catalog its prefix and policy; same process.
   */
  reconfigure(config: ServerConfig): void {
    this.current = config;
  }

  /**
   * Stops taking requests (a replaced server's `successor` takes them: e.g. a call approved while
   * the reload replaced it), waits for those in flight (at most `graceMs`), then stops; a request
   * still running then fails with MCPGATE_UPSTREAM_REMOVED. Used when a reload removes or replaces it.
   */
  async retire(graceMs: number, successor?: Upstream): Promise<void> {
    this.retired = { graceMs, successor };
    const deadline = Date.now() + graceMs;
    while (this.active > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await this.stop();
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
      await connection.close().catch(() => undefined);
      connection.forwarder.failAll();
    }
    this.deps.redactor.remove(this.registered);
    this.registered = [];
    if (this.state !== 'stopped') this.setState('stopped');
  }

  /**
   * The caller that owns the request in flight here, if the calls in flight are all of one client
   * (caller key). A stateless caller's requests share nothing but the key: two of them in flight
   * are two callers, so which one asked is undecidable (none).
   */
  soleOwner(): CallOwner | undefined {
    let owner: CallOwner | undefined;
    for (const candidate of this.inflight.values()) {
      if (owner && (owner.caller.identity.key !== candidate.caller.identity.key || (owner.caller.sessionId === undefined && owner.caller !== candidate.caller))) return undefined;
      owner = candidate;
    }
    return owner;
  }

  /** Forwards a request through the per-upstream queue with the per-call timeout. */
  async request(method: string, params: Record<string, unknown> | undefined, options: ForwardOptions = {}): Promise<Result> {
    const retired = this.retired; // a retired upstream may still finish this request: read this.retired again on failure
    if (retired?.successor) return retired.successor.request(method, params, options);
    const connection = this.connection;
    if (!connection || this.state !== 'ready' || retired) throw unavailableError(this.name, this.state, this.lastError, retired !== undefined);
    const timeoutMs = options.timeoutMs ?? this.config.timeoutMs;
    const queuedAt = Date.now();
    const id = this.nextInflightId++;
    if (options.owner) this.inflight.set(id, options.owner);
    this.active++;
    try {
      const send = (sent = params) => connection.forwarder.request(method, sent, Math.max(1, timeoutMs - (Date.now() - queuedAt)), options.signal, options.onprogress);
      // a 2026 upstream may answer input_required: its rounds run in the same queue slot
      const run = connection.protocol === MODERN_VERSION ? () => modernRequest(connection, method, params, send, this.name, options, this.askOwner) : send;
      return await this.limiter.run(run, options.signal);
    } catch (error) {
      throw requestError(error, {
        server: this.name,
        file: this.config.file,
        method,
        params,
        timeoutMs,
        cancelled: options.signal?.aborted === true,
        crashed: connection !== this.connection || connection.generation !== this.generation,
        retiredGraceMs: this.retired?.graceMs,
        stderr: (own) => (own ? this.stderrTail.summary(connection.io) : this.stderrTail.summary()),
      });
    } finally {
      this.active--;
      if (options.owner) this.inflight.delete(id);
    }
  }

  private setState(state: UpstreamState, extra: { error?: string; error_code?: string; retry_in_ms?: number } = {}): void {
    this.state = state;
    if (extra.error !== undefined) this.lastError = extra.error;
    if (state === 'ready') this.lastError = undefined;
    const sandbox = this.sandbox && { sandbox: this.sandbox.kind, ...(this.sandbox.kind === 'bwrap' ? {} : { sandbox_reason: this.sandbox.reason }) };
    const instance = this.session === undefined ? {} : { session: this.session };
    const event = { event: 'mcpgate.upstream.state', server: this.name, ...instance, state, attempt: this.attempt, ...extra, ...sandbox } as const;
    this.deps.events.emit(event);
    const log = state === 'failed' || state === 'restarting' ? 'warn' : 'info';
    // The message carries the error too: a person reading a terminal sees why at once.
    const who = this.session === undefined ? this.name : `${this.name} (session ${this.session})`;
    this.deps.logger[log]({ server: this.name, ...instance, state, ...extra }, `upstream ${who} ${state}${extra.error ? `: ${extra.error}` : ''}`);
  }

  private async connect(): Promise<void> {
    if (this.stopping) return;
    const generation = ++this.generation;
    this.attempt += 1;
    this.stderrTail.clear();
    this.setState('starting');
    let io: UpstreamTransport | undefined;
    let connection: Connection | undefined;
    try {
      const resolved = await resolveTarget(this.config, this.deps.resolver);
      this.register(resolved.values);
      const target = resolved.target.kind === 'stdio' ? await this.launch(resolved.target) : await this.checkUrl(resolved.target);
      const negotiated = await negotiate(target, {
        server: this.name,
        maxMessageBytes: this.config.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
        quote: (line) => JSON.stringify(this.deps.redactor.scrub(line).slice(0, 80)),
      }, { protocol: this.config.protocol ?? 'auto', skipProbe: this.skipProbe, file: this.config.file, startupTimeoutMs: this.config.startupTimeoutMs, annotationsOf: (tool) => this.paramHeaders.get(tool) }, (started) => {
        io = started;
        if (started.stderr) this.stderrTail.watch(started.stderr);
      }).catch((error: unknown) => {
        if (error instanceof ProbeClosedError) this.skipProbe = true;
        throw error;
      });
      const { verdict } = negotiated;
      io = negotiated.io;
      const host = { ...this.host, server: this.name, startupTimeoutMs: this.config.startupTimeoutMs };
      const opened = verdict.kind === 'modern' ? await openModern(negotiated.io, verdict, generation, host) : await openLegacy(negotiated.io, generation, host);
      connection = opened;
      this.capabilities = opened.capabilities;
      if (generation !== this.generation || this.stopping) {
        await connection.close().catch(() => undefined);
        return;
      }
      this.connection = connection;
      this.protocolVersion = connection.protocol;
      await this.refreshLists(['tools', 'prompts', 'resources'], connection);
      if (generation !== this.generation) return;
      this.setState('ready');
      this.deps.hooks.onListsChanged(this);
      connection.listener?.start();
      clearTimeout(this.stableTimer);
      this.stableTimer = setTimeout(() => {
        this.attempt = 0;
      }, STABLE_AFTER_MS);
      this.stableTimer.unref();
    } catch (error) {
      if (generation !== this.generation || this.stopping) return;
      this.connection = undefined;
      const message = this.describeStartError(error);
      await (connection ? connection.close() : io?.transport.close())?.catch(() => undefined);
      this.setState('failed', { error: message, ...(error instanceof GatewayError ? { error_code: error.code } : {}) });
      // A URL the network policy refuses stays refused until the configuration changes.
      if (!(error instanceof GatewayError && error.code === ErrorCodes.NETWORK_DENIED)) this.scheduleRestart();
    }
  }

  /** A remote upstream's URL, checked against the network policy (throws MCPGATE_NETWORK_DENIED). */
  private async checkUrl<T extends { readonly url: string }>(target: T): Promise<T> {
    await this.deps.network?.checkUrl(this.name, target.url);
    return target;
  }

  /** The command line to spawn, sandboxed where possible; says once when the server runs unconfined. */
  private async launch(target: StdioTarget): Promise<StdioTarget> {
    const launch = await this.deps.launcher.launch(this.config, target);
    const warned = this.sandbox?.kind === launch.sandbox.kind;
    this.sandbox = launch.sandbox;
    if (launch.sandbox.kind !== 'bwrap' && !warned) {
      this.deps.logger.warn({ server: this.name, sandbox: launch.sandbox.kind, reason: launch.sandbox.reason }, `upstream ${this.name} runs UNCONFINED (${launch.sandbox.reason}): it can do everything this user can, including reading the approval admin token and answering the approval queue`);
    }
    return launch.target;
  }

  private describeStartError(error: unknown): string {
    // A reference that cannot be resolved says how to fix it right in the server's state.
    if (error instanceof GatewayError) return error.remedy ? `${error.message}; fix: ${error.remedy}` : error.message;
    return this.deps.redactor.scrub(startErrorMessage(error, this.config, this.stderrTail.summary()));
  }

  private onConnectionClosed(generation: number): void {
    if (generation !== this.generation || this.stopping) return;
    const connection = this.connection;
    if (!connection) return; // closed during start-up: connect() reports it
    this.connection = undefined;
    connection.forwarder.failAll();
    clearTimeout(this.stableTimer);
    this.generation++;
    this.setState('restarting', { error: `connection closed${this.stderrTail.summary(connection.io)}` });
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

  /** Registers this start's resolved values, then forgets the previous start's (a value kept is never unregistered in between). */
  private register(values: readonly string[]): void {
    if (this.stopping) return;
    this.deps.redactor.add(values);
    this.deps.redactor.remove(this.registered);
    this.registered = values;
  }

  /** Re-reads one list after a list_changed notification; coalesces bursts. */
  private relist(kind: ListKind): void {
    if (this.connection) this.relister.relist(kind);
  }

  private async refreshLists(kinds: readonly ListKind[], connection: Connection): Promise<void> {
    const lists = await readLists(connection.lists, kinds, this.config.timeoutMs);
    if (lists.tools) this.tools = connection.protocol === MODERN_VERSION ? this.modernTools(lists.tools) : lists.tools;
    if (lists.prompts) this.prompts = lists.prompts;
    if (lists.resources) this.resources = lists.resources;
    if (lists.resourceTemplates) this.resourceTemplates = lists.resourceTemplates;
  }

  /** Keeps a 2026 upstream's callable tools and their header annotations; says which were left out. */
  private modernTools(tools: readonly Tool[]): readonly Tool[] {
    const { kept, dropped, headers } = callableTools(tools);
    for (const tool of dropped) this.deps.logger.warn({ server: this.name, tool }, `upstream ${this.name}: tool "${tool}" has an invalid x-mcp-header annotation; it is left out`);
    this.paramHeaders = headers;
    return kept;
  }
}
