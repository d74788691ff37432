/**
 * Runs the MCP conformance suite (@modelcontextprotocol/conformance, under Node 22) against
 * `mcpgate serve --transport http` fronting our conformance fixture, and reads its results: the
 * per-scenario summary the CLI prints and every check from the `checks.json` files it writes.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixtureServer, makeConfig, REPO, startHttpGateway, type HttpGateway, type TempConfig } from './gateway.js';
import { node22 } from './node22.js';

const run = promisify(execFile);
const CLI = join(REPO, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

/** The protocol revisions the suite has requirement sets for. */
export type Revision = '2025-11-25' | '2026-07-28';

/** One check as the suite recorded it. */
export interface Check {
  readonly scenario: string;
  readonly id: string;
  readonly status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  readonly description: string;
  readonly errorMessage: string;
}

/** What one `server --requirements REVISION` run reported. */
export interface ConformanceRun {
  /** Per scenario: checks passed and failed (the CLI's summary lines). */
  readonly scenarios: ReadonlyMap<string, { passed: number; failed: number }>;
  /** The CLI's `Total:` line (every check run, scored or not). */
  readonly passed: number;
  readonly failed: number;
  /** Scenarios run but not scored for this revision, with the reason (extension, pending, added-after-release). */
  readonly notScored: ReadonlyMap<string, string>;
  /** Every check from the result files (a scenario that crashed before checking has none). */
  readonly checks: readonly Check[];
  /** The CLI's output, for failure messages. */
  readonly output: string;
}

/** The gateway under test: the conformance fixtures (2025 and 2026-07-28) with `prefix: ""`, every tool allowed. */
export interface ConformanceGateway {
  readonly gateway: HttpGateway;
  close(): Promise<void>;
}

/** Starts `mcpgate serve --transport http` fronting test/fixtures/servers/conformance.ts and conformance2026.ts. */
export async function startConformanceGateway(env: Record<string, string> = {}): Promise<ConformanceGateway> {
  // The 2025 fixture, and beside it the 2026-07-28 one (MRTR tools and prompt, tasks extension) that mcpgate passes through.
  const config: TempConfig = await makeConfig({
    servers: {
      conformance: fixtureServer('conformance', { prefix: '', tools: { default: 'allow' } }),
      conformance2026: fixtureServer('conformance2026', { prefix: '', tools: { default: 'allow' } }),
    },
  });
  try {
    const gateway = await startHttpGateway(config.dir, [], env);
    return {
      gateway,
      async close() {
        await gateway.close();
        await config.cleanup();
      },
    };
  } catch (error) {
    await config.cleanup();
    throw error;
  }
}

/** The 2026-07-28 conformance fixture (test/fixtures/servers/conformance2026.ts) over HTTP, for the suite to test directly. */
export interface Fixture2026 {
  readonly url: URL;
  close(): Promise<void>;
}

/** Starts the 2026-07-28 fixture with `--http` on a random loopback port. */
export async function startFixture2026(): Promise<Fixture2026> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test/fixtures/servers/conformance2026.ts'), '--http'], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<URL>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /^listening (\S+)$/m.exec(out);
      if (m) resolve(new URL(m[1] as string));
    });
    child.once('exit', (code) => reject(new Error(`the 2026 fixture exited (${code}) before listening: ${out}`)));
  });
  return {
    url,
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
    },
  };
}

/** Runs the suite's CLI under Node 22; returns its output whatever the exit code (it exits 1 when a check fails). */
export async function conformanceCli(args: readonly string[], timeoutMs = 240_000): Promise<string> {
  const node = await node22();
  try {
    const { stdout, stderr } = await run(node, [CLI, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return stdout + stderr;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; killed?: boolean; message: string };
    if (e.stdout === undefined && e.stderr === undefined) throw error; // did not run at all
    return `${e.stdout ?? ''}${e.stderr ?? ''}${e.killed ? `\n(killed after ${timeoutMs} ms)` : ''}`;
  }
}

/** Reads the `checks.json` files of a results directory (`server-<scenario>-<timestamp>/`). */
async function readChecks(dir: string): Promise<Check[]> {
  const checks: Check[] = [];
  for (const entry of (await readdir(dir)).sort()) {
    const scenario = /^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(entry)?.[1];
    if (!scenario) continue;
    const text = await readFile(join(dir, entry, 'checks.json'), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    for (const c of JSON.parse(text) as Array<Record<string, unknown>>) {
      checks.push({
        scenario,
        id: String(c.id),
        status: c.status as Check['status'],
        description: String(c.description ?? ''),
        errorMessage: String(c.errorMessage ?? ''),
      });
    }
  }
  return checks;
}

/** Runs `server --url URL --requirements REVISION` and parses what it reported. */
export async function runServerRequirements(url: URL, revision: Revision): Promise<ConformanceRun> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpgate-conformance-'));
  try {
    const output = await conformanceCli(['server', '--url', url.href, '--requirements', revision, '--output-dir', dir]);
    const summary = output.slice(output.lastIndexOf('=== SUMMARY ==='));
    const scenarios = new Map<string, { passed: number; failed: number }>();
    for (const m of summary.matchAll(/^[✓✗] (\S+): (\d+) passed, (\d+) failed/gm)) {
      scenarios.set(m[1] as string, { passed: Number(m[2]), failed: Number(m[3]) });
    }
    const total = /^Total: (\d+) passed, (\d+) failed/m.exec(summary);
    const notScored = new Map<string, string>();
    for (const m of summary.slice(summary.indexOf('Not scored')).matchAll(/^\s+[✓✗] (\S+) \(([^)]+)\)$/gm)) notScored.set(m[1] as string, m[2] as string);
    if (!total || scenarios.size === 0) throw new Error(`the conformance suite printed no summary:\n${output.slice(-8000)}`);
    return { scenarios, passed: Number(total[1]), failed: Number(total[2]), notScored, checks: await readChecks(dir), output };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The 2026-07-28 client scenarios that need no authorization server. */
export const CLIENT_SCENARIOS = ['tools_call', 'request-metadata', 'sep-2322-client-request-state', 'http-standard-headers', 'http-custom-headers', 'http-invalid-tool-headers', 'json-schema-ref-no-deref'] as const;

/** What one client scenario reported. */
export interface ClientScenarioRun {
  readonly scenario: string;
  /** Every check from its `checks.json` (none if the scenario did not run). */
  readonly checks: readonly Check[];
  readonly output: string;
}

/**
 * Runs one 2026-07-28 client scenario with mcpgate's upstream side as the client under test
 * (test/support/conformanceClient.ts starts `mcpgate serve` pointed at the suite's mock server).
 */
export async function runClientScenario(scenario: string): Promise<ClientScenarioRun> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpgate-conformance-client-'));
  try {
    const command = `${process.execPath} --import tsx ${join(REPO, 'test/support/conformanceClient.ts')}`;
    const output = await conformanceCli(['client', '--command', command, '--scenario', scenario, '--spec-version', '2026-07-28', '--timeout', '90000', '--output-dir', dir], 150_000);
    const checks: Check[] = [];
    for (const entry of await readdir(dir)) {
      const text = await readFile(join(dir, entry, 'checks.json'), 'utf8').catch(() => undefined);
      for (const c of text === undefined ? [] : (JSON.parse(text) as Array<Record<string, unknown>>)) {
        checks.push({ scenario, id: String(c.id), status: c.status as Check['status'], description: String(c.name ?? c.description ?? ''), errorMessage: String(c.errorMessage ?? '') });
      }
    }
    return { scenario, checks, output };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
