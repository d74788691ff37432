/**
 * Gateway CPU per forwarded call: a steadier measure than latency and throughput ratios on a
 * shared machine (it does not depend on how the client and upstream are scheduled). Drives the
 * gateway at concurrency 64 for a few seconds and reads its user+system time from /proc.
 * Run: `npm run bench:cpu` (Linux). Options: `-- --concurrency N` (default 64), `-- --runs N`
 * (default 3), `-- --profile DIR` (write a V8 .cpuprofile of each gateway run into DIR, for
 * Chrome DevTools or `node --cpu-prof` tooling), `-- --telemetry` (export OpenTelemetry, OTLP/HTTP
 * protobuf, every signal, to a local collector stand-in that discards what it gets; other OTEL_*
 * variables set for the bench, such as OTEL_TRACES_EXPORTER=none, are passed on to the gateway),
 * `-- --secret` (the upstream holds a `${env:}` value, so every result is scrubbed of it).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { readFile, rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createServer } from 'node:http';
import { measure, warmUp } from './measure.js';
import { BENCH_SECRET, MAIN, REPO, writeGatewayConfig } from './setup.js';

const { values: options } = parseArgs({ options: { concurrency: { type: 'string', default: '64' }, runs: { type: 'string', default: '3' }, profile: { type: 'string' }, telemetry: { type: 'boolean', default: false }, secret: { type: 'boolean', default: false } } });
const CONCURRENCY = Number(options.concurrency);
const DURATION_MS = 3000;
const RUNS = Number(options.runs);
const profile = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${options.profile}`] : [];

async function cpuTicks(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100 Hz)
}

const { dir } = await writeGatewayConfig({ secret: options.secret });
const telemetryEnv: Record<string, string> = {};
/** Bytes the collector stand-in received, per OTLP path (`/v1/traces`…). */
const received = new Map<string, number>();
const collector = options.telemetry
  ? createServer((req, res) => {
      req.on('data', (chunk: Buffer) => received.set(req.url ?? '', (received.get(req.url ?? '') ?? 0) + chunk.length));
      req.on('end', () => res.end());
    })
  : undefined;
if (collector) {
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const address = collector.address();
  telemetryEnv.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  telemetryEnv.OTEL_METRIC_EXPORT_INTERVAL = '1000';
  // Other OTEL_* variables of the bench's own environment reach the gateway (e.g. OTEL_TRACES_EXPORTER=none).
  for (const [name, value] of Object.entries(process.env)) if (name.startsWith('OTEL_') && value !== undefined) telemetryEnv[name] = value;
}
try {
  for (let run = 1; run <= RUNS; run++) {
    const transport = new StdioClientTransport({ command: process.execPath, args: [...profile, MAIN, 'serve', '--config', dir], env: { MCPGATE_LOG_LEVEL: 'warn', ...telemetryEnv, ...(options.secret ? BENCH_SECRET : {}) }, cwd: REPO });
    const client = new Client({ name: 'bench-cpu', version: '1.0.0' });
    await client.connect(transport);
    const workload = { name: 'echo__echo', arguments: { message: 'hello benchmark' } };
    await warmUp(client, workload, 2000);
    const pid = transport.pid as number;
    const before = await cpuTicks(pid);
    received.clear();
    const cell = await measure(client, workload, CONCURRENCY, DURATION_MS);
    const usedMicros = ((await cpuTicks(pid)) - before) * 10_000;
    const exported = [...received].map(([path, bytes]) => `${path.replace('/v1/', '')} ${Math.round(bytes / cell.calls)}`).join(', ');
    console.log(`run ${run}: ${Math.round(cell.perSecond)} calls/s, gateway CPU ${(usedMicros / cell.calls).toFixed(1)} µs per call${exported ? ` (OTLP bytes per call: ${exported})` : ''}`);
    await client.close();
  }
} finally {
  collector?.close();
  await rm(dir, { recursive: true, force: true });
}
