/**
 * Spans and operation-duration metrics of client requests (loaded only when telemetry is on).
 * Each client request gets a SERVER span `{mcp.method.name} {target}` continuing the client's
 * `params._meta.traceparent`; pipeline stages add `policy` and `approval` children and a CLIENT
 * span per upstream request, whose trace context goes into the upstream request's `_meta`.
 * Spans carry lengths, never arguments or results (those go to log records only).
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Histogram, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { AfterTurn } from './afterTurn.js';
import type { RequestTrace, RequestTracer, StageSpan, TraceAttributes, TracedRequest, TracedCaller, TraceError, UpstreamSpan } from './trace.js';

/** The semconv histogram buckets of MCP operation durations (seconds). */
export const MCP_DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** SERVER span attributes that also label its duration metric. */
const METRIC_KEYS = ['gen_ai.tool.name', 'gen_ai.operation.name', 'gen_ai.prompt.name', 'mcp.protocol.version'] as const;

const propagator = new W3CTraceContextPropagator();
const metaGetter = {
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
  get: (carrier: Record<string, unknown>, key: string) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};
const metaSetter = {
  set: (carrier: Record<string, unknown>, key: string, value: string) => {
    carrier[key] = value;
  },
};

/** The OpenTelemetry implementation of the pipeline's tracing hooks. */
export class OtelRequestTracer implements RequestTracer {
  constructor(
    private readonly tracer: Tracer,
    private readonly serverDuration: Histogram,
    private readonly clientDuration: Histogram,
    /** False when only metrics are exported: no context is made active for log correlation. */
    private readonly tracing: boolean,
    /** Ends spans and records durations after the response has left. */
    private readonly later: AfterTurn,
  ) {}

  request<T>(caller: TracedCaller, request: TracedRequest, handle: (trace: RequestTrace) => Promise<T>): Promise<T> {
    const started = performance.now();
    const params = request.params ?? {};
    const parent = remoteParent(params._meta);
    const target = targetOf(request.method, params);
    const attributes: Attributes = {
      'mcp.method.name': request.method,
      'jsonrpc.request.id': String(request.id),
      'network.transport': caller.transport === 'stdio' ? 'pipe' : 'tcp',
    };
    if (caller.sessionId !== undefined) attributes['mcp.session.id'] = caller.sessionId;
    if (caller.transport === 'http') attributes['network.protocol.name'] = 'http';
    if (caller.protocolVersion) attributes['mcp.protocol.version'] = caller.protocolVersion;
    if (request.method === 'tools/call') {
      attributes['gen_ai.operation.name'] = 'execute_tool';
      if (target) attributes['gen_ai.tool.name'] = target;
    } else if (request.method === 'prompts/get' && target) {
      attributes['gen_ai.prompt.name'] = target;
    } else if (typeof params.uri === 'string') {
      attributes['mcp.resource.uri'] = params.uri;
    }
    const span = this.tracer.startSpan(target ? `${request.method} ${target}` : request.method, { kind: SpanKind.SERVER, attributes }, parent);
    const ctx = trace.setSpan(parent, span);
    const handleTrace = new SpanHandle(this.tracer, this.clientDuration, span, ctx, this.later, caller.protocolVersion);
    const finish = (errorType: string | undefined): void => {
      const ended = performance.now();
      this.later.run(() => {
        // Measured after the response left: the arguments are serialised once more only here.
        if (request.method === 'tools/call') span.setAttribute('mcpgate.arguments.length', argumentsLength(params.arguments));
        this.end(span, ended, ended - started, request.method, attributes, errorType);
      });
    };
    const running = this.tracing ? context.with(ctx, handle, undefined, handleTrace) : handle(handleTrace);
    return running.then(
      (result) => {
        finish((result as { isError?: unknown } | undefined)?.isError === true ? 'tool_error' : undefined);
        return result;
      },
      (error: unknown) => {
        const code = (error as { code?: unknown } | undefined)?.code;
        // No message: error texts can quote upstream output; the error log record carries the scrubbed one.
        finish(typeof code === 'number' ? String(code) : '_OTHER');
        throw error;
      },
    );
  }

