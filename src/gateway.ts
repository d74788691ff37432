/**
 * The composition root: builds upstreams, catalog, policy and audit from a frozen config, owns the client sessions,
 * and routes what upstreams send back (requests, logging, updates, list changes) to the right session. Transports (stdio, HTTP) only create sessions here.
 */
import type { JSONRPCRequest, Notification, Result } from '@modelcontextprotocol/sdk/types.js';
import { ApprovalBroker, type AskContext } from './approval/broker.js';
import { forwardableRequest } from './approval/upstreamElicitation.js';
import { AuditLog } from './audit/auditLog.js';
import type { CheckpointSigner } from './audit/checkpoint.js';
import type { ArgumentsMode } from './audit/redact.js';
import type { ApprovalAnswer } from './approval/answer.js';
import { Catalog, type ToolEntry } from './catalog/catalog.js';
import { defaultResolver, type ReferenceResolver } from './secrets/resolve.js';
import type { ApprovalChannel, GatewayConfig, ServerConfig } from './config/types.js';
import { CAPABILITY_FOR, wantsLog, type Caller, type Identity, type InputMethod } from './caller/caller.js';
import { ClientSession, type SessionDispatcher } from './downstream/session.js';
import { GatewayModernHost } from './downstream/modernHost.js';
import { roundDeps, taskIdCodec } from './downstream/modernRounds.js';
import { dispatch, type DispatchDeps } from './pipeline/dispatch.js';
import { Subscriptions } from './pipeline/subscriptions.js';
import { Network, type NetworkAskRequest } from './network/network.js';
import { PinGuard } from './pinning/pinGuard.js';
import { pinFileFor } from './pinning/pinFile.js';
import { compilePolicy, decideCall } from './policy/policy.js';
import { SandboxLauncher, type EgressLookup } from './sandbox/launcher.js';
import { gatewayFilesOf } from './sandbox/protectedPaths.js';
import { Redactor } from './secrets/redactor.js';
import { scrubLists } from './secrets/resultScrubber.js';
import { EventBus, type EventSink } from './telemetry/events.js';
import type { Logger } from './telemetry/logger.js';
import type { RequestTracer } from './telemetry/trace.js';
import { Upstream, type CallOwner, type ListKind, type UpstreamHooks } from './upstream/upstream.js';
import { SessionUpstream } from './isolation/sessionUpstream.js';
import { printOf, type ConfigPrint, type ServerChanges } from './reload/plan.js';
import { deniedAfterReload, type Arguments } from './reload/revisit.js';
import { UpstreamSet } from './reload/upstreamSet.js';
import { ErrorCodes, wireError } from './errors.js';

/** Options of a gateway instance. */
export interface GatewayOptions {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  /** Extra event sinks besides the audit log. */
  readonly sinks?: readonly EventSink[];
  readonly resolver?: ReferenceResolver;
  /** Write the audit log (default true). */
  readonly audit?: boolean;
  /** Signs audit checkpoints (built from `audit.checkpoint` by the caller: resolving the key is async). */
  readonly checkpointSigner?: CheckpointSigner;
  /** How long early requests wait for upstreams still starting (default: config `upstreams.startupWait`). */
  readonly listWaitMs?: number;
  /** Tool pinning: record and watch the pin file (default), only read it (`mcpgate tools`), or off. */
  readonly pins?: 'write' | 'read' | 'off';
  /** Traces client requests (only when telemetry is on). */
  readonly tracer?: RequestTracer;
  /** The secret values to keep out of everything (shared with the operational log); default: a new one. */
  readonly redactor?: Redactor;
  /** Each server's egress route; default: the gateway's own egress proxy (src/network). Tests give another far end. */
  readonly egress?: EgressLookup;
}

const LIST_CHANGED: Record<ListKind, string> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
};

