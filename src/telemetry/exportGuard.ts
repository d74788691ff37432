/**
 * Keeps a slow or unreachable collector from mattering beyond a warning: counts what failed to
 * export, and reports it to the app log at most once per interval per signal. OpenTelemetry's
 * own diagnostics (queue overflow, export errors) go through the same limiter.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { Logger } from './logger.js';

/** How often a warning about the same signal may be logged. */
const WARN_EVERY_MS = 30_000;

/** Counts export failures and rate-limits the warnings about them. */
export class ExportWarnings {
  /** Items (spans, log records, metric batches) that could not be exported, per signal. */
  private readonly dropped: Record<string, number> = {};
  private readonly lastWarned = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly everyMs = WARN_EVERY_MS,
  ) {}

  /** An export of `count` items of `signal` to `url` failed. */
  failed(signal: string, url: string, count: number, error: unknown): void {
    this.dropped[signal] = (this.dropped[signal] ?? 0) + count;
    this.warn(signal, { signal, url, dropped: this.dropped[signal], error: describe(error) }, `telemetry: cannot export ${signal} to the collector; they are dropped (the gateway is unaffected)`);
  }

  /** A diagnostic message from the OpenTelemetry SDK. */
  diagnostic(message: string): void {
    this.warn('sdk', { otel: message }, 'telemetry: OpenTelemetry SDK warning');
  }

  private warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    if (now - (this.lastWarned.get(key) ?? -Infinity) < this.everyMs) return;
    this.lastWarned.set(key, now);
    this.logger.warn(fields, message);
  }
}

/** The part of every OTLP exporter the guard wraps. */
export interface OtlpExporter<T> {
  export(items: T, resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

/** Wraps an exporter so failed exports are counted and reported; everything else is delegated. */
export function guardExporter<E extends OtlpExporter<T>, T>(exporter: E, signal: string, url: string, warnings: ExportWarnings, count: (items: T) => number): E {
  const guarded = Object.create(exporter) as E;
  guarded.export = (items, resultCallback) => {
    exporter.export(items, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) warnings.failed(signal, url, count(items), result.error);
      resultCallback(result);
    });
  };
  return guarded;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error ?? 'export failed');
  const code = (error as { code?: unknown }).code;
  return code === undefined ? error.message : `${error.message} (${String(code)})`;
}