  /** Ends a SERVER span and records its duration (after the response has left). */
  private end(span: Span, ended: number, durationMs: number, method: string, attributes: Attributes, errorType: string | undefined): void {
    const metric: Attributes = { 'mcp.method.name': method, 'network.transport': attributes['network.transport'] };
    for (const key of METRIC_KEYS) if (attributes[key] !== undefined) metric[key] = attributes[key];
    if (errorType !== undefined) {
      metric['error.type'] = errorType;
      span.setAttribute('error.type', errorType);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(ended);
    this.serverDuration.record(durationMs / 1000, metric);
  }
}

/** The per-request handle the pipeline stages see. */
class SpanHandle implements RequestTrace {
  constructor(
    private readonly tracer: Tracer,
    private readonly clientDuration: Histogram,
    private readonly server: Span,
    private readonly ctx: Context,
    private readonly later: AfterTurn,
    /** The caller's MCP revision: on the stage spans too (the CLIENT span's revision is the upstream's). */
    private readonly protocolVersion: string | undefined,
  ) {}

  start(stage: 'policy' | 'approval'): StageSpan {
    const attributes = this.protocolVersion === undefined ? undefined : { 'mcp.protocol.version': this.protocolVersion };
    const span = this.tracer.startSpan(stage, { kind: SpanKind.INTERNAL, ...(attributes ? { attributes } : {}) }, this.ctx);
    return {
      end: (attributes?: TraceAttributes) => {
        const ended = performance.now();
        this.later.run(() => {
          if (attributes) span.setAttributes(defined(attributes));
          span.end(ended);
        });
      },
    };
  }

  upstream(server: string, method: string, params: Record<string, unknown>, protocolVersion?: string): UpstreamSpan {
    const started = performance.now();
    const target = targetOf(method, params);
    const attributes: Attributes = { 'mcp.method.name': method, 'mcpgate.server': server };
    if (protocolVersion) attributes['mcp.protocol.version'] = protocolVersion;
    if (method === 'tools/call') {
      attributes['gen_ai.operation.name'] = 'execute_tool';
      if (target) attributes['gen_ai.tool.name'] = target;
    } else if (method === 'prompts/get' && target) {
      attributes['gen_ai.prompt.name'] = target;
    }
    const span = this.tracer.startSpan(target ? `${method} ${target}` : method, { kind: SpanKind.CLIENT, attributes }, this.ctx);
    // The upstream continues this CLIENT span, not the client's own span: replace what the client sent.
    const meta: Record<string, unknown> = isRecord(params._meta) ? { ...params._meta } : {};
    delete meta.traceparent;
    delete meta.tracestate;
    propagator.inject(trace.setSpan(this.ctx, span), meta, metaSetter);
    params._meta = meta;
    return {
      end: (outcome: string, size?: number, error?: TraceError) => {
        const ended = performance.now();
        this.later.run(() => this.end(span, started, ended, attributes, outcome, size, error));
      },
    };
  }

  /** Ends a CLIENT span and records its duration (after the response has left). */
  private end(span: Span, started: number, ended: number, attributes: Attributes, outcome: string, size: number | undefined, error: TraceError | undefined): void {
    const metric: Attributes = { ...attributes };
    if (size !== undefined) {
      span.setAttribute('mcpgate.result.size', size);
      this.server.setAttribute('mcpgate.result.size', size);
    }
    if (outcome !== 'ok') {
      const errorType = outcome === 'protocol_error' && error ? String(error.code) : outcome;
      metric['error.type'] = errorType;
      span.setAttribute('error.type', errorType);
      if (error) span.setAttribute('rpc.response.status_code', String(error.code));
      span.setStatus({ code: SpanStatusCode.ERROR, ...(error?.message ? { message: error.message } : {}) });
    }
    span.end(ended);
    this.clientDuration.record((ended - started) / 1000, metric);
  }
}

/** The client's trace context from `params._meta`; malformed input is ignored (a new trace starts). */
function remoteParent(meta: unknown): Context {
  if (!isRecord(meta) || meta.traceparent === undefined) return ROOT_CONTEXT;
  try {
    return propagator.extract(ROOT_CONTEXT, meta, metaGetter);
  } catch {
    return ROOT_CONTEXT;
  }
}

/** The low-cardinality span-name target: the tool or prompt name. */
function targetOf(method: string, params: Record<string, unknown>): string | undefined {
  return (method === 'tools/call' || method === 'prompts/get') && typeof params.name === 'string' ? params.name : undefined;
}

function argumentsLength(args: unknown): number {
  if (args === undefined) return 0;
  try {
    return JSON.stringify(args)?.length ?? 0;
  } catch {
    return 0;
  }
}

function defined(attributes: TraceAttributes): Attributes {
  const out: Attributes = {};
  for (const key in attributes) if (attributes[key] !== undefined) out[key] = attributes[key];
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