/** A running gateway. */
export class Gateway implements SessionDispatcher, UpstreamHooks {
  private current: GatewayConfig;
  readonly catalog: Catalog;
  /** The upstreams in service (and those a reload retired): src/reload/upstreamSet.ts. */
  private readonly servers = new UpstreamSet((server) => this.makeUpstream(server), (name) => void this.network.release(name));
  /** How many configuration reloads have been applied (0: the configuration the gateway started with). */
  generation = 0;
  readonly events = new EventBus();
  readonly redactor: Redactor;
  private readonly logger: Logger;
  private readonly auditLog: AuditLog | undefined;
  /** Answers `ask` decisions (src/approval). */
  readonly approvals: ApprovalBroker;
  /** Network policies, the egress proxy and remote URL checks (src/network). */
  readonly network: Network;
  private readonly sessions = new Map<string, ClientSession>();
  private readonly subscriptions = new Subscriptions();
  private deps: DispatchDeps;
  private startup: Promise<void> = Promise.resolve();
  private readonly listWaitMs: number;
  private readonly pins: PinGuard | undefined;
  private readonly watchPins: boolean;
  private readonly tracer: RequestTracer | undefined;
  private callCounter = 0;
  private readonly resolver: ReferenceResolver;
  private readonly launcher: SandboxLauncher;
  /** Each server's own approval channel; the broker reads this map, a reload refills it. */
  private readonly serverChannels = new Map<string, ApprovalChannel>();
  private readonly callPrefix = Date.now().toString(36);
  /** Serves 2026-07-28 requests (stateless; docs/protocol.md). */
  readonly modern: GatewayModernHost;

  constructor(options: GatewayOptions) {
    this.current = options.config;
    this.logger = options.logger;
    this.redactor = options.redactor ?? new Redactor();
    this.listWaitMs = options.listWaitMs ?? this.config.upstreams.startupWaitMs;
    this.tracer = options.tracer;
    if (options.audit !== false) {
      const audit = this.config.audit;
      this.auditLog = new AuditLog(audit.file, {
        fsync: audit.fsync,
        fsyncIntervalMs: audit.fsyncIntervalMs,
        ...(audit.rotate ? { rotate: audit.rotate } : {}),
        ...(options.checkpointSigner ? { checkpoint: options.checkpointSigner } : {}),
      });
      this.events.add(this.auditLog);
      // Another gateway process writes chain 1 (docs/audit.md): say where this one's records go.
      if (this.auditLog.chain > 1) this.logger.info({ file: this.auditLog.file, chain: this.auditLog.chain }, `audit log: chain ${this.auditLog.chain} (another gateway process writes ${audit.file})`);
    }
    for (const sink of options.sinks ?? []) this.events.add(sink);
    const policy = compilePolicy(this.config);
    const pins = options.pins ?? 'write';
    this.watchPins = pins === 'write';
    if (pins !== 'off') {
      this.pins = new PinGuard({ file: pinFileFor(this.config.audit.file), logger: this.logger, events: this.events, write: pins === 'write' });
    }
    const guard = this.pins ? this.pins.check.bind(this.pins) : undefined;
    const offered = (upstream: Upstream) =>
      scrubLists(this.redactor, upstream, (item) =>
        this.logger.warn({ server: upstream.name, ...item }, `upstream ${upstream.name} offers a ${item.kind} whose name holds a secret value; it is left out`),
      );
    this.catalog = new Catalog({ policy, showDenied: this.config.policy.showDenied, offered, ...(guard ? { guard } : {}) });
    // A value registered (or forgotten) after a list was read changes what the lists may show.
    this.redactor.onChange(() => this.refreshCatalog());
    this.resolver = options.resolver ?? defaultResolver(this.config.dir);
    this.network = new Network({
      config: this.config,
      events: this.events,
      logger: this.logger,
      owner: (server) => {
        const owner = this.upstreams.get(server)?.soleOwner();
        return owner && { session: owner.caller.identity.key, ...(owner.call ? { call: owner.call } : {}), ...(owner.tool ? { tool: owner.tool } : {}) };
      },
      ask: (request) => this.askNetwork(request),
    });
    // A server's traffic leaves only through its egress route (options.egress: tests substitute their own far end).
    this.launcher = new SandboxLauncher({ files: gatewayFilesOf(this.config), egress: options.egress ?? ((server) => this.network.egress(server)) });
    this.servers.addAll(this.config.servers);
    this.catalog.setUpstreams([...this.upstreams.values()]);
    this.setServerChannels();
    this.approvals = new ApprovalBroker({
      config: this.config.approval,
      configDir: this.config.dir,
      serverChannels: this.serverChannels,
      redactor: this.redactor,
      argumentsMode: this.config.audit.arguments as ArgumentsMode,
      maxArgumentBytes: this.config.audit.maxArgumentBytes,
      logger: this.logger,
      resolver: this.resolver,
    });
    if (this.approvals.recent) this.events.add(this.approvals.recent);
    this.deps = {
      catalog: this.catalog,
      events: this.events,
      redactor: this.redactor,
      argumentsMode: this.config.audit.arguments as ArgumentsMode,
      maxArgumentBytes: this.config.audit.maxArgumentBytes,
      subscriptions: this.subscriptions,
      pageSize: this.config.catalog.pageSize,
      showDenied: this.config.policy.showDenied,
      nextCallId: () => `${this.callPrefix}-${(this.callCounter++).toString(36)}`,
      taskIds: taskIdCodec(process.env.MCPGATE_REQUEST_STATE_KEY),
      ready: () => this.ready(),
      approvals: this.approvals,
      callerPolicy: (caller) => policy.forCaller(caller.identity.authenticated),
      ...(this.auditLog && this.config.audit.fsync === 'always' ? { auditWriteFailed: () => (this.auditLog as AuditLog).writeAheadFailed } : {}),
    };
    for (const collision of this.catalog.collisions) this.reportCollision(collision);
    this.modern = new GatewayModernHost({
      catalog: this.catalog,
      subscriptions: this.subscriptions,
      dispatch: (caller, request) => this.dispatch(caller, request),
      ready: () => this.ready(),
      rounds: roundDeps(this.catalog, () => this.current.approval.timeoutMs, process.env, (message) => this.logger.warn(message)),
    });
  }

