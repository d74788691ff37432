/**
 * Telemetry settings: off unless configured; gateway.yaml over the OTEL_* environment over the
 * OpenTelemetry defaults; per-signal endpoints and exporters; unsupported values warned about.
 */
import { describe, expect, it } from 'vitest';
import { displayUrl } from '../../src/secrets/displayUrl.js';
import { telemetrySettings } from '../../src/telemetry/settings.js';

const ALL = ['logs', 'traces', 'metrics'];

describe('telemetry settings', () => {
  it('are off with neither a telemetry section nor an OTLP endpoint variable', () => {
    expect(telemetrySettings(undefined, {}).settings).toBeUndefined();
    expect(telemetrySettings(undefined, { OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).settings).toBeUndefined();
  });

  it('export every signal to ENDPOINT/v1/SIGNAL from OTEL_EXPORTER_OTLP_ENDPOINT, protobuf by default', () => {
    const { settings, warnings } = telemetrySettings(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
    expect(warnings).toEqual([]);
    expect(Object.keys(settings?.signals ?? {}).sort()).toEqual([...ALL].sort());
    expect(settings?.signals.traces).toEqual({ url: 'http://collector:4318/v1/traces', protocol: 'http/protobuf' });
    expect(settings?.signals.logs?.url).toBe('http://collector:4318/v1/logs');
    expect(settings?.serviceName).toBe('mcpgate');
    expect(settings?.exportIntervalMs).toBe(60_000);
    expect(settings?.maxQueueSize).toBe(2048);
    expect(settings?.maxExportBatchSize).toEqual({ traces: 512, logs: 512 });
  });

  it('export only the signals that have their own endpoint when there is no general one, used as given', () => {
    const { settings } = telemetrySettings(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/custom/path', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' });
    expect(settings?.signals).toEqual({ traces: { url: 'http://tempo:4318/custom/path', protocol: 'http/json' } });
  });

  it('honour OTEL_<SIGNAL>_EXPORTER=none, OTEL_SDK_DISABLED and the batching variables', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_METRICS_EXPORTER: 'none', OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_EXPORTER_OTLP_TIMEOUT: '750' };
    const { settings } = telemetrySettings(undefined, env);
    expect(Object.keys(settings?.signals ?? {}).sort()).toEqual(['logs', 'traces']);
    expect(settings?.exportIntervalMs).toBe(5000);
    expect(settings?.exportTimeoutMs).toBe(750);
    expect(settings?.scheduleDelayMs.traces).toBe(200);
    expect(telemetrySettings(undefined, { ...env, OTEL_SDK_DISABLED: 'true' }).settings).toBeUndefined();
    const batches = telemetrySettings(undefined, { ...env, OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1024', OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '64' }).settings;
    expect(batches?.maxExportBatchSize).toEqual({ traces: 1024, logs: 64 });
    expect(telemetrySettings(undefined, { ...env, OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 'lots' }).settings?.maxExportBatchSize.traces).toBe(512);
  });

  it('turn on with a telemetry section alone, defaulting to the local collector', () => {
    const { settings } = telemetrySettings({ enabled: true }, {});
    expect(settings?.signals.metrics).toEqual({ url: 'http://localhost:4318/v1/metrics', protocol: 'http/protobuf' });
  });

  it('let gateway.yaml override the environment, and enabled: false turn everything off', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_SERVICE_NAME: 'from-env' };
    const { settings } = telemetrySettings(
      { enabled: true, endpoint: 'https://yaml.example/otlp', protocol: 'http/json', serviceName: 'from-yaml', signals: ['logs'], headers: { a: 'b' }, exportTimeoutMs: 1234, maxQueueSize: 10 },
      env,
    );
    expect(settings?.signals).toEqual({ logs: { url: 'https://yaml.example/otlp/v1/logs', protocol: 'http/json' } });
    expect(settings?.serviceName).toBe('from-yaml');
    expect(settings?.headers).toEqual({ a: 'b' });
    expect(settings?.exportTimeoutMs).toBe(1234);
    expect(settings?.maxQueueSize).toBe(10);
    expect(telemetrySettings({ enabled: false }, env).settings).toBeUndefined();
  });

  it('leave service.name to OTEL_SERVICE_NAME or the resource attributes when they set it', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    expect(telemetrySettings(undefined, { ...endpoint, OTEL_SERVICE_NAME: 'svc' }).settings?.serviceName).toBe('svc');
    expect(telemetrySettings(undefined, { ...endpoint, OTEL_RESOURCE_ATTRIBUTES: 'team=a,service.name=svc2' }).settings?.serviceName).toBeUndefined();
    expect(telemetrySettings({ enabled: true, resourceAttributes: { 'service.name': 'svc3' } }, {}).settings?.serviceName).toBeUndefined();
  });

  it('show URLs in the log without credentials', () => {
    expect(displayUrl('https://user:s3cret@collector.example:4318/v1/traces?token=abc')).toBe('https://collector.example:4318/v1/traces');
  });

  it('warn about gRPC and other exporters, exporting over OTLP/HTTP protobuf instead', () => {
    const { settings, warnings } = telemetrySettings(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_LOGS_EXPORTER: 'console' });
    expect(settings?.signals.traces?.protocol).toBe('http/protobuf');
    expect(warnings).toContain('OTLP protocol "grpc" is not supported by mcpgate (OTLP/HTTP only); using http/protobuf');
    expect(warnings.some((w) => w.startsWith('OTEL_LOGS_EXPORTER=console is not supported'))).toBe(true);
    expect(warnings.filter((w) => w.includes('grpc'))).toHaveLength(1);
  });
});
