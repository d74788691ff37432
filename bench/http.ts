/**
 * `npm run bench -- --http`: the same echo `tools/call` made by the SDK's own client over HTTP to
 * the bare SDK Streamable HTTP echo server (`sdk`), through mcpgate (`serve --transport http`,
 * 2025-11-25 sessions, policy and audit on), through mcpgate as a stateless 2026-07-28 caller
 * (`mcpgate-2026`, raw POSTs with the `_meta` envelope) and through mcp-hub (legacy SSE `/mcp`),
 * the gateways fronting the same stdio echo fixture: p50/p99 and calls/s at concurrency 1/16/64
 * in interleaved rounds (medians), the issue's targets checked for both generations, then
 * autocannon capacity (both generations vs the bare server), RSS, and 1 000 concurrent sessions
 * opened and closed with mcpgate's memory watched (the check sets a failing exit code). Options: `--quick`, `--targets sdk,mcpgate`, `--levels 1,64`, `--profile DIR` (a V8
 * .cpuprofile of mcpgate), `--skip capacity,sessions`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { heapAfterGcMiB } from './heapProbe.js';
import { capacity, closeSession, openSession, pool, rawCall, type Capacity } from './httpLoad.js';
import { startFloor, startMcpgate, startMcpgate2026, startMcpHub, startSdk, type HttpTarget, type HttpTargetName } from './httpTargets.js';
import { measure, warmUp, type BenchClient, type Cell } from './measure.js';
import { childPid, cpuMicros, REPO, rssMiB } from './setup.js';

const { values: options } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--http'),
  options: {
    quick: { type: 'boolean', default: false },
    targets: { type: 'string', default: 'sdk,mcpgate,mcp-hub,mcpgate-2026' },
    levels: { type: 'string', default: '1,16,64' },
    profile: { type: 'string' },
    skip: { type: 'string', default: '' },
    sessions: { type: 'string', default: '1000' },
    upstream: { type: 'string' },
    base: { type: 'string' },
  },
});
const LEVELS = options.levels.split(',').map(Number);
const DURATION_MS = options.quick ? 700 : 5000;
const ROUNDS = options.quick ? 1 : 5;
const WARMUP = options.quick ? 100 : 300;
const CAPACITY_S = options.quick ? 2 : 3;
const CAPACITY_ROUNDS = options.quick ? 1 : 3;
const skip = new Set(options.skip.split(','));
const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

const profile = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${options.profile}`] : [];
const starters: Record<HttpTargetName, () => Promise<HttpTarget>> = {
  sdk: startSdk,
  // The inspector (idle until the sessions check) reads the heap after a forced collection.
  mcpgate: () => startMcpgate([...profile, ...(skip.has('sessions') ? [] : ['--inspect=127.0.0.1:0'])]),
  'mcp-hub': startMcpHub,
  'mcpgate-2026': () => startMcpgate2026(profile),
  base: () => startMcpgate([], 'base', join(options.base ?? '', 'dist/main.js')),
  floor: startFloor,
  'base-2026': () => startMcpgate([], 'base-2026', join(options.base ?? '', 'dist/main.js')),
};

function medianCell(cells: readonly Cell[]): Cell {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  return { calls: cells.reduce((s, c) => s + c.calls, 0), p50: median(cells.map((c) => c.p50)), p99: median(cells.map((c) => c.p99)), perSecond: median(cells.map((c) => c.perSecond)) };
}

/** Opens `count` sessions on mcpgate (each makes one call), closes them, three times; RSS and session counts along the way. */
async function sessionsMemory(target: HttpTarget, count: number): Promise<Record<string, number>> {
  const health = async () => ((await (await fetch(new URL('/healthz', target.url))).json()) as { sessions: number }).sessions;
  // Sessions the benchmark's own clients left open (the SDK client closes without a DELETE).
  const before = await health();
  const heap = () => (target.inspector ? heapAfterGcMiB(target.inspector) : Promise.resolve(Number.NaN));
  const out: Record<string, number> = { baselineMiB: await rssMiB(target.pid), baselineHeapMiB: await heap(), baselineSessions: before };
  for (const round of [1, 2, 3]) {
    const ids: string[] = [];
    await pool(
      Array.from({ length: count }, (_, i) => i),
      32,
      async (i) => {
        const sid = await openSession(target.url);
        ids.push(sid);
        await rawCall(target.url, sid, target.workload, i + 1);
      },
    );
    out[`round${round}OpenSessions`] = (await health()) - before;
    out[`round${round}PeakMiB`] = await rssMiB(target.pid);
    out[`round${round}PeakHeapMiB`] = await heap();
    await pool(ids, 32, (sid) => closeSession(target.url, sid));
    const deadline = Date.now() + 20_000;
    while ((await health()) > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // Idle keep-alive sockets hold their last request (and through it the closed session) until the
    // server's 5 s keep-alive timeout: wait past it. RSS is what the OS sees; V8 keeps heap it freed.
    await new Promise((r) => setTimeout(r, 7000));
    out[`round${round}ClosedSessions`] = (await health()) - before;
    out[`round${round}AfterMiB`] = await rssMiB(target.pid);
    out[`round${round}AfterHeapMiB`] = await heap();
  }
  return out;
}

/**
 * The sessions check: every session counted open, none left after the DELETEs, and the heap after
 * a forced full collection back within `SESSION_HEAP_SLACK_MIB` of its baseline after every round
 * (1 000 sessions hold ~45 MiB of heap: a leak of them would show at once). RSS is printed, not
 * checked: V8 grows its heap before a full collection and keeps pages it freed.
 */
const SESSION_HEAP_SLACK_MIB = 8;
function sessionsHold(s: Record<string, number>, count: number): boolean {
  return [1, 2, 3].every(
    (r) => s[`round${r}OpenSessions`] === count && s[`round${r}ClosedSessions`] === 0 && (s[`round${r}AfterHeapMiB`] ?? Number.NaN) <= (s.baselineHeapMiB ?? Number.NaN) + SESSION_HEAP_SLACK_MIB,
  );
}

/** autocannon capacity of each target that takes raw POSTs, in interleaved rounds (median per target). */
async function capacities(targets: readonly HttpTarget[]): Promise<Partial<Record<HttpTargetName, Capacity>>> {
  const measured = targets.filter((t) => t.name !== 'mcp-hub' && t.name !== 'floor');
  const runs = new Map<HttpTargetName, Capacity[]>(measured.map((t) => [t.name, []]));
  for (let round = 0; round < CAPACITY_ROUNDS; round++) {
    for (let k = 0; k < measured.length; k++) {
      const target = measured[(k + round) % measured.length] as HttpTarget;
      runs.get(target.name)?.push(await capacity(target.url, target.workload, 64, CAPACITY_S, target.name.endsWith('2026')));
    }
  }
  const median = (list: Capacity[]) => [...list].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(list.length / 2)] as Capacity;
  return Object.fromEntries([...runs].map(([name, list]) => [name, median(list)]));
}