  /** The configuration in force (replaced by each reload). */
  get config(): GatewayConfig {
    return this.current;
  }

  /** The upstreams in service, by server name. */
  get upstreams(): ReadonlyMap<string, Upstream> {
    return this.servers.inService;
  }

  private makeUpstream(server: ServerConfig): Upstream {
    const deps = {
      resolver: this.resolver,
      events: this.events,
      redactor: this.redactor,
      logger: this.logger,
      hooks: this,
      launcher: this.launcher,
      restartInitialDelayMs: this.config.upstreams.restartInitialDelayMs,
      restartMaxDelayMs: this.config.upstreams.restartMaxDelayMs,
      network: this.network,
    };
    const { isolation } = server;
    return isolation ? new SessionUpstream({ ...server, isolation }, deps) : new Upstream(server, deps);
  }

  private setServerChannels(): void {
    this.serverChannels.clear();
    for (const server of this.config.servers) if (server.approvalChannel) this.serverChannels.set(server.name, server.approvalChannel);
  }

  /**
   * Applies a reloaded configuration (src/reload planned `changes`; sessions are untouched): the
   * new policy, client rules and network rules apply to the next request; removed servers take
   * no new calls and stop once theirs finish (bounded by their `timeout`); added ones start; a
   * replaced one keeps serving until its successor's first start settled. Clients hear
   * `list_changed` for each public list that changed. Resolves with the servers that failed to start.
   */
  async applyConfig(next: GatewayConfig, changes: ServerChanges): Promise<string[]> {
    this.current = next;
    this.network.reconfigure(next);
    // every layer (user, managed, clients:) from the reloaded files; calls from now on are decided by it
    const policy = compilePolicy(next);
    this.catalog.setPolicy(policy, next.policy.showDenied);
    this.deps = { ...this.deps, showDenied: next.policy.showDenied, pageSize: next.catalog.pageSize, callerPolicy: (caller) => policy.forCaller(caller.identity.authenticated) };
    this.setServerChannels();
    this.approvals.reconfigure(next.approval);
    const failed = await this.servers.apply(next.servers, changes, () => this.rebuildCatalog());
    const decide = (entry: ToolEntry, args: Arguments, ask: AskContext) => decideCall(entry, policy.forCaller(ask.caller?.identity.authenticated), args);
    this.approvals.revisit((ask) => deniedAfterReload(ask, { tool: (name) => this.catalog.tool(name), decide, networkDenies: (...asked) => this.network.deniedNow(...asked) }));
    return failed;
  }

