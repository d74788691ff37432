/**
 * Telemetry off costs nothing: with no telemetry configured, not one OpenTelemetry module is
 * loaded (checked in a fresh Node process that imports the whole serve command).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/gateway.js';

const run = promisify(execFile);

const SCRIPT = `
import { createRequire } from 'node:module';
import { serveCommand } from ${JSON.stringify(join(REPO, 'dist/cli/serve.js'))};
import { startTelemetry } from ${JSON.stringify(join(REPO, 'dist/telemetry/telemetry.js'))};
import { silentLogger } from ${JSON.stringify(join(REPO, 'dist/telemetry/logger.js'))};
const require = createRequire(import.meta.url);
const otelModules = () => Object.keys(require.cache).filter((file) => file.includes('@opentelemetry')).length;
const config = { telemetry: undefined };
const off = await startTelemetry(config, silentLogger(), { OTEL_SERVICE_NAME: 'x' });
const whenOff = otelModules();
const on = await startTelemetry(config, silentLogger(), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
const whenOn = otelModules();
await on.shutdown();
console.log(JSON.stringify({ off: off === undefined, on: on !== undefined, whenOff, whenOn, serve: typeof serveCommand }));
`;

describe('telemetry when off', () => {
  it('loads no OpenTelemetry module (and loads them once configured)', async () => {
    // OTEL_LOG_LEVEL=debug: SDK diagnostics must not reach stdout (the MCP channel on stdio).
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', SCRIPT], { cwd: REPO, timeout: 30_000, env: { ...process.env, OTEL_LOG_LEVEL: 'debug' } });
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ off: true, on: true, whenOff: 0, serve: 'function' });
    expect(result.whenOn).toBeGreaterThan(10);
  });
});