async function main(): Promise<void> {
  const names = [...options.targets.split(','), ...(options.base ? ['base', 'base-2026'] : [])] as HttpTargetName[];
  const targets: HttpTarget[] = [];
  const clients = new Map<HttpTargetName, BenchClient>();
  const results = new Map<string, Cell>();
  const rss = new Map<HttpTargetName, number>();
  /** CPU µs spent per call by the target process and by its upstream child (if any), per level. */
  const cpu = new Map<string, { own: number; upstream: number; calls: number }>();
  let capacity: Partial<Record<HttpTargetName, Capacity>> = {};
  let sessions: Record<string, number> | undefined;
  try {
    for (const name of names) {
      const target = await starters[name]();
      targets.push(target);
      const client = await target.connect();
      clients.set(name, client);
      await warmUp(client, target.workload, WARMUP);
    }
    for (const level of LEVELS) {
      const rounds = new Map<HttpTargetName, Cell[]>(targets.map((t) => [t.name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (let k = 0; k < targets.length; k++) {
          const target = targets[(k + round) % targets.length] as HttpTarget;
          const child = await childPid(target.pid);
          const before = [await cpuMicros(target.pid), await cpuMicros(child)] as const;
          const cell = await measure(clients.get(target.name) as BenchClient, target.workload, level, DURATION_MS / ROUNDS);
          const share = cpu.get(`${target.name}:${level}`) ?? { own: 0, upstream: 0, calls: 0 };
          share.own += (await cpuMicros(target.pid)) - before[0];
          share.upstream += child ? (await cpuMicros(child)) - before[1] : 0;
          share.calls += cell.calls;
          cpu.set(`${target.name}:${level}`, share);
          rounds.get(target.name)?.push(cell);
          rss.set(target.name, Math.max(rss.get(target.name) ?? 0, await rssMiB(target.pid)));
        }
      }
      for (const target of targets) results.set(`${target.name}:${level}`, medianCell(rounds.get(target.name) ?? []));
    }
    for (const client of clients.values()) await client.close().catch(() => undefined);
    if (!skip.has('capacity')) capacity = await capacities(targets);
    const gateway = targets.find((t) => t.name === 'mcpgate');
    if (gateway && !skip.has('sessions')) sessions = await sessionsMemory(gateway, Number(options.sessions));
  } finally {
    for (const target of targets) await target.stop();
  }
  report(targets.map((t) => t.name), results, rss, capacity, sessions);
  console.log('CPU µs per call (server or gateway process / its stdio upstream), summed over rounds:');
  for (const level of LEVELS) {
    console.log(`  c=${level}: ${[...cpu].filter(([k]) => k.endsWith(`:${level}`)).map(([k, s]) => `${k.split(':')[0]} ${fmt(s.own / s.calls, 0)} / ${fmt(s.upstream / s.calls, 0)}`).join('   ')}`);
  }
  await writeFile(
    join(REPO, 'bench/results-http.json'),
    `${JSON.stringify({ when: new Date().toISOString(), node: process.version, durationMs: DURATION_MS, rounds: ROUNDS, cells: Object.fromEntries(results), cpuMicrosPerCall: Object.fromEntries(cpu), rssMiB: Object.fromEntries(rss), capacities: capacity, sessions }, null, 2)}\n`,
  );
}

function report(
  names: HttpTargetName[],
  results: Map<string, Cell>,
  rss: Map<HttpTargetName, number>,
  capacities: Partial<Record<HttpTargetName, Capacity>>,
  sessions: Record<string, number> | undefined,
): void {
  console.log(`\nmcpgate HTTP benchmark — echo tools/call, SDK client over HTTP, ${DURATION_MS} ms per cell in ${ROUNDS} interleaved round(s) (medians), node ${process.version}`);
  const header = ['conc', ...names.flatMap((n) => [`${n} p50`, `${n} p99`, `${n}/s`])];
  const rows = LEVELS.map((level) => [String(level), ...names.flatMap((n) => {
    const c = results.get(`${n}:${level}`);
    return c ? [`${fmt(c.p50, 3)}ms`, `${fmt(c.p99, 3)}ms`, fmt(c.perSecond, 0)] : ['-', '-', '-'];
  })]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(`RSS (max while measured): ${[...rss].map(([n, v]) => `${n} ${fmt(v, 1)} MiB`).join(', ')}`);
  const cell = (n: string, level: number) => results.get(`${n}:${level}`);
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? a / b : Number.NaN);
  const check = (label: string, value: number, ok: boolean) => console.log(`target ${label}: ${fmt(value)} ${Number.isNaN(value) ? 'n/a' : ok ? 'PASS' : 'FAIL'}`);
  for (const g of ['mcpgate', 'mcpgate-2026', ...(names.includes('base') ? ['base', 'base-2026'] : [])]) {
    const p50s = ratio(cell(g, 1)?.p50, cell('sdk', 1)?.p50);
    const p50h = ratio(cell(g, 1)?.p50, cell('mcp-hub', 1)?.p50);
    const tps = ratio(cell(g, 64)?.perSecond, cell('sdk', 64)?.perSecond);
    const tph = ratio(cell(g, 64)?.perSecond, cell('mcp-hub', 64)?.perSecond);
    check(`p50 at c=1, ${g}/sdk ≤ 1.3`, p50s, p50s <= 1.3);
    check(`p50 at c=1, ${g}/mcp-hub ≤ 0.5`, p50h, p50h <= 0.5);
    check(`calls/s at c=64, ${g}/sdk ≥ 1.0`, tps, tps >= 1.0);
    check(`calls/s at c=64, ${g}/mcp-hub ≥ 1.2`, tph, tph >= 1.2);
  }
  for (const [n, c] of Object.entries(capacities)) {
    console.log(`autocannon capacity (64 connections${n.endsWith('2026') ? ', stateless' : ', one session'}) ${n}: ${fmt(c.perSecond, 0)} req/s, p50 ${c.p50} ms, p99 ${c.p99} ms, non-2xx ${c.non2xx}, errors ${c.errors}`);
  }
  for (const g of ['mcpgate', 'mcpgate-2026', 'base', 'base-2026'] as const) {
    const own = capacities[g];
    if (own && capacities.sdk) console.log(`autocannon capacity ratio ${g}/sdk: ${fmt(own.perSecond / capacities.sdk.perSecond)}`);
  }
  if (sessions) {
    const s = sessions;
    console.log(
      `sessions (mcpgate, ${options.sessions} opened with one call each, then closed, three times): RSS / heap after a full GC, MiB: baseline ${fmt(s.baselineMiB ?? Number.NaN, 1)} / ${fmt(s.baselineHeapMiB ?? Number.NaN, 1)}; ` +
        [1, 2, 3]
          .map((r) => `round ${r} peak ${fmt(s[`round${r}PeakMiB`] ?? Number.NaN, 1)} / ${fmt(s[`round${r}PeakHeapMiB`] ?? Number.NaN, 1)} (open ${s[`round${r}OpenSessions`]}), after close ${fmt(s[`round${r}AfterMiB`] ?? Number.NaN, 1)} / ${fmt(s[`round${r}AfterHeapMiB`] ?? Number.NaN, 1)} (open ${s[`round${r}ClosedSessions`]})`)
          .join('; '),
    );
    const count = Number(options.sessions);
    console.log(`sessions check (all ${count} counted open, none left after close, heap after a full GC ≤ baseline + ${SESSION_HEAP_SLACK_MIB} MiB after each round): ${sessionsHold(s, count) ? 'PASS' : 'FAIL'}`);
    if (!sessionsHold(s, count)) process.exitCode = 1;
  }
}

await main().catch((error: unknown) => {
  console.error(`HTTP benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
