/**
 * The processes the HTTP benchmark measures, each started on a free loopback port and reached by
 * the SDK's own client: the bare SDK Streamable HTTP echo server (bench/httpEcho.ts), mcpgate
 * (`serve --transport http`, policy and audit on) and mcp-hub (its legacy-SSE `/mcp` endpoint),
 * both gateways fronting the same stdio echo fixture. mcp-hub runs with a private HOME whose
 * marketplace cache is seeded, so it makes no request off this machine.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectorUrl } from './heapProbe.js';
import { modernClient } from './httpLoad.js';
import type { BenchClient, Workload } from './measure.js';
import { ECHO_FIXTURE, MAIN, REPO, writeGatewayConfig } from './setup.js';

/** What the benchmark compares. `mcpgate-2026` is mcpgate's stateless 2026-07-28 path (raw HTTP caller). */
export type HttpTargetName = 'sdk' | 'mcpgate' | 'mcp-hub' | 'mcpgate-2026' | 'base' | 'base-2026' | 'floor';

/** A started target process. */
export interface HttpTarget {
  readonly name: HttpTargetName;
  readonly url: URL;
  readonly pid: number;
  /** The tool call to repeat (public name as this target lists it). */
  readonly workload: Workload;
  /** Its inspector's WebSocket URL, when started with `--inspect` (bench/heapProbe.ts). */
  readonly inspector?: string;
  /** A new client connected to it (a new session where the protocol has them). */
  connect(): Promise<BenchClient>;
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Polls `ready` (bounded) while the child lives. */
async function until(child: ChildProcess, ready: () => Promise<boolean>, what: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}: ${output().slice(-2000)}`);
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready: ${output().slice(-2000)}`);
}

function started(command: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function sdkClient(transport: StreamableHTTPClientTransport | SSEClientTransport): Promise<Client> {
  const client = new Client({ name: 'bench-http', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** A bench script that prints `listening PORT` (`script`, then `args`), its echo tool reached by the SDK client. */
async function startScript(name: 'sdk' | 'floor', script: string, args: readonly string[], what: string): Promise<HttpTarget> {
  const { child, output } = started(process.execPath, ['--import', 'tsx', join(REPO, script), '0', ...args]);
  let port = 0;
  await until(child, async () => (port = Number(/listening (\d+)/.exec(output())?.[1] ?? 0)) > 0, what, output);
  const url = new URL(`http://127.0.0.1:${port}/mcp`);
  return {
    name,
    url,
    pid: child.pid as number,
    workload: { name: 'echo', arguments: { message: 'hello benchmark' } },
    connect: () => sdkClient(new StreamableHTTPClientTransport(url)),
    stop: () => stopChild(child),
  };
}

/** The bare SDK server (bench/httpEcho.ts). */
export function startSdk(): Promise<HttpTarget> {
  return startScript('sdk', 'bench/httpEcho.ts', [], 'the SDK echo server');
}

/** The floor of an HTTP gateway with a stdio upstream (bench/httpFloor.ts) fronting the echo fixture. */
export function startFloor(): Promise<HttpTarget> {
  return startScript('floor', 'bench/httpFloor.ts', ECHO_FIXTURE, 'the HTTP floor relay');
}

/**
 * mcpgate over Streamable HTTP, fronting the echo fixture; `nodeOptions` e.g. `--cpu-prof`. Its
 * clients are the SDK's (2025-11-25 sessions), or for `mcpgate-2026` raw stateless 2026-07-28
 * POSTs (modernClient): the SDK 1.x client cannot speak that revision.
 */
export async function startMcpgate(nodeOptions: string[] = [], name: 'mcpgate' | 'mcpgate-2026' | 'base' | 'base-2026' = 'mcpgate', main = MAIN): Promise<HttpTarget & { readonly configDir: string }> {
  const { dir } = await writeGatewayConfig({ upstream: ECHO_FIXTURE });
  const port = await freePort();
  const { child, output } = started(process.execPath, [...nodeOptions, main, 'serve', '--config', dir, '--transport', 'http', '--port', String(port)], { MCPGATE_LOG_LEVEL: 'warn' });
  const base = `http://127.0.0.1:${port}`;
  await until(
    child,
    async () => {
      const health = (await (await fetch(`${base}/healthz`)).json()) as { upstreams?: Record<string, string> };
      return health.upstreams?.echo === 'ready';
    },
    'mcpgate',
    output,
  );
  const url = new URL(`${base}/mcp`);
  const workload = { name: 'echo__echo', arguments: { message: 'hello benchmark' } };
  const inspector = inspectorUrl(output());
  return {
    name,
    url,
    pid: child.pid as number,
    configDir: dir,
    ...(inspector ? { inspector } : {}),
    workload,
    connect: async () => (name.endsWith('2026') ? modernClient(url, workload) : sdkClient(new StreamableHTTPClientTransport(url))),
    async stop() {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** mcp-hub (npm `mcp-hub`) fronting the echo fixture; clients use its legacy-SSE `/mcp` endpoint. */
export async function startMcpHub(): Promise<HttpTarget> {
  const home = await mkdtemp(join(tmpdir(), 'mcpgate-bench-hub-'));
  // A fresh marketplace cache (one entry, fetched "now"): mcp-hub then skips its registry download.
  await mkdir(join(home, '.mcp-hub/cache'), { recursive: true });
  await mkdir(join(home, '.mcp-hub/logs'), { recursive: true });
  const registry = { version: 'offline', generatedAt: 0, totalServers: 1, servers: [{ id: 'offline' }] };
  await writeFile(join(home, '.mcp-hub/cache/registry.json'), JSON.stringify({ registry, lastFetchedAt: Date.now(), serverDocumentation: {} }));
  const [command, ...args] = ECHO_FIXTURE as [string, ...string[]];
  const config = join(home, 'mcp-hub.json');
  await writeFile(config, JSON.stringify({ mcpServers: { echo: { command, args, cwd: REPO } } }));
  const port = await freePort();
  const env = { HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_STATE_HOME: join(home, 'state'), XDG_CONFIG_HOME: join(home, 'config') };
  const { child, output } = started(process.execPath, [join(REPO, 'node_modules/mcp-hub/dist/cli.js'), '--port', String(port), '--config', config], env);
  const base = `http://127.0.0.1:${port}`;
  await until(
    child,
    async () => {
      const health = (await (await fetch(`${base}/api/health`)).json()) as { servers?: Array<{ name: string; status: string }> };
      return health.servers?.some((s) => s.name === 'echo' && s.status === 'connected') === true;
    },
    'mcp-hub',
    output,
  );
  const url = new URL(`${base}/mcp`);
  return {
    name: 'mcp-hub',
    url,
    pid: child.pid as number,
    workload: { name: 'echo__echo', arguments: { message: 'hello benchmark' } },
    connect: () => sdkClient(new SSEClientTransport(url)),
    async stop() {
      await stopChild(child);
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** mcpgate (a process of its own) measured as a stateless 2026-07-28 caller sees it. */
export function startMcpgate2026(nodeOptions: string[] = []): Promise<HttpTarget> {
  return startMcpgate(nodeOptions, 'mcpgate-2026');
}
