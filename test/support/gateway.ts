/**
 * Test support: temp config dirs, real gateway processes (stdio and HTTP), real SDK clients,
 * and audit-log reading. Every process started here is tracked and killed by `cleanup()`.
 */
import { Client, type ClientOptions } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, type StreamableHTTPClientTransportOptions } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';

export const REPO = resolve(import.meta.dirname, '../..');
export const MAIN = join(REPO, 'dist/main.js');

/**
 * Fixture server NAME (test/fixtures/servers/NAME.ts) as plain JavaScript, compiled once per
 * version of its source (and of the local modules it imports, `./other.js`) into
 * test/fixtures/servers/built/NAME-HASH/: `node --import tsx` spends about a second per spawn
 * loading tsx and transforming the file (its cache lives in /tmp, which the sandbox makes private,
 * so it never hits), and the suite starts fixtures hundreds of times. The files sit below their
 * sources, so they import the same node_modules from any cwd.
 */
export function fixtureScript(name: string): string {
  const dir = join(REPO, 'test/fixtures/servers');
  const modules = new Map<string, string>(); // module name -> source text, the fixture first
  const add = (module: string): void => {
    if (modules.has(module)) return;
    const text = readFileSync(join(dir, `${module}.ts`), 'utf8');
    modules.set(module, text);
    for (const match of text.matchAll(/from '\.\/([\w-]+)\.js'/g)) add(match[1] as string);
  };
  add(name);
  const hash = createHash('sha256');
  for (const [module, text] of modules) hash.update(`${module}\0${text}\0`);
  const out = join(dir, 'built', `${name}-${hash.digest('hex').slice(0, 16)}`);
  const entry = join(out, `${name}.js`);
  if (existsSync(entry)) return entry;
  // swc (TypeScript 7 has no JS API): loaded, synchronously, only when this version is not built yet.
  const swc = createRequire(import.meta.url)('@swc/core') as typeof import('@swc/core');
  mkdirSync(out, { recursive: true });
  // Imported modules first, the entry last (its presence means the set is complete). Workers build
  // at the same time: each writes its own file and renames it into place (atomic).
  for (const [module, text] of [...modules].reverse()) {
    const { code } = swc.transformSync(text, { filename: join(dir, `${module}.ts`), jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } });
    const partial = join(out, `${module}.js.${process.pid}.tmp`);
    writeFileSync(partial, code);
    renameSync(partial, join(out, `${module}.js`));
  }
  return entry;
}

/** servers.d entry running one of our fixture servers (test/fixtures/servers/NAME.ts, compiled: `fixtureScript`). */
export function fixtureServer(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { command: 'node', args: [fixtureScript(name)], cwd: REPO, ...extra };
}

