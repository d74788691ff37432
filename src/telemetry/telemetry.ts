/**
 * OpenTelemetry export, on only when configured (gateway.yaml `telemetry` or the standard
 * `OTEL_EXPORTER_OTLP_*ENDPOINT` variables). When off, no OpenTelemetry module is even loaded:
 * the SDK is imported dynamically here, so startup and the tool-call hot path pay nothing.
 */
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from './logger.js';
import { displayUrl } from '../secrets/displayUrl.js';
import { telemetrySettings } from './settings.js';
import { messageOf } from '../errors.js';
// type-only: erased, so the SDK is still loaded only by the dynamic import below
import type { Telemetry } from './otel.js';

export type { Telemetry } from './otel.js';

/** How long shutdown waits for the last exports. */
const SHUTDOWN_TIMEOUT_MS = 5000;

/** Starts OpenTelemetry export if configured; resolves undefined when telemetry is off. */
export async function startTelemetry(config: GatewayConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Telemetry | undefined> {
  const { settings, warnings } = telemetrySettings(config.telemetry, env);
  for (const warning of warnings) logger.warn(`telemetry: ${warning}`);
  if (!settings) return undefined;
  try {
    const { startOtel } = await import('./otel.js');
    const telemetry = startOtel(settings, logger);
    const endpoints = Object.fromEntries(Object.entries(settings.signals).map(([signal, target]) => [signal, `${displayUrl(target.url)} (${target.protocol})`]));
    logger.info({ endpoints }, 'telemetry: exporting OpenTelemetry over OTLP/HTTP');
    return { ...telemetry, shutdown: () => bounded(telemetry.shutdown(), logger) };
  } catch (error) {
    // Telemetry is an observer: a gateway that cannot export still serves (the audit file records).
    logger.error({ error: messageOf(error) }, 'telemetry: OpenTelemetry could not start; continuing without export');
    return undefined;
  }
}

async function bounded(shutdown: Promise<void>, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), SHUTDOWN_TIMEOUT_MS);
    timer.unref();
  });
  const outcome = await Promise.race([shutdown.then(() => 'done' as const, () => 'done' as const), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') logger.warn(`telemetry: the last exports did not finish within ${SHUTDOWN_TIMEOUT_MS / 1000}s of shutdown; they are dropped`);
}
