/**
 * Benchmark: the same tool call made (a) directly by an SDK client to a stdio upstream, (b)
 * through the naive SDK pass-through proxy (calibration), (c) through a line relay that only
 * parses (calibration: the floor of any middle process), and (d) through mcpgate with policy
 * and audit on — p50/p99 latency and calls/s at several concurrency levels, plus gateway RSS,
 * with ratios gateway/direct; then the sandbox's cost (bench/sandbox.ts). Run: `npm run bench`
 * (`-- --quick` for a short run, `-- --sandbox` for the sandbox part only); `-- --http` runs the
 * HTTP benchmark instead (bench/http.ts).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { measure, warmUp, type Cell, type Workload } from './measure.js';
import { runSandboxBench } from './sandbox.js';
import { childPid, cpuMicros, fixtureUpstream, MAIN, REPO, rssMiB, UPSTREAM, writeGatewayConfig } from './setup.js';

const quick = process.argv.includes('--quick');
const LEVELS = [1, 16, 64, 128];
const DURATION_MS = quick ? 700 : 5000;
const WARMUP = quick ? 100 : 300;
const ROUNDS = quick ? 1 : 5;
type Target = 'direct' | 'naive' | 'relay' | 'gateway';

/** CPU µs per call spent by the client (this process), the middle process (proxy or gateway) and the upstream. */
interface CpuShare {
  client: number;
  middle: number;
  upstream: number;
  calls: number;
}

interface Connected {
  readonly client: Client;
  readonly transport: StdioClientTransport;
  readonly workload: Workload;
}

async function connect(target: Target, configDir: string): Promise<Connected> {
  const [command, ...upstreamArgs] = UPSTREAM as [string, ...string[]];
  const params: { command: string; args: string[]; env?: Record<string, string> } =
    target === 'direct'
      ? { command, args: upstreamArgs }
      : target === 'naive'
        ? { command, args: ['--import', 'tsx', join(REPO, 'bench/naiveProxy.ts'), command, ...upstreamArgs] }
        : target === 'relay'
          ? { command, args: ['--import', 'tsx', join(REPO, 'bench/lineRelay.ts'), command, ...upstreamArgs], env: { RELAY_WORK_US: process.env.RELAY_WORK_US ?? '0' } }
          : { command, args: [MAIN, 'serve', '--config', configDir], env: { MCPGATE_LOG_LEVEL: 'warn', ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}) } };
  const transport = new StdioClientTransport({ ...params, cwd: REPO, stderr: 'inherit' });
  const client = new Client({ name: `bench-${target}`, version: '1.0.0' });
  await client.connect(transport);
  const name = target === 'gateway' ? 'echo__echo' : 'echo';
  const tools = (await client.listTools()).tools.map((t) => t.name);
  if (!tools.includes(name)) throw new Error(`${target}: tool ${name} not listed (have ${tools.join(', ')})`);
  return { client, transport, workload: { name, arguments: { message: 'hello benchmark' } } };
}

/** The median of each metric over rounds. */
function medianCell(cells: readonly Cell[]): Cell {
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  };
  return {
    calls: cells.reduce((sum, c) => sum + c.calls, 0),
    p50: median(cells.map((c) => c.p50)),
    p99: median(cells.map((c) => c.p99)),
    perSecond: median(cells.map((c) => c.perSecond)),
  };
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

