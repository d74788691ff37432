/**
 * Measurement primitives: N workers calling one tool in a loop for a fixed time, latency
 * percentiles and throughput.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';

/** One measured cell. */
export interface Cell {
  readonly calls: number;
  readonly p50: number;
  readonly p99: number;
  readonly perSecond: number;
}

/** A tool call to repeat. */
export interface Workload {
  readonly name: string;
  readonly arguments: Record<string, unknown>;
}

/** A client that repeats a tool call without the SDK's `Client` (the raw 2026-07-28 caller of the HTTP benchmark). */
export interface RawToolClient {
  /** Makes the call once; throws unless it succeeded. */
  callWorkload(workload: Workload): Promise<void>;
  close(): Promise<void>;
}

/** What the benchmarks drive: an SDK client, or a raw one. */
export type BenchClient = Client | RawToolClient;

/** Calls the tool `count` times sequentially (JIT and connection warm-up). */
export async function warmUp(client: BenchClient, workload: Workload, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await call(client, workload);
}

/** Runs `concurrency` workers for `durationMs` and reports latency percentiles and calls/s. */
export async function measure(client: BenchClient, workload: Workload, concurrency: number, durationMs: number): Promise<Cell> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await call(client, workload);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    calls: latencies.length,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    perSecond: (latencies.length / elapsed) * 1000,
  };
}

async function call(client: BenchClient, workload: Workload): Promise<void> {
  if (!('request' in client)) return client.callWorkload(workload);
  const result = await client.request(
    { method: 'tools/call', params: { name: workload.name, arguments: workload.arguments } },
    CallToolResultSchema,
    { timeout: 60_000 },
  );
  if (result.isError) throw new Error(`benchmark call failed: ${JSON.stringify(result.content)}`);
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}