  private rebuildCatalog(): void {
    const changed = this.catalog.setUpstreams([...this.upstreams.values()]);
    for (const collision of this.catalog.collisions) this.reportCollision(collision);
    this.notifyListsChanged(changed);
  }

  /** Starts every upstream in parallel; resolves when each first attempt has settled. */
  start(): Promise<void> {
    if (this.watchPins) this.pins?.watch(() => this.refreshCatalog());
    this.startup = Promise.all([...this.upstreams.values()].map((upstream) => upstream.start())).then(() => undefined);
    return this.startup;
  }

  /** Waits (bounded) for upstreams still on their first start. */
  ready(): Promise<void> {
    return Promise.race([this.startup, new Promise<void>((resolve) => setTimeout(resolve, this.listWaitMs).unref())]);
  }

  /** Creates a session for a new client connection (connect it to a transport next). */
  createSession(transportKind: 'stdio' | 'http', id?: string, identity?: Identity): ClientSession {
    const session = new ClientSession({ transportKind, dispatcher: this, ...(id ? { id } : {}), ...(identity ? { identity } : {}) });
    this.sessions.set(session.id, session);
    return session;
  }

  /** What a reload compares against (served to `mcpgate check` by the admin endpoint): hashes, no values. */
  reloadState(): { generation: number; print: ConfigPrint } {
    return { generation: this.generation, print: printOf(this.config) };
  }

  /** Open sessions. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Stops every session and upstream and flushes the audit log. */
  async close(): Promise<void> {
    await this.approvals.close(); // denies what is pending while its clients can still hear it
    this.modern.listeners.closeAll();
    this.modern.parked.closeAll();
    for (const session of this.sessions.values()) session.endReason ??= 'shutdown';
    await Promise.all([...this.sessions.values()].map((session) => session.close()));
    await this.servers.stop();
    await this.network.close(); // open proxied connections end and are recorded before the log closes
    await this.pins?.close();
    await this.auditLog?.close();
  }

  // --- SessionDispatcher ---

  dispatch(caller: Caller, request: JSONRPCRequest): Promise<Result> {
    if (this.tracer) return this.tracer.request(caller, request, (trace) => dispatch(this.deps, caller, request, trace));
    return dispatch(this.deps, caller, request);
  }

  opened(session: ClientSession): void {
    const info = session.clientInfo;
    this.events.emit({
      event: 'mcpgate.session.start',
      session: session.id,
      transport: session.transportKind,
      ...(info.name ? { client_name: info.name } : {}),
      ...(info.version ? { client_version: info.version } : {}),
      ...(session.authenticated ? { subject: session.authenticated.subject, groups: session.authenticated.groups } : {}),
      ...(session.protocolVersion ? { protocol_version: session.protocolVersion } : {}),
      config_digest: this.config.digest,
    });
  }

  closed(session: ClientSession): void {
    if (!this.sessions.delete(session.id)) return;
    this.approvals.sessionClosed(session.id);
    this.servers.sessionClosed(session.id);
    for (const uri of [...session.subscriptions]) {
      void this.subscriptions.unsubscribe(session, this.catalog.resourceOwner(uri), uri);
    }
    this.events.emit({
      event: 'mcpgate.session.end',
      session: session.id,
      transport: session.transportKind,
      duration_ms: Date.now() - session.startedAt,
      calls: session.calls,
      subject: session.authenticated?.subject,
      ...(session.endReason ? { reason: session.endReason } : {}),
    });
  }