/** servers.d entry for the npm reference server-everything over stdio. */
export function everythingServer(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { command: 'node', args: [join(REPO, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'], ...extra };
}

/**
 * servers.d entry for the npm reference server-memory, storing its graph in `file`; the file's
 * directory (which it rewrites by rename) is the sandbox's allowWrite: give it a directory of its own.
 */
export function memoryServer(file: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    command: 'node',
    args: [join(REPO, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js')],
    env: { MEMORY_FILE_PATH: file },
    sandbox: { filesystem: { allowWrite: [dirname(file)] } },
    ...extra,
  };
}

/** A temporary configuration directory. */
export interface TempConfig {
  readonly dir: string;
  readonly auditFile: string;
  cleanup(): Promise<void>;
}

/** Writes gateway.yaml and servers.d files (objects become YAML; strings are written verbatim). */
export async function makeConfig(options: {
  servers: Record<string, Record<string, unknown> | string>;
  gateway?: Record<string, unknown>;
  extension?: 'yaml' | 'json';
  /** Parent directory (default: the OS temp dir, which a sandboxed server cannot see at all). */
  root?: string;
}): Promise<TempConfig> {
  const dir = await mkdtemp(join(options.root ?? tmpdir(), 'mcpgate-test-'));
  const auditFile = join(dir, 'audit.log');
  await mkdir(join(dir, 'servers.d'));
  // Upstreams start slowly on a loaded machine: let early requests wait for them longer than the 5 s default.
  const upstreams = { startupWait: '30s', ...(options.gateway?.upstreams as object | undefined) };
  const gateway = { ...options.gateway, upstreams, audit: { file: auditFile, ...(options.gateway?.audit as object | undefined) } };
  await writeFile(join(dir, 'gateway.yaml'), stringify(gateway));
  for (const [name, body] of Object.entries(options.servers)) {
    const file = name.includes('.') ? name : `${name}.${options.extension ?? 'yaml'}`;
    const text = typeof body === 'string' ? body : file.endsWith('.json') ? JSON.stringify(body, null, 2) : stringify(body);
    await writeFile(join(dir, 'servers.d', file), text);
  }
  return { dir, auditFile, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes managed requirements (an object, as YAML) to DIR/requirements.yaml; returns its path. */
export async function writeRequirements(dir: string, requirements: Record<string, unknown>): Promise<string> {
  const file = join(dir, 'requirements.yaml');
  await writeFile(file, stringify(requirements));
  return file;
}

/** A client connected to a gateway over stdio. */
export interface StdioGateway {
  readonly client: Client;
  readonly transport: StdioClientTransport;
  stderr(): string;
  close(): Promise<void>;
}

/** Spawns `mcpgate serve` over stdio and connects an SDK client to it. */
export async function startStdioGateway(
  dir: string,
  clientOptions: ClientOptions = {},
  env: Record<string, string> = {},
  clientInfo: { name: string; version: string } = { name: 'mcpgate-test', version: '1.0.0' },
): Promise<StdioGateway> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MAIN, 'serve', '--config', dir],
    env: { MCPGATE_LOG_LEVEL: 'debug', ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client(clientInfo, clientOptions);
  await client.connect(transport);
  return { client, transport, stderr: () => stderr, close: () => client.close() };
}

/** A gateway process serving Streamable HTTP. */
export interface HttpGateway {
  readonly url: URL;
  readonly port: number;
  readonly process: ChildProcess;
  stderr(): string;
  /** Connects a new SDK client session (transport options e.g. to send a bearer token). */
  connect(clientOptions?: ClientOptions, transportOptions?: StreamableHTTPClientTransportOptions): Promise<Client>;
  close(): Promise<void>;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Spawns `mcpgate serve --transport http` on a free port and waits until it answers. */
export async function startHttpGateway(dir: string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<HttpGateway> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', dir, '--transport', 'http', '--port', String(port), ...extraArgs], {
    env: { ...process.env, MCPGATE_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.resume();
  const url = new URL(`http://127.0.0.1:${port}/mcp`);
  const clients: Client[] = [];
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}: ${stderr}`);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      return res?.ok === true;
    }, 20_000, () => `gateway did not start listening on ${port}: ${stderr}`);
  } catch (error) {
    // The caller never gets a handle to close: without this the process outlives the test run.
    if (child.exitCode === null) child.kill('SIGKILL');
    throw error;
  }
  return {
    url,
    port,
    process: child,
    stderr: () => stderr,
    async connect(clientOptions: ClientOptions = {}, transportOptions?: StreamableHTTPClientTransportOptions) {
      const client = new Client({ name: 'mcpgate-test', version: '1.0.0' }, clientOptions);
      await client.connect(new StreamableHTTPClientTransport(url, transportOptions));
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => {
          child.once('exit', r);
          setTimeout(r, 8000).unref();
        });
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  };
}

/** Polls until `check` returns true; throws with `describe()` after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, describe: () => string = () => 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
      if (error instanceof Error && error.message.startsWith('gateway exited')) throw error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${describe()}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

/** Waits until process `pid` has exited (e.g. a gateway after its client closed: its audit log is then closed). */
export async function waitForExit(pid: number, timeoutMs = 15_000): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  await waitFor(() => !alive(), timeoutMs, () => `process ${pid} to exit`);
}

/**
 * Waits until the gateway lists every named tool (upstreams start in parallel, and the first
 * listing waits for them only 5 s, which a loaded machine can exceed); returns the listing.
 */
export async function waitForTools(client: Client, names: readonly string[], timeoutMs = 30_000): Promise<Array<{ name: string } & Record<string, unknown>>> {
  let tools: Array<{ name: string } & Record<string, unknown>> = [];
  await waitFor(
    async () => {
      tools = (await client.listTools()).tools;
      return names.every((name) => tools.some((tool) => tool.name === name));
    },
    timeoutMs,
    () => `tools ${names.join(', ')}; have ${tools.map((t) => t.name).join(', ')}`,
  );
  return tools;
}

/** An audit record (JSON line). */
export type AuditRecord = Record<string, unknown> & { event: string };

/** Reads every record of an audit log (an absent file is an empty log). */
export async function readAudit(file: string): Promise<AuditRecord[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AuditRecord);
}

/** Waits until the audit log holds records matching `predicate` (the writer is asynchronous). */
export async function waitForAudit(file: string, predicate: (records: AuditRecord[]) => boolean, timeoutMs = 10_000): Promise<AuditRecord[]> {
  let records: AuditRecord[] = [];
  await waitFor(async () => predicate((records = await readAudit(file))), timeoutMs, () => `audit records in ${file}; have:\n${records.map((r) => JSON.stringify(r)).join('\n')}`);
  return records;
}

/** Waits for the decision record of the call whose `arguments.message` is `message`, and returns it. */
export async function decisionWithMessage(file: string, message: string): Promise<AuditRecord> {
  const match = (r: AuditRecord) => r.event === 'mcpgate.tool.decision' && (r.arguments as { message?: string } | undefined)?.message === message;
  return (await waitForAudit(file, (rs) => rs.some(match))).find(match) as AuditRecord;
}

/** The text of the first text content item of a tool result. */
export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.find((c) => c.type === 'text')?.text ?? '';
}

/** Runs the `mcpgate` CLI to completion: exit code and output (never throws on a non-zero exit); `input` is its stdin. */
export async function runMcpgate(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  child.stdin?.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number>((resolveCode) => child.once('close', (c) => resolveCode(c ?? -1)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** A call waiting in the approval queue, as `mcpgate approvals --json` lists it. */
export interface PendingApproval {
  id: string;
  age_ms: number;
  /** `network`: a connection an upstream opens (`destination`); `tool`: a tool call. */
  kind: 'tool' | 'network';
  destination?: string;
  session: string;
  client: string;
  server: string;
  tool: string;
  public_name: string;
  arguments: string;
  rule: string;
}

/** The calls waiting for approval at the gateway of config `dir` (`mcpgate approvals --json` run as its own process). */
export async function pendingApprovals(dir: string): Promise<PendingApproval[]> {
  const out = await runMcpgate(['approvals', '--config', dir, '--json']);
  if (out.code !== 0) throw new Error(`mcpgate approvals failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as PendingApproval[];
}

/** Waits until a call whose arguments hold `message` is pending and returns it. */
export async function pendingApproval(dir: string, message: string): Promise<PendingApproval> {
  let found: PendingApproval | undefined;
  await waitFor(async () => (found = (await pendingApprovals(dir)).find((p) => p.arguments.includes(`"${message}"`))) !== undefined, 15_000, () => `pending approval for ${message}`);
  return found as PendingApproval;
}

/** The id of the pending call whose arguments hold `message` (waits for it). */
export async function pendingApprovalId(dir: string, message: string): Promise<string> {
  return (await pendingApproval(dir, message)).id;
}
