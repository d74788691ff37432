/**
 * OpenTelemetry setup through `@opentelemetry/sdk-node` (imported dynamically by `telemetry.ts`
 * only when telemetry is on). Every signal goes through a batching processor with a bounded
 * queue and an OTLP/HTTP exporter with a bounded number of requests in flight, so a tool call
 * never waits for the collector; failed exports are counted and warned about, rate-limited.
 */
import { diag, DiagLogLevel, metrics, trace } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { diagLogLevelFromString } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { PeriodicExportingMetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { GATEWAY_NAME, GATEWAY_VERSION } from '../version.js';
import { AfterTurn } from './afterTurn.js';
import { ExportWarnings, guardExporter, type OtlpExporter } from './exportGuard.js';
import type { Logger } from './logger.js';
import type { EventSink } from './events.js';
import { OtelEventSink } from './otelEvents.js';
import { MCP_DURATION_BUCKETS, OtelRequestTracer } from './otelTracer.js';
import type { RequestTracer } from './trace.js';
import { displayUrl } from '../secrets/displayUrl.js';
import type { Signal, SignalExport, TelemetrySettings } from './settings.js';

/** Export requests in flight per signal; a slow collector makes further batches fail fast (and be counted). */
const CONCURRENT_EXPORTS = 2;

/** Running OpenTelemetry export. */
export interface Telemetry {
  /** Receives every CONTRACT event (log records and event metrics). */
  readonly sink: EventSink;
  /** Spans and operation durations of client requests (absent when neither traces nor metrics are exported). */
  readonly tracer?: RequestTracer;
  /** Flushes what is queued (bounded by a timeout) and stops exporting. */
  shutdown(): Promise<void>;
}

/** Starts the SDK with the given settings. */
export function startOtel(settings: TelemetrySettings, logger: Logger): Telemetry {
  const warnings = new ExportWarnings(logger);
  /** The signal's OTLP/HTTP exporter in its encoding, with failures counted and warned about. */
  const exporter = <J extends OtlpExporter<T>, P extends OtlpExporter<T>, T>(
    signal: Signal,
    target: SignalExport,
    encodings: { json: new (config: object) => J; proto: new (config: object) => P },
    count: (items: T) => number,
  ): J | P => {
    const config = { url: target.url, headers: { ...settings.headers }, timeoutMillis: settings.exportTimeoutMs, concurrencyLimit: CONCURRENT_EXPORTS };
    const created = target.protocol === 'http/json' ? new encodings.json(config) : new encodings.proto(config);
    return guardExporter<J | P, T>(created, signal, displayUrl(target.url), warnings, count);
  };
  /** The batch processor settings of a signal (spans and log records are batched alike). */
  const batching = (signal: 'traces' | 'logs') => ({
    scheduledDelayMillis: settings.scheduleDelayMs[signal],
    maxExportBatchSize: Math.min(settings.maxExportBatchSize[signal], settings.maxQueueSize),
    maxQueueSize: settings.maxQueueSize,
    exportTimeoutMillis: settings.exportTimeoutMs + 1000,
  });
  const length = (items: readonly unknown[]) => items.length;
  const { traces, logs: logSignal, metrics: metricSignal } = settings.signals;

  const spanProcessors = traces
    ? [
        new BatchSpanProcessor({
          exporter: exporter('traces', traces, { json: JsonTraceExporter, proto: ProtoTraceExporter }, length),
          ...batching('traces'),
        }),
      ]
    : [];
  const logRecordProcessors = logSignal
    ? [
        new BatchLogRecordProcessor({
          exporter: exporter('logs', logSignal, { json: JsonLogExporter, proto: ProtoLogExporter }, length),
          ...batching('logs'),
        }),
      ]
    : [];
  const metricReaders = metricSignal
    ? [
        new PeriodicExportingMetricReader({
          exporter: exporter('metrics', metricSignal, { json: JsonMetricExporter, proto: ProtoMetricExporter }, (batch: ResourceMetrics) =>
            batch.scopeMetrics.reduce((n, scope) => n + scope.metrics.length, 0),
          ),
          exportIntervalMillis: settings.exportIntervalMs,
          exportTimeoutMillis: Math.min(settings.exportTimeoutMs, settings.exportIntervalMs),
        }),
      ]
    : [];

  // SDK diagnostics go to the gateway log (stderr), warnings rate-limited. NodeSDK would point
  // them at the console when OTEL_LOG_LEVEL is set, and on stdio stdout is the MCP channel: it
  // does not see the variable while it is built.
  const debug = (message: string) => logger.debug({ otel: message }, 'telemetry: OpenTelemetry SDK diagnostic');
  const logLevel = process.env.OTEL_LOG_LEVEL;
  diag.setLogger(
    { error: (message) => warnings.diagnostic(message), warn: (message) => warnings.diagnostic(message), info: debug, debug, verbose: debug },
    { logLevel: diagLogLevelFromString(logLevel) ?? DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  delete process.env.OTEL_LOG_LEVEL;
  let sdk: NodeSDK;
  try {
    sdk = new NodeSDK({
      ...(settings.serviceName === undefined ? {} : { serviceName: settings.serviceName }),
      resource: resourceFromAttributes({ 'service.version': GATEWAY_VERSION, ...settings.resourceAttributes }),
      spanProcessors,
      logRecordProcessors,
      metricReaders,
      // Trace context travels in MCP `_meta`, handled by the tracer itself: no global propagator.
      textMapPropagator: null,
    });
  } finally {
    if (logLevel !== undefined) process.env.OTEL_LOG_LEVEL = logLevel;
  }
  sdk.start();
  const later = new AfterTurn();
  const meter = metricSignal ? metrics.getMeter(GATEWAY_NAME, GATEWAY_VERSION) : undefined;
  const duration = (name: string, description: string) =>
    metrics.getMeter(GATEWAY_NAME, GATEWAY_VERSION).createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: MCP_DURATION_BUCKETS } });
  const tracer = new OtelRequestTracer(
    trace.getTracer(GATEWAY_NAME, GATEWAY_VERSION),
    duration('mcp.server.operation.duration', 'MCP request duration as observed by the gateway towards its clients'),
    duration('mcp.client.operation.duration', 'MCP request duration as observed by the gateway towards upstream servers'),
    traces !== undefined,
    later,
  );
  const sink = new OtelEventSink(logSignal ? logs.getLogger(GATEWAY_NAME, GATEWAY_VERSION) : undefined, meter, later);
  return {
    sink,
    tracer: traces || metricSignal ? tracer : undefined,
    shutdown: () => {
      later.drain();
      return sdk.shutdown();
    },
  };
}
