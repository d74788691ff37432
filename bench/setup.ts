/**
 * What the benchmarks share: the upstream they measure, and a gateway config dir with policy
 * (an allow rule and an argument-conditional deny evaluated on every call) and audit on.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..');
export const MAIN = join(REPO, 'dist/main.js');
const ECHO = join(REPO, 'test/fixtures/servers/echo.ts');

/**
 * The upstream: server-everything's `echo` (a real reference server) by default; `--upstream fixture`
 * uses our minimal low-level echo fixture, the worst case for the ratio (near-zero upstream cost).
 */
export const fixtureUpstream = process.argv.includes('--upstream') && process.argv[process.argv.indexOf('--upstream') + 1] === 'fixture';
/** Our minimal echo fixture over stdio. */
export const ECHO_FIXTURE = [process.execPath, '--import', 'tsx', ECHO];
export const UPSTREAM = fixtureUpstream ? ECHO_FIXTURE : [process.execPath, join(REPO, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'];


/** A value the `--secret` variant hands the upstream through `${env:}` (so the gateway holds a secret for it). */
export const BENCH_SECRET = { MCPGATE_BENCH_TOKEN: 'bench-secret-3f9a1c7e5b2d4068' } as const;

/**
 * Writes a temporary gateway config fronting `upstream` (default UPSTREAM) as server `echo`; with
 * `secret`, the server is given {@link BENCH_SECRET} through `${env:}` (start the gateway with it in
 * its environment). Its sandbox is off unless asked for: the main benchmark compares against a
 * direct (unconfined) upstream and reads the upstream's CPU from the gateway's child process,
 * which under bubblewrap would be bwrap.
 */
export async function writeGatewayConfig(options: { secret?: boolean; upstream?: readonly string[]; sandbox?: 'auto' | 'off' } = {}): Promise<{ dir: string; auditFile: string }> {
  const upstream = options.upstream ?? UPSTREAM;
  const dir = await mkdtemp(join(tmpdir(), 'mcpgate-bench-'));
  await mkdir(join(dir, 'servers.d'));
  const auditFile = join(dir, 'audit.log');
  // Policy and audit on: an allow rule, an argument-conditional deny that is evaluated on every call.
  await writeFile(join(dir, 'gateway.yaml'), `audit:\n  file: ${JSON.stringify(auditFile)}\n  arguments: redacted\n`);
  await writeFile(
    join(dir, 'servers.d', 'echo.yaml'),
    [
      `command: ${JSON.stringify(upstream[0])}`,
      `args: ${JSON.stringify(upstream.slice(1))}`,
      `cwd: ${JSON.stringify(REPO)}`,
      'concurrency: 256',
      ...(options.secret ? ['env:', '  MCPGATE_BENCH_TOKEN: "${env:MCPGATE_BENCH_TOKEN}"'] : []),
      `sandbox: { mode: ${options.sandbox ?? 'off'} }`,
      'tools:',
      '  default: deny',
      '  allow: ["echo"]',
      '  deny:',
      '    - { tool: "echo", args: { message: "forbidden*" }, reason: "benchmark rule" }',
      '',
    ].join('\n'),
  );
  return { dir, auditFile };
}

/** Resident memory of a process in MiB (Linux). */
export async function rssMiB(pid: number | null): Promise<number> {
  if (!pid) return Number.NaN;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/** CPU time (user + system, µs) of a process, from /proc (Linux; NaN elsewhere). */
export async function cpuMicros(pid: number | undefined): Promise<number> {
  if (!pid) return Number.NaN;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10_000; // utime + stime, 100 Hz ticks
}

/** The first child process of `pid` (the upstream a proxy or the gateway spawned), if any. */
export async function childPid(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  const first = Number(children.trim().split(/\s+/)[0]);
  return Number.isInteger(first) && first > 0 ? first : undefined;
}
