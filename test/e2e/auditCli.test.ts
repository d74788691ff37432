/**
 * The auditor's CLI on a real log: a scripted session through real `mcpgate serve` processes
 * (two runs, so the chain also continues across a restart), then `audit query` filters and
 * `audit report` counts (exact numbers), the HTML report in headless Chromium, and `verify` on
 * tampered copies (edit, delete, insert, reorder).
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/auditLog.js';
import { fixtureServer, makeConfig, readAudit, runMcpgate, startStdioGateway, type AuditRecord, type TempConfig } from '../support/gateway.js';

const exec = promisify(execFile);

describe('mcpgate audit query / report / verify', () => {
  let config: TempConfig;
  let work: string;
  let sessionA = '';
  let sessionB = '';

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mcpgate-auditcli-'));
    config = await makeConfig({
      gateway: { approval: { channel: 'none' } }, // the one ask (echo__stats) is denied at once
      servers: {
        echo: fixtureServer('echo', {
          tools: { default: 'deny', allow: ['echo', 'add', 'fail', 'slow'], ask: ['stats'], deny: [{ tool: 'echo', args: { message: 'secret*' }, reason: 'no secrets' }] },
        }),
        calc: fixtureServer('echo', { tools: { default: 'allow' } }),
      },
    });
    // Run 1: one session of 12 calls.
    const a = await startStdioGateway(config.dir, {}, {});
    const call = (name: string, args: Record<string, unknown> = {}) => a.client.callTool({ name, arguments: args });
    for (let i = 0; i < 3; i++) await call('echo__echo', { message: `hello ${i}` });
    for (let i = 0; i < 2; i++) await call('echo__add', { a: i, b: 2 });
    await call('echo__fail');
    for (let i = 0; i < 2; i++) await call('echo__echo', { message: `secret ${i}` });
    await call('echo__stats');
    await call('echo__slow', { ms: 150 });
    for (let i = 0; i < 2; i++) await call('calc__echo', { message: 'x' });
    await a.close();
    await waitForEnd(1);
    // Run 2 (a restart): another client, one call.
    const b = await startStdioGateway(config.dir, {}, {});
    await b.client.callTool({ name: 'calc__add', arguments: { a: 1, b: 1 } });
    await b.close();
    const records = await waitForEnd(2);
    const starts = records.filter((r) => r.event === 'mcpgate.session.start');
    sessionA = String(starts[0]?.session);
    sessionB = String(starts[1]?.session);
  }, 60_000);

  async function waitForEnd(count: number): Promise<AuditRecord[]> {
    for (let i = 0; i < 200; i++) {
      const records = await readAudit(config.auditFile);
      if (records.filter((r) => r.event === 'mcpgate.session.end').length >= count) return records;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ${count} session.end records in ${config.auditFile}`);
  }

  afterAll(async () => {
    await config?.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  const audit = (...args: string[]) => runMcpgate(['audit', ...args, '--config', config.dir]);
  const jsonLines = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);

  it('verify: the real log is intact across the restart', async () => {
    const out = await audit('verify');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^intact \(\d+ records, seq 1\.\.\d+, files: audit\.log\)/);
  });

  it('query --session replays one session in order, start to end', async () => {
    const out = await audit('query', '--session', sessionA, '--json');
    const records = jsonLines(out.stdout);
    expect(records[0]?.event).toBe('mcpgate.session.start');
    expect(records.at(-1)?.event).toBe('mcpgate.session.end');
    // 1 start + 12 decisions + 9 results (denied and ask calls have no result) + 1 end
    expect(records).toHaveLength(23);
    const seqs = records.map((r) => r.seq as number);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    const table = await audit('query', '--session', sessionA.slice(0, 8));
    expect(table.stdout.split('\n')[0]).toMatch(/^TIME\s+SEQ\s+EVENT\s+SESSION\s+TARGET\s+DETAIL/);
    expect(table.stdout.trim().split('\n')).toHaveLength(24);
    expect(table.stdout).toContain('deny by rule: no secrets');
  });

  it('query filters by decision, outcome, server, tool, client and time', async () => {
    const count = async (...args: string[]) => jsonLines((await audit('query', '--json', ...args)).stdout).length;
    // Independent CLI processes: run at once, checked in order.
    const [deny, ask, allow, toolError, calc, echoEcho, echoAllowed, clients, nobody, sessionOk, future, past, recent, bad, all] = await Promise.all([
      count('--decision', 'deny'),
      count('--decision', 'ask'),
      count('--decision', 'allow'),
      count('--outcome', 'tool_error'),
      count('--server', 'calc', '--tool', '*'),
      count('--tool', 'echo__echo'),
      count('--tool', 'echo', '--server', 'echo', '--decision', 'allow'),
      count('--client', 'mcpgate-*'),
      count('--client', 'someone-else'),
      count('--session', sessionB, '--outcome', 'ok'),
      count('--since', '2999-01-01T00:00:00Z'),
      count('--until', '2000-01-01'),
      count('--since', '1h'),
      audit('query', '--since', 'yesterday'),
      readFile(config.auditFile, 'utf8').then((text) => text.trim().split('\n').length),
    ]);
    expect(deny).toBe(3); // two by rule, and the ask nobody could answer
    expect(ask).toBe(1); // asked (and denied: no approval channel)
    expect(allow).toBe(10 + 10); // 10 decisions + their 10 results
    expect(toolError).toBe(2); // decision + result of echo__fail
    expect(calc).toBe(6);
    expect(echoEcho).toBe(8); // 5 decisions, 3 results
    expect(echoAllowed).toBe(6);
    expect(clients).toBe(27); // both sessions: 23 + start, decision, result, end
    expect(nobody).toBe(0);
    expect(sessionOk).toBe(2);
    expect(future).toBe(0);
    expect(past).toBe(0);
    expect(recent).toBe(all);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since must be an ISO time/);
  });

  it('report counts calls, decisions, denials, failures and latency exactly', async () => {
    // Independent CLI processes: run at once, checked in order.
    const [out, check, text, windowed] = await Promise.all([
      audit('report', '--json'),
      runMcpgate(['check', '--config', config.dir]),
      audit('report'),
      audit('report', '--json', '--since', '2999-01-01T00:00:00Z'),
    ]);
    expect(out.code).toBe(0);
    const s = JSON.parse(out.stdout);
    expect(s.sessions).toBe(2);
    expect(s.calls).toBe(13);
    expect(s.callsPerServer).toEqual([{ label: 'echo', count: 10 }, { label: 'calc', count: 3 }]);
    expect(s.callsPerTool).toEqual([
      { label: 'echo__echo', count: 5 },
      { label: 'calc__echo', count: 2 },
      { label: 'echo__add', count: 2 },
      { label: 'calc__add', count: 1 },
      { label: 'echo__fail', count: 1 },
      { label: 'echo__slow', count: 1 },
      { label: 'echo__stats', count: 1 },
    ]);
    expect(s.decisions).toEqual([{ label: 'allow', count: 10 }, { label: 'deny', count: 3 }]);
    expect(s.decisionsBy).toEqual([
      { label: 'allowed by a rule', count: 7 },
      { label: 'allowed by the default decision', count: 3 },
      { label: 'denied by a rule', count: 3 },
    ]);
    // What verify says comes first; then who, with which configuration, and each denial.
    expect(s.integrity).toEqual({ state: 'intact', text: expect.stringMatching(/^intact \(\d+ records, seq 1\.\.\d+, files: audit\.log\)$/) });
    expect(s.clients).toEqual([{ label: 'mcpgate-test 1.0.0', count: 2 }]);
    expect(s.subjects).toEqual([]);
    const digest = /^config digest: (sha256:[0-9a-f]{64})$/m.exec(check.stdout)?.[1];
    expect(s.configs).toEqual([{ digest, sessions: 2, first: expect.any(String), last: expect.any(String) }]);
    expect(s.denialTotal).toBe(3);
    expect(s.denialList).toEqual([
      { time: expect.stringMatching(/^20\d\d-/), session: sessionA, client: 'mcpgate-test 1.0.0', tool: 'echo__echo', reason: 'no secrets', decided: 'denied by a rule' },
      { time: expect.any(String), session: sessionA, client: 'mcpgate-test 1.0.0', tool: 'echo__echo', reason: 'no secrets', decided: 'denied by a rule' },
      { time: expect.any(String), session: sessionA, client: 'mcpgate-test 1.0.0', tool: 'echo__stats', reason: expect.stringMatching(/^approval required/), decided: 'denied by a rule' },
    ]);
    const timeline = s.timeline as { buckets: Array<{ allowed: number; denied: number }> };
    expect(timeline.buckets.reduce((n, b) => n + b.allowed, 0)).toBe(10);
    expect(timeline.buckets.reduce((n, b) => n + b.denied, 0)).toBe(3);
    expect(s.denials).toEqual([
      { label: 'echo__echo: no secrets', count: 2 },
      { label: expect.stringMatching(/^echo__stats: approval required/), count: 1 },
    ]);
    expect(s.approvals).toEqual([]);
    expect(s.outcomes).toEqual([{ label: 'ok', count: 9 }, { label: 'tool_error', count: 1 }]);
    expect(s.failures).toEqual([{ label: 'tool_error: echo__fail', count: 1 }]);
    expect(s.slowest[0]).toMatchObject({ tool: 'echo__slow', calls: 1 });
    expect(s.slowest[0].p95).toBeGreaterThanOrEqual(150);
    expect(s.slowest.map((t: { calls: number }) => t.calls).reduce((x: number, y: number) => x + y)).toBe(10);
    expect(text.stdout).toMatch(/13 tool call\(s\)/);
    expect(text.stdout).toMatch(/Denials with reasons\n\s+2 {2}echo__echo: no secrets/);
    expect(JSON.parse(windowed.stdout).calls).toBe(0);
  });

  it('the HTML report opens in headless Chromium without console errors and shows its charts', async () => {
    const html = join(work, 'report.html');
    const out = await audit('report', '--html', html);
    expect(out.code).toBe(0);
    const text = await readFile(html, 'utf8');
    expect(text).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    // The console check can fail: a page loading anything from elsewhere is reported (control).
    const shot = join(work, 'report.png');
    const control = join(work, 'control.html');
    await writeFile(control, text.replace('<body>', '<body><img src="https://example.invalid/x.png">'));
    // Three independent browser runs: at once, checked in order.
    const [dom, shotRun, controlRun] = await Promise.all([
      chromium(['--dump-dom', `file://${html}`]),
      chromium([`--screenshot=${shot}`, '--window-size=900,2400', `file://${html}`]),
      chromium(['--dump-dom', `file://${control}`]),
    ]);
    const charts = [...dom.stdout.matchAll(/<svg class="chart" data-chart="([a-z-]+)"/g)].map((m) => m[1]);
    expect(charts).toEqual(['timeline', 'calls-per-server', 'calls-per-tool', 'decisions', 'decided-by', 'outcomes', 'latency']);
    // Integrity at the top, in plain words; each denial with its time and session; the configuration in force.
    expect(dom.stdout.indexOf('data-integrity="intact"')).toBeLessThan(dom.stdout.indexOf('data-total="records"'));
    expect(dom.stdout).toContain('Intact: the hash chain verifies from start to end');
    expect(dom.stdout).toMatch(new RegExp(`<td>20\\d\\d-[^<]+</td><td>${sessionA.slice(0, 8)}</td><td>mcpgate-test 1\\.0\\.0</td><td>echo__echo</td><td>no secrets</td><td>denied by a rule</td>`));
    expect(dom.stdout).toMatch(/<td>sha256:[0-9a-f]{64}<\/td><td>2<\/td>/);
    expect(dom.stdout).toContain('<td>mcpgate-test 1.0.0</td>');
    expect(dom.stdout.match(/<rect class="col"/g)?.length).toBeGreaterThan(0);
    // servers 2, tools 7, decisions 2, decided-by 3, outcomes 2, latency p50/p95/max × 6 forwarded tools
    expect(dom.stdout.match(/<rect class="bar"/g)?.length).toBe(2 + 7 + 2 + 3 + 2 + 3 * 6);
    expect(dom.stdout).toContain('data-total="calls">13<');
    expect(consoleLines(shotRun.stderr)).toEqual([]);
    expect((await stat(shot)).size).toBeGreaterThan(20_000);
    expect(consoleLines(controlRun.stderr).join('\n')).toMatch(/Content Security Policy/);
  }, 60_000);

  async function chromium(args: string[]): Promise<{ stdout: string; stderr: string }> {
    const profile = await mkdtemp(join(tmpdir(), 'mcpgate-chromium-'));
    try {
      return await exec(
        'chromium',
        ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0', ...args],
        { timeout: 45_000, maxBuffer: 16 * 1024 * 1024 },
      );
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') throw new Error('chromium is not installed: apt-get install -y --no-install-recommends chromium');
      throw error;
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
  }

  function consoleLines(stderr: string): string[] {
    return stderr.split('\n').filter((line) => line.includes(':CONSOLE'));
  }

  describe('verify on tampered copies', () => {
    async function tampered(change: (lines: string[]) => string[]): Promise<{ code: number; stdout: string }> {
      const file = join(work, `copy-${Math.random().toString(36).slice(2)}.log`);
      await copyFile(config.auditFile, file);
      const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
      await writeFile(file, `${change(lines).join('\n')}\n`);
      return runMcpgate(['audit', 'verify', '--file', file]);
    }

    it('an edited record is named', async () => {
      const out = await tampered((lines) => {
        lines[5] = lines[5]!.replace(/"time":"[^"]+"/, '"time":"2020-01-01T00:00:00.000Z"');
        return lines;
      });
      expect(out.code).toBe(1);
      expect(out.stdout).toMatch(/^broken at seq 6: edited:/);
    });

    it('a deleted record is named', async () => {
      const out = await tampered((lines) => lines.filter((_, i) => i !== 7));
      expect(out.code).toBe(1);
      expect(out.stdout).toMatch(/^broken at seq 8: deleted: seq 8 is missing/);
    });

    it('an inserted record is named', async () => {
      const out = await tampered((lines) => {
        const forged = JSON.parse(lines[4]!);
        forged.decision = 'allow';
        forged.seq = 10;
        return [...lines.slice(0, 9), JSON.stringify(forged), ...lines.slice(9)];
      });
      expect(out.code).toBe(1);
      expect(out.stdout).toMatch(/^broken at seq 10: inserted: more than one record claims seq 10/);
    });

    it('reordered records are named', async () => {
      const out = await tampered((lines) => {
        [lines[11], lines[12]] = [lines[12]!, lines[11]!];
        return lines;
      });
      expect(out.code).toBe(1);
      expect(out.stdout).toMatch(/^broken at seq 12: reordered/);
    });

    it('the untouched copy verifies', async () => {
      const out = await tampered((lines) => lines);
      expect(out.code).toBe(0);
    });

    it('the report of an edited log says, at the top, that it is not intact', async () => {
      const file = join(work, 'edited.log');
      const lines = (await readFile(config.auditFile, 'utf8')).split('\n').filter(Boolean);
      lines[5] = lines[5]!.replace(/"time":"[^"]+"/, '"time":"2020-01-01T00:00:00.000Z"');
      await writeFile(file, `${lines.join('\n')}\n`);
      const html = join(work, 'edited.html');
      const out = await runMcpgate(['audit', 'report', '--file', file, '--html', html]);
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/^mcpgate audit report: .*\nIntegrity \(mcpgate audit verify\): broken at seq 6: edited:/);
      const page = await readFile(html, 'utf8');
      expect(page).toContain('data-integrity="broken"');
      expect(page).toContain('NOT intact: the log was changed, or damaged, after it was written');
    });
  });
});

describe('mcpgate audit under managed requirements', () => {
  it('reads the audit file the requirements force, not the one gateway.yaml names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcpgate-auditreq-'));
    try {
      const forced = join(dir, 'managed', 'audit.log');
      await writeFile(join(dir, 'gateway.yaml'), 'audit:\n  file: ./user-audit.log\n');
      const requirements = join(dir, 'requirements.yaml');
      await writeFile(requirements, `audit:\n  file: ${JSON.stringify(forced)}\n`);
      // a real chained log, written by the gateway's own writer, where the requirements put it
      const log = new AuditLog(forced);
      log.emit({ event: 'mcpgate.upstream.state', server: 'echo', state: 'ready' });
      await log.close();
      const managed = await runMcpgate(['audit', 'verify', '--config', dir, '--requirements', requirements]);
      expect(managed.stdout).toMatch(/^intact \(1 record/);
      expect(managed.code).toBe(0);
      const viaEnv = await runMcpgate(['audit', 'query', '--json', '--config', dir], { MCPGATE_REQUIREMENTS: requirements });
      expect(viaEnv.stdout).toContain('"server":"echo"');
      const unmanaged = await runMcpgate(['audit', 'verify', '--config', dir]);
      expect(unmanaged.code).toBe(1);
      expect(unmanaged.stderr).toContain('user-audit.log');
      expect((await runMcpgate(['audit', 'verify', '--file', forced, '--requirements', requirements])).code).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
