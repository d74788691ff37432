/**
 * Whether and where to export OpenTelemetry: the `telemetry` section of gateway.yaml over the
 * standard `OTEL_*` environment variables over the OpenTelemetry defaults. Pure: the caller
 * passes the environment, and gets the warnings to log. Off unless gateway.yaml has a
 * `telemetry` section or an `OTEL_EXPORTER_OTLP_*ENDPOINT` variable is set.
 */
import type { TelemetryConfig } from '../config/types.js';

/** An OpenTelemetry signal. */
export type Signal = 'logs' | 'traces' | 'metrics';

/** OTLP/HTTP encodings (gRPC is not supported). */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** Where and how one signal is exported. */
export interface SignalExport {
  readonly url: string;
  readonly protocol: OtlpProtocol;
}

/** The resolved export settings; `undefined` from `telemetrySettings` means telemetry is off. */
export interface TelemetrySettings {
  /** Enabled signals only. */
  readonly signals: Readonly<Partial<Record<Signal, SignalExport>>>;
  /** Headers from gateway.yaml (the exporters add OTEL_EXPORTER_OTLP_*HEADERS themselves). */
  readonly headers: Readonly<Record<string, string>>;
  /** service.name when gateway.yaml or OTEL_SERVICE_NAME sets none in the resource: `mcpgate`. */
  readonly serviceName?: string;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly exportIntervalMs: number;
  readonly exportTimeoutMs: number;
  readonly maxQueueSize: number;
  /** Batching delay of spans and log records. */
  readonly scheduleDelayMs: { readonly traces: number; readonly logs: number };
  /** Most spans / log records per export request (never more than maxQueueSize). */
  readonly maxExportBatchSize: { readonly traces: number; readonly logs: number };
}

const SIGNALS: readonly Signal[] = ['logs', 'traces', 'metrics'];
const ENV_NAME: Record<Signal, string> = { logs: 'LOGS', traces: 'TRACES', metrics: 'METRICS' };
const DEFAULT_ENDPOINT = 'http://localhost:4318';

/** Resolves the telemetry settings; `settings` is undefined when telemetry is off. */
export function telemetrySettings(
  config: TelemetryConfig | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { settings?: TelemetrySettings; warnings: string[] } {
  const warnings: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  if (config?.enabled === false || get('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return { warnings };
  const general = get('OTEL_EXPORTER_OTLP_ENDPOINT');
  const specific = (signal: Signal) => get(`OTEL_EXPORTER_OTLP_${ENV_NAME[signal]}_ENDPOINT`);
  if (!config && !general && !SIGNALS.some(specific)) return { warnings };

  const signals: Partial<Record<Signal, SignalExport>> = {};
  for (const signal of config?.signals ?? SIGNALS) {
    // With neither gateway.yaml nor the general endpoint, only signals given their own endpoint export.
    if (!config && !general && !specific(signal)) continue;
    const exporter = get(`OTEL_${ENV_NAME[signal]}_EXPORTER`);
    if (exporter === 'none') continue;
    if (exporter && exporter !== 'otlp') warnings.push(`OTEL_${ENV_NAME[signal]}_EXPORTER=${exporter} is not supported by mcpgate; exporting ${signal} over OTLP/HTTP`);
    const url = config?.endpoint
      ? signalUrl(config.endpoint, signal)
      : (specific(signal) ?? signalUrl(general ?? DEFAULT_ENDPOINT, signal));
    signals[signal] = { url, protocol: protocolOf(config?.protocol ?? get(`OTEL_EXPORTER_OTLP_${ENV_NAME[signal]}_PROTOCOL`) ?? get('OTEL_EXPORTER_OTLP_PROTOCOL'), warnings) };
  }
  if (Object.keys(signals).length === 0) return { warnings };

  const resourceFromEnv = get('OTEL_RESOURCE_ATTRIBUTES') ?? '';
  const resourceAttributes = { ...config?.resourceAttributes };
  const named = config?.serviceName ?? get('OTEL_SERVICE_NAME');
  const serviceName = named ?? (/(^|,)\s*service\.name=/.test(resourceFromEnv) || 'service.name' in resourceAttributes ? undefined : 'mcpgate');
  return {
    warnings,
    settings: {
      signals,
      headers: { ...config?.headers },
      ...(serviceName === undefined ? {} : { serviceName }),
      resourceAttributes,
      exportIntervalMs: config?.exportIntervalMs ?? positive(get('OTEL_METRIC_EXPORT_INTERVAL'), 60_000),
      exportTimeoutMs: config?.exportTimeoutMs ?? positive(get('OTEL_EXPORTER_OTLP_TIMEOUT'), 10_000),
      maxQueueSize: config?.maxQueueSize ?? positive(get('OTEL_BSP_MAX_QUEUE_SIZE'), 2048),
      scheduleDelayMs: { traces: positive(get('OTEL_BSP_SCHEDULE_DELAY'), 5000), logs: positive(get('OTEL_BLRP_SCHEDULE_DELAY'), 1000) },
      maxExportBatchSize: { traces: positive(get('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'), 512), logs: positive(get('OTEL_BLRP_MAX_EXPORT_BATCH_SIZE'), 512) },
    },
  };
}

/** `ENDPOINT/v1/SIGNAL`, as the OTLP exporter specification builds it from a base endpoint. */
function signalUrl(endpoint: string, signal: Signal): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/${signal}`;
}


function protocolOf(value: string | undefined, warnings: string[]): OtlpProtocol {
  if (value === undefined || value === 'http/protobuf' || value === 'http/json') return value ?? 'http/protobuf';
  const warning = `OTLP protocol "${value}" is not supported by mcpgate (OTLP/HTTP only); using http/protobuf`;
  if (!warnings.includes(warning)) warnings.push(warning);
  return 'http/protobuf';
}

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n > 0 ? n : fallback;
}