async function main(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm run bench does)`);
  const { dir, auditFile } = await writeGatewayConfig();
  const targets: Target[] = ['direct', 'naive', 'relay', 'gateway'];
  const results = new Map<string, Cell>();
  let gatewayRss = 0;
  const connected = new Map<Target, Connected>();
  const cpu = new Map<string, CpuShare>();
  try {
    for (const target of targets) {
      const c = await connect(target, dir);
      connected.set(target, c);
      await warmUp(c.client, c.workload, WARMUP);
    }
    for (const level of LEVELS) {
      // Several short rounds per level, targets interleaved in rotating order, median taken:
      // machine drift (other tenants, CPU frequency) then affects all targets alike.
      const rounds = new Map<Target, Cell[]>(targets.map((t) => [t, []]));
      for (let round = 0; round < ROUNDS; round++) {
        const order = targets.map((_, k) => targets[(k + round) % targets.length] as Target);
        for (const target of order) {
          const c = connected.get(target) as Connected;
          const middlePid = target === 'direct' ? undefined : (c.transport.pid ?? undefined);
          const upstreamPid = target === 'direct' ? (c.transport.pid ?? undefined) : await childPid(middlePid);
          const before = [process.cpuUsage(), await cpuMicros(middlePid), await cpuMicros(upstreamPid)] as const;
          const cell = await measure(c.client, c.workload, level, DURATION_MS / ROUNDS);
          const clientUsage = process.cpuUsage(before[0]);
          const share = cpu.get(`${target}:${level}`) ?? { client: 0, middle: 0, upstream: 0, calls: 0 };
          share.client += clientUsage.user + clientUsage.system;
          share.middle += target === 'direct' ? 0 : (await cpuMicros(middlePid)) - before[1];
          share.upstream += (await cpuMicros(upstreamPid)) - before[2];
          share.calls += cell.calls;
          cpu.set(`${target}:${level}`, share);
          rounds.get(target)?.push(cell);
          if (target === 'gateway') gatewayRss = Math.max(gatewayRss, await rssMiB(c.transport.pid));
        }
      }
      for (const target of targets) results.set(`${target}:${level}`, medianCell(rounds.get(target) ?? []));
    }
  } finally {
    for (const c of connected.values()) await c.client.close().catch(() => undefined);
  }
  const auditLines = (await readFile(auditFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
  await rm(dir, { recursive: true, force: true });

  const rows = LEVELS.map((level) => {
    const d = results.get(`direct:${level}`) as Cell;
    const n = results.get(`naive:${level}`) as Cell;
    const g = results.get(`gateway:${level}`) as Cell;
    const r = results.get(`relay:${level}`) as Cell;
    return {
      level,
      d,
      n,
      g,
      p50Ratio: g.p50 / d.p50,
      tputRatio: g.perSecond / d.perSecond,
      naiveP50: n.p50 / d.p50,
      naiveTput: n.perSecond / d.perSecond,
      relayP50: r.p50 / d.p50,
      relayTput: r.perSecond / d.perSecond,
    };
  });
  const header = ['conc', 'direct p50', 'gw p50', 'p50 ratio', 'direct p99', 'gw p99', 'direct/s', 'gw/s', 'tput ratio', 'naive p50 ratio', 'naive tput ratio', 'relay p50 ratio', 'relay tput ratio'];
  const table = rows.map((r) => [
    String(r.level),
    `${fmt(r.d.p50, 3)}ms`,
    `${fmt(r.g.p50, 3)}ms`,
    fmt(r.p50Ratio),
    `${fmt(r.d.p99, 3)}ms`,
    `${fmt(r.g.p99, 3)}ms`,
    fmt(r.d.perSecond, 0),
    fmt(r.g.perSecond, 0),
    fmt(r.tputRatio),
    fmt(r.naiveP50),
    fmt(r.naiveTput),
    fmt(r.relayP50),
    fmt(r.relayTput),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  console.log(
    `\nmcpgate benchmark — ${fixtureUpstream ? 'echo fixture (minimal upstream)' : 'server-everything echo'} over stdio, ${DURATION_MS} ms per cell in ${ROUNDS} interleaved round(s) (medians), node ${process.version}`,
  );
  console.log(line(header));
  for (const row of table) console.log(line(row));
  console.log('\nCPU µs per call (client / proxy or gateway / upstream = total), summed over rounds:');
  for (const level of LEVELS) {
    const parts = targets.map((target) => {
      const s = cpu.get(`${target}:${level}`);
      if (!s || s.calls === 0) return `${target} -`;
      const [c, m, u] = [s.client / s.calls, s.middle / s.calls, s.upstream / s.calls];
      return `${target} ${fmt(c, 1)} / ${fmt(m, 1)} / ${fmt(u, 1)} = ${fmt(c + m + u, 1)}`;
    });
    console.log(`  c=${level}: ${parts.join('   ')}`);
  }
  console.log(`gateway RSS (max): ${fmt(gatewayRss, 1)} MiB; audit records written: ${auditLines}`);
  const c1 = rows.find((r) => r.level === 1);
  const high = rows.filter((r) => r.level >= 64);
  const p50Ok = (c1?.p50Ratio ?? Number.POSITIVE_INFINITY) <= 2.0;
  const tputOk = high.every((r) => r.tputRatio >= 0.7);
  console.log(`target p50 ratio ≤ 2.0 at c=1: ${fmt(c1?.p50Ratio ?? Number.NaN)} ${p50Ok ? 'PASS' : 'FAIL'}`);
  console.log(`target throughput ratio ≥ 0.7 at c≥64: ${high.map((r) => `c=${r.level} ${fmt(r.tputRatio)}`).join(', ')} ${tputOk ? 'PASS' : 'FAIL'}`);
  console.log(`floor (line relay: parse only, no policy, no audit) throughput ratio at c≥64: ${high.map((r) => `c=${r.level} ${fmt(r.relayTput)}`).join(', ')}`);
  await writeFile(
    join(REPO, 'bench/results.json'),
    `${JSON.stringify({ when: new Date().toISOString(), node: process.version, durationMs: DURATION_MS, gatewayRssMiB: gatewayRss, rows, cpuMicrosPerCall: Object.fromEntries(cpu) }, null, 2)}\n`,
  );
}

/** The egress proxy's download benchmark (bench/egress.ts), as its own process: it spawns its own helpers. */
function runEgressBench(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'bench/egress.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench/egress.ts exited with ${code}`))));
  });
}

if (process.argv.includes('--http')) {
  await import('./http.js');
} else {
  const run = process.argv.includes('--sandbox') ? runSandboxBench() : main().then(() => runSandboxBench()).then(() => runEgressBench());
  run.catch((error: unknown) => {
    console.error(`benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
