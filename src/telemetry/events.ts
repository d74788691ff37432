/**
 * The CONTRACT's events (§4) as types, and the sink every stage reports to. The audit log is one
 * sink; OpenTelemetry will be another. Field names are snake_case because they are the public,
 * on-disk record format that auditors' scripts read.
 */

/** Who made a decision. */
export type DecidedBy = 'rule' | 'default' | 'managed' | 'schema' | 'user' | 'auto_review' | 'timeout';

/** How a tool call ended. */
export type CallOutcome = 'ok' | 'tool_error' | 'protocol_error' | 'timeout' | 'cancelled' | 'input_required' | 'task';

/** The requests recorded by `mcpgate.request`: everything about resources, prompts and completions but the lists. */
export type AuditedMethod = 'resources/read' | 'resources/subscribe' | 'resources/unsubscribe' | 'prompts/get' | 'completion/complete' | 'tasks/get' | 'tasks/update' | 'tasks/cancel';

/** How a resources/prompts/completion request ended: `denied` never reached the upstream. */
export type RequestOutcome = 'ok' | 'denied' | 'protocol_error' | 'timeout' | 'cancelled' | 'input_required';

/** Lifecycle states of an upstream connection. */
export type UpstreamState = 'starting' | 'ready' | 'failed' | 'restarting' | 'stopped';

export interface SessionStartEvent {
  readonly event: 'mcpgate.session.start';
  readonly session: string;
  readonly transport: 'stdio' | 'http';
  readonly client_name?: string;
  readonly client_version?: string;
  readonly protocol_version?: string;
  readonly subject?: string;
  /** Groups of the authenticated subject (token claim `auth.groupsClaim`). */
  readonly groups?: readonly string[];
  /** The configuration in force (config/digest.ts): `sha256:…`. */
  readonly config_digest?: string;
}

export interface SessionEndEvent {
  readonly event: 'mcpgate.session.end';
  readonly session: string;
  readonly transport: 'stdio' | 'http';
  readonly duration_ms: number;
  readonly calls: number;
  readonly subject?: string;
  /** Why it ended: `idle` (http.sessionIdleTimeout), `deleted` (client DELETE), `disconnected` (stdio client closed), `shutdown`. */
  readonly reason?: 'idle' | 'deleted' | 'disconnected' | 'shutdown';
}

export interface ToolDecisionEvent {
  readonly event: 'mcpgate.tool.decision';
  readonly session: string;
  /** Gateway-unique id tying a decision to its result record. */
  readonly call: string;
  readonly server: string;
  readonly tool: string;
  readonly public_name: string;
  readonly decision: 'allow' | 'ask' | 'deny';
  readonly decided_by: DecidedBy;
  /** `file field (rule text)` of the deciding rule, absent for defaults. */
  readonly rule?: string;
  readonly reason: string;
  readonly scope?: 'once' | 'session' | 'always';
  readonly approval_wait_ms: number;
  /** How an `ask` was answered: elicitation, queue, auto_review, session, always, or none (no channel). */
  readonly approval_channel?: 'elicitation' | 'queue' | 'auto_review' | 'session' | 'always' | 'none';
  readonly arguments?: unknown;
  readonly arguments_sha256?: string;
  readonly arguments_truncated?: boolean;
  /** Paths of the recorded arguments that were cut to fit `audit.maxArgumentBytes`. */
  readonly arguments_cut?: readonly string[];
  readonly subject?: string;
  /** The server runs without a sandbox (see its `mcpgate.upstream.state` records for why). */
  readonly unconfined?: true;
  /** The MCP revision the caller speaks (`mcp.protocol.version`), when known; `2026-07-28`: a stateless caller, whose `session` is its caller key. */
  readonly protocol_version?: string;
}

export interface ToolResultEvent {
  readonly event: 'mcpgate.tool.result';
  readonly session: string;
  readonly call: string;
  readonly server: string;
  readonly tool: string;
  readonly public_name: string;
  readonly duration_ms: number;
  readonly outcome: CallOutcome;
  /** Characters of content carried by the result's content items (text, base64 data, embedded resource bodies). */
  readonly result_size: number;
  readonly error?: string;
  readonly subject?: string;
  /** The MCP revision the caller speaks (`mcp.protocol.version`), when known; `2026-07-28`: a stateless caller, whose `session` is its caller key. */
  readonly protocol_version?: string;
  /** The MCP revision the upstream leg spoke when it was not 2025-11-25: `2026-07-28` (docs/protocol.md "Upstream side"). */
  readonly upstream_protocol_version?: string;
}

/** One record per resources/prompts/completion request and per tasks/* request of the tasks extension, written when it ended (denied ones too). */
export interface RequestEvent {
  readonly event: 'mcpgate.request';
  readonly session: string;
  /** Gateway-unique id (same series as tool call ids). */
  readonly request: string;
  readonly method: AuditedMethod;
  /** The upstream owning the target; '' when none does. */
  readonly server: string;
  /** The resource URI or template, the public prompt name, or the upstream's own task id. */
  readonly target: string;
  readonly decision: 'allow' | 'deny';
  readonly decided_by: DecidedBy;
  /** `file field (rule)` when a setting (not a default) decided. */
  readonly rule?: string;
  readonly reason: string;
  readonly outcome: RequestOutcome;
  readonly duration_ms: number;
  /** Characters of text/base64 content in the result (resources/read, prompts/get), or completion values. */
  readonly result_size?: number;
  readonly error?: string;
  /** prompts/get arguments, recorded as `audit.arguments` says (as for tools). */
  readonly arguments?: unknown;
  readonly arguments_sha256?: string;
  readonly arguments_truncated?: boolean;
  readonly subject?: string;
  /** The MCP revision the caller speaks (`mcp.protocol.version`), when known; `2026-07-28`: a stateless caller, whose `session` is its caller key. */
  readonly protocol_version?: string;
  /** The MCP revision the upstream leg spoke when it was not 2025-11-25: `2026-07-28` (docs/protocol.md "Upstream side"). */
  readonly upstream_protocol_version?: string;
}

