/**
 * The sandbox's cost: (1) start time of one upstream, spawn to initialised, plain vs under
 * bubblewrap (median of 10 starts each, interleaved); (2) tool-call latency and throughput
 * through `mcpgate serve` with the upstream sandboxed (mode auto) vs unconfined (mode off), in
 * interleaved rounds (stdio passes straight through the sandbox: the ratio should be ≈ 1.0).
 * Part of `npm run bench`; `npm run bench -- --sandbox` runs only this.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { rm } from 'node:fs/promises';
import type { ServerConfig, StdioTarget } from '../src/config/types.js';
import { SandboxLauncher } from '../src/sandbox/launcher.js';
import { probeSandbox } from '../src/sandbox/probe.js';
import { StdioUpstreamTransport } from '../src/upstream/stdioTransport.js';
import { measure, warmUp, type Cell } from './measure.js';
import { MAIN, REPO, UPSTREAM, writeGatewayConfig } from './setup.js';

const quick = process.argv.includes('--quick');
const STARTS = 10;
const LEVELS = [1, 64];
const DURATION_MS = quick ? 700 : 3000;
const ROUNDS = quick ? 1 : 3;

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** Spawn to `initialize` answered, in ms. */
async function startOnce(target: StdioTarget): Promise<number> {
  const started = performance.now();
  const transport = new StdioUpstreamTransport(target, { server: 'bench', maxMessageBytes: 4 * 1024 * 1024, quote: (line) => line.slice(0, 80) });
  const client = new Client({ name: 'bench-sandbox', version: '1.0.0' });
  await client.connect(transport);
  const elapsed = performance.now() - started;
  await client.close();
  return elapsed;
}

async function startTimes(): Promise<{ plain: number; sandboxed: number; plan: number }> {
  const [command, ...args] = UPSTREAM as [string, ...string[]];
  const target: StdioTarget = { kind: 'stdio', command, args, env: {}, cwd: REPO };
  const server = { name: 'echo', file: 'servers.d/echo.yaml', target, sandbox: { mode: 'required', modeSource: 'bench', denyRead: [], allowWrite: [] } } as unknown as ServerConfig;
  const { dir, auditFile } = await writeGatewayConfig();
  const launcher = new SandboxLauncher({
    files: { configDir: dir, auditFile, adminDir: `${dir}/.mcpgate`, rulesFile: `${dir}/rules.d/approved.yaml`, pinFile: `${dir}/mcpgate-pins.json`, referencedFiles: [] },
  });
  const plain: number[] = [];
  const sandboxed: number[] = [];
  const plans: number[] = [];
  try {
    await startOnce(target); // warm the page cache
    for (let i = 0; i < STARTS; i++) {
      plain.push(await startOnce(target));
      // planning the mounts (listing the directories it rebuilds) is part of every sandboxed start
      const t0 = performance.now();
      const launch = await launcher.launch(server, target);
      const planMs = performance.now() - t0;
      plans.push(planMs);
      sandboxed.push(planMs + (await startOnce(launch.target)));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { plain: median(plain), sandboxed: median(sandboxed), plan: median(plans) };
}

async function gateway(dir: string): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'serve', '--config', dir], env: { MCPGATE_LOG_LEVEL: 'error' }, cwd: REPO, stderr: 'inherit' });
  const client = new Client({ name: 'bench-sandbox', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

async function callLatency(): Promise<Map<string, Cell>> {
  const modes = ['auto', 'off'] as const;
  const configs = await Promise.all(modes.map((mode) => writeGatewayConfig({ sandbox: mode })));
  const clients = await Promise.all(configs.map(({ dir }) => gateway(dir)));
  const workload = { name: 'echo__echo', arguments: { message: 'hello benchmark' } };
  const cells = new Map<string, Cell[]>();
  try {
    for (const client of clients) await warmUp(client, workload, quick ? 100 : 300);
    for (const level of LEVELS) {
      for (let round = 0; round < ROUNDS; round++) {
        for (let k = 0; k < modes.length; k++) {
          const index = (k + round) % modes.length;
          const cell = await measure(clients[index] as Client, workload, level, DURATION_MS / ROUNDS);
          const key = `${modes[index]}:${level}`;
          cells.set(key, [...(cells.get(key) ?? []), cell]);
        }
      }
    }
  } finally {
    for (const client of clients) await client.close().catch(() => undefined);
    for (const { dir } of configs) await rm(dir, { recursive: true, force: true });
  }
  const medians = new Map<string, Cell>();
  for (const [key, list] of cells) {
    medians.set(key, { calls: list.reduce((n, c) => n + c.calls, 0), p50: median(list.map((c) => c.p50)), p99: median(list.map((c) => c.p99)), perSecond: median(list.map((c) => c.perSecond)) });
  }
  return medians;
}

/** Runs the sandbox benchmark and prints its table. */
export async function runSandboxBench(): Promise<void> {
  const probe = await probeSandbox();
  if (!probe.ok) {
    console.log(`\nsandbox benchmark skipped: ${probe.reason}`);
    return;
  }
  const starts = await startTimes();
  console.log(`\nsandbox — start of one upstream (spawn → initialised, median of ${STARTS}): plain ${fmt(starts.plain, 1)} ms, bubblewrap ${fmt(starts.sandboxed, 1)} ms (+${fmt(starts.sandboxed - starts.plain, 1)} ms, ratio ${fmt(starts.sandboxed / starts.plain)}; planning the mounts ${fmt(starts.plan, 1)} ms of it)`);
  const cells = await callLatency();
  console.log(`sandbox — tools/call through mcpgate, upstream sandboxed (auto) vs unconfined (off), ${ROUNDS} interleaved round(s):`);
  for (const level of LEVELS) {
    const on = cells.get(`auto:${level}`) as Cell;
    const off = cells.get(`off:${level}`) as Cell;
    console.log(
      `  c=${level}: p50 ${fmt(on.p50, 3)} vs ${fmt(off.p50, 3)} ms (ratio ${fmt(on.p50 / off.p50)}), ${fmt(on.perSecond, 0)} vs ${fmt(off.perSecond, 0)} calls/s (ratio ${fmt(on.perSecond / off.perSecond)})`,
    );
  }
}