  /** A network ask goes to the caller whose call is in flight on that server, if exactly one client's is. */
  private askNetwork({ server, host, port, verdict, signal }: NetworkAskRequest): Promise<ApprovalAnswer> {
    const owner = this.upstreams.get(server)?.soleOwner();
    const caller = owner && !owner.caller.closed ? owner.caller : undefined;
    const cause = owner ? { cause: { ...(owner.call ? { call: owner.call } : {}), ...(owner.tool ? { tool: owner.tool } : {}) } } : {};
    return this.approvals.decide({ caller, asked: { kind: 'network', server, host, port, ...cause }, verdict, signal });
  }

  // --- UpstreamHooks ---

  async onRequest(upstream: Upstream, request: JSONRPCRequest, signal: AbortSignal, known?: CallOwner): Promise<Result> {
    // routed to the call it belongs to: named (a 2026 upstream's input_required) or the one in flight
    const owner = known ?? upstream.soleOwner();
    if (!owner || owner.caller.closed) {
      throw wireError(
        ErrorCodes.CLIENT_REQUEST_UNROUTABLE,
        `mcpgate cannot route ${request.method} from upstream "${upstream.name}": it must be sent while exactly one client session has a request in flight on that server`,
      );
    }
    // an upstream's elicitation is marked as its own and may not pass for mcpgate's approval prompt;
    // any upstream may put a resolved secret into what it asks the client: redact it first
    const refused = (reason: string) => this.logger.warn({ server: upstream.name }, `refused an elicitation from upstream "${upstream.name}": ${reason}`);
    const forwarded = forwardableRequest(upstream.name, this.redactor.scrubJson(request), refused);
    if (!(forwarded.method in CAPABILITY_FOR)) throw wireError(ErrorCodes.METHOD_NOT_FOUND, `Method not found: ${String(forwarded.method).slice(0, 64)}`);
    return owner.caller.input(`u:${String(request.id)}`, { method: forwarded.method as InputMethod, ...(forwarded.params ? { params: forwarded.params } : {}) }, { signal, fromUpstream: true });
  }

  onNotification(upstream: Upstream, notification: Notification): void {
    const raw = (notification.params ?? {}) as Record<string, unknown>;
    // Any upstream may log or announce a resolved secret: redact before a client or the log sees it.
    const params = this.redactor.scrubJson(raw);
    if (notification.method === 'notifications/message') {
      const caller = upstream.soleOwner()?.caller;
      if (caller && !caller.closed) {
        if (wantsLog(caller, params.level)) caller.notify({ method: notification.method, params: { ...params, logger: params.logger ?? upstream.name } });
      } else this.logger.debug({ server: upstream.name, log: params }, 'upstream log message with no call in flight');
      return;
    }
    if (notification.method === 'notifications/resources/updated' && typeof raw.uri === 'string') {
      for (const session of this.subscriptions.watching(raw.uri)) session.notify({ method: notification.method, params });
      return;
    }
    this.logger.debug({ server: upstream.name, method: notification.method }, 'upstream notification not forwarded');
  }

  onListsChanged(upstream: Upstream): void {
    // Clients hear only about public lists that really changed (an upstream restart that lists
    // the same tools, or a change hidden by policy, is not news).
    const changed = this.catalog.rebuild();
    for (const collision of this.catalog.collisions) {
      if (collision.kept === upstream.name || collision.dropped === upstream.name) this.reportCollision(collision);
    }
    this.notifyListsChanged(changed);
  }

  /** Rebuilds the catalog after an admin accepted a tool definition; tells clients what changed. */
  private refreshCatalog(): void {
    this.notifyListsChanged(this.catalog.rebuild());
  }

  private notifyListsChanged(changed: ReadonlySet<ListKind>): void {
    for (const session of this.sessions.values()) {
      for (const kind of changed) session.notify({ method: LIST_CHANGED[kind] });
    }
    this.modern.listChanged(changed);
  }

  private reportCollision(collision: { kind: string; name: string; kept: string; dropped: string }): void {
    this.logger.error(
      { code: ErrorCodes.NAME_COLLISION, kind: collision.kind, public_name: collision.name, kept: collision.kept, dropped: collision.dropped },
      `config error: ${collision.kind} name "${collision.name}" is offered by both "${collision.kept}" and "${collision.dropped}"; "${collision.dropped}"'s is left out — give one of them a distinct \`prefix\``,
    );
  }
}