export interface UpstreamStateEvent {
  readonly event: 'mcpgate.upstream.state';
  readonly server: string;
  /** `isolation: session`: the client session whose own instance this is. */
  readonly session?: string;
  readonly state: UpstreamState;
  readonly error?: string;
  /** The stable code of a start error mcpgate raised on purpose (e.g. MCPGATE_SANDBOX_UNAVAILABLE). */
  readonly error_code?: string;
  readonly attempt?: number;
  readonly retry_in_ms?: number;
  /** How a stdio server runs: `bwrap` (sandboxed), `none` (no sandbox possible here), `off` (configured off). */
  readonly sandbox?: 'bwrap' | 'none' | 'off';
  /** Why a stdio server runs unconfined. */
  readonly sandbox_reason?: string;
}

/** One configuration reload (src/reload): what changed and what is now in force. */
export interface ConfigChangeEvent {
  readonly event: 'mcpgate.config.change';
  /** `signal` (SIGHUP) or `watch` (a watched file changed). */
  readonly trigger?: 'signal' | 'watch';
  /** Reloads applied since the gateway started (1 for the first). */
  readonly generation?: number;
  /** Files whose content changed (config-dir-relative, or absolute outside it). */
  readonly files: readonly string[];
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Servers replaced by a new process (a process-affecting field changed). */
  readonly restarted?: readonly string[];
  /** Servers whose new settings apply to their next call, same process. */
  readonly reconfigured?: readonly string[];
  /** Servers whose file no longer loads (kept at their last good version) or that failed to start. */
  readonly failed: readonly string[];
  /** Files that did not load (their last good version stays in force). */
  readonly failed_files?: readonly string[];
  /** Why, as `file:line: field: message` (at most 20). */
  readonly errors?: readonly string[];
  /** The rules deciding calls changed (policy, approval, clients, a server's tools, the managed requirements). */
  readonly rules_changed?: boolean;
  /** gateway.yaml fields that changed but take effect at the next start (e.g. `listen`, `approval.autoReview`). */
  readonly restart_needed?: readonly string[];
  /** The digest of the configuration files now on disk (config/digest.ts). */
  readonly config_digest?: string;
}

/** A tool's pinned definition changed upstream (`changed`), or an admin accepted the change (`accepted`). */
export interface ToolDefinitionChangeEvent {
  readonly event: 'mcpgate.tool.definition_change';
  readonly server: string;
  readonly tool: string;
  readonly public_name: string;
  readonly status: 'changed' | 'accepted';
  readonly old_sha256: string;
  readonly new_sha256: string;
  /** Which pinned fields differ: description, inputSchema, annotations, title. */
  readonly changed: readonly string[];
}

/**
 * One connection an upstream opened through the egress proxy (or a remote upstream's own URL
 * checked at start): written once, when the connection ends (a denied one ends at once), so it
 * carries the decision and the bytes that crossed.
 */
export interface NetworkDecisionEvent {
  readonly event: 'mcpgate.network.decision';
  readonly server: string;
  /** Canonical host asked for (a name, or an IP address). */
  readonly host: string;
  readonly port: number;
  /** The address connected to (the one judged), when resolved. */
  readonly address?: string;
  /** How it was asked for: `connect` (HTTP CONNECT), `http` (absolute-form request), `socks5`, or `upstream_url`. */
  readonly protocol: 'connect' | 'http' | 'socks5' | 'upstream_url';
  readonly decision: 'allow' | 'deny';
  readonly decided_by: DecidedBy;
  readonly rule?: string;
  readonly reason: string;
  readonly scope?: 'once' | 'session' | 'always';
  readonly approval_wait_ms?: number;
  readonly approval_channel?: ToolDecisionEvent['approval_channel'];
  /** The session and call in flight on that server when it connected, when exactly one session's was. */
  readonly session?: string;
  readonly call?: string;
  readonly tool?: string;
  /** Bytes sent to / received from the destination (allowed connections). */
  readonly bytes_up?: number;
  readonly bytes_down?: number;
  readonly duration_ms?: number;
  /** Why an allowed connection ended other than by a close (`idle_timeout`, a connect or socket error). */
  readonly error?: string;
}

/** Any event of the CONTRACT. */
export type GatewayEvent =
  | SessionStartEvent
  | SessionEndEvent
  | ToolDecisionEvent
  | ToolResultEvent
  | RequestEvent
  | UpstreamStateEvent
  | ConfigChangeEvent
  | ToolDefinitionChangeEvent
  | NetworkDecisionEvent;

/** Receives every event; implementations must not throw and must not block. */
export interface EventSink {
  emit(event: GatewayEvent): void;
}

/** Fans one event out to several sinks; a failing sink never stops the others. */
export class EventBus implements EventSink {
  private readonly sinks: EventSink[] = [];

  /** Adds a sink; returns a function that removes it. */
  add(sink: EventSink): () => void {
    this.sinks.push(sink);
    return () => {
      const i = this.sinks.indexOf(sink);
      if (i >= 0) this.sinks.splice(i, 1);
    };
  }

  emit(event: GatewayEvent): void {
    for (const sink of this.sinks) {
      try {
        sink.emit(event);
      } catch {
        // A broken sink must not break a tool call; sinks report their own failures.
      }
    }
  }
}
