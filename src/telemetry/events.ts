/**
 * The CONTRACT's events (§4) as types, and the sink every stage reports to. The audit log is one
 * sink; OpenTelemetry will be another. Field names are snake_case because they are the public,
 * on-disk record format that auditors' scripts read.
 */

/** Who made a decision. */
export type DecidedBy = 'rule' | 'default' | 'managed' | 'user' | 'auto_review' | 'timeout';

/** How a tool call ended. */
export type CallOutcome = 'ok' | 'tool_error' | 'protocol_error' | 'timeout' | 'cancelled';

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
  readonly subject?: string;
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
}

export interface UpstreamStateEvent {
  readonly event: 'mcpgate.upstream.state';
  readonly server: string;
  readonly state: UpstreamState;
  readonly error?: string;
  readonly attempt?: number;
  readonly retry_in_ms?: number;
}

export interface ConfigChangeEvent {
  readonly event: 'mcpgate.config.change';
  readonly files: readonly string[];
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly failed: readonly string[];
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

/** Any event of the CONTRACT. */
export type GatewayEvent =
  | SessionStartEvent
  | SessionEndEvent
  | ToolDecisionEvent
  | ToolResultEvent
  | UpstreamStateEvent
  | ConfigChangeEvent
  | ToolDefinitionChangeEvent;

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
