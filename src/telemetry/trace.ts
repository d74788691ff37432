/**
 * The tracing hooks the request pipeline calls. They carry no OpenTelemetry types: when
 * telemetry is off, a request has no trace, nothing of OpenTelemetry is loaded, and a
 * hook costs one optional-chaining check. When it is on, `otelTracer.ts` implements them.
 */

/** Attributes a stage adds to its span (undefined values are left out). */
export type TraceAttributes = Readonly<Record<string, string | number | boolean | undefined>>;

/** A child span of a client request's SERVER span: `policy`, `approval`. */
export interface StageSpan {
  end(attributes?: TraceAttributes): void;
}

/** The JSON-RPC error a forwarded request failed with; `message` only when scrubbed of secrets. */
export interface TraceError {
  readonly code: number;
  readonly message?: string;
}

/** The CLIENT span of one request forwarded upstream. */
export interface UpstreamSpan {
  /**
   * Ends the span. `outcome` is `ok` or how the call failed (`tool_error`, `protocol_error`,
   * `timeout`, `cancelled`); `size` the result's content length; `error` the JSON-RPC error.
   */
  end(outcome: string, size?: number, error?: TraceError): void;
}

/** The tracing handle of one client request; present only while telemetry export is on. */
export interface RequestTrace {
  /** Starts a child span of the request's SERVER span. */
  start(stage: 'policy' | 'approval'): StageSpan;
  /**
   * Starts the CLIENT span of the upstream request and writes its W3C trace context
   * (`traceparent`, `tracestate`) into `params._meta`: pass the request's own copy of its params.
   * `protocolVersion`: the revision the upstream leg speaks (`mcp.protocol.version` of the span).
   */
  upstream(server: string, method: string, params: Record<string, unknown>, protocolVersion?: string): UpstreamSpan;
}

/** What the tracer needs to know of the caller (src/caller/caller.ts). */
export interface TracedCaller {
  /** Absent for a stateless caller: its spans carry no `mcp.session.id`. */
  readonly sessionId: string | undefined;
  readonly transport: 'stdio' | 'http';
  readonly protocolVersion: string | undefined;
}

/** What the tracer needs to know of a client request. */
export interface TracedRequest {
  readonly id: string | number;
  readonly method: string;
  readonly params?: Record<string, unknown>;
}

/** Opens a SERVER span around the handling of each client request. */
export interface RequestTracer {
  /** Runs `handle` for `request` inside its SERVER span and records its duration. */
  request<T>(caller: TracedCaller, request: TracedRequest, handle: (trace: RequestTrace) => Promise<T>): Promise<T>;
}
