/**
 * Auto-reviewers on real processes: the webhook reviewer against a real HTTP server answering
 * badly (every answer escalates, none hangs or floods memory), and command reviewers that leave a
 * child holding their stdout or never answer (the review ends with the reviewer or its time limit,
 * and its process group is killed).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createReviewer, type ReviewInput } from '../../src/approval/reviewer.js';
import { REPO, waitFor } from '../support/gateway.js';

const input: ReviewInput = { kind: 'tool', server: 's', tool: 't', public_name: 's__t', asking_rule: 'default', reason: 'ask', session: { id: 'x' }, recent_calls: [] };
let server: Server | undefined;

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/review`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

describe('webhook reviewer', () => {
  it('stops reading an endless answer at the size cap and escalates at once (not after the timeout)', async () => {
    let sent = 0;
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const review = createReviewer({ kind: 'url', url, headers: {}, timeoutMs: 20_000, recentCalls: 0 });
    const started = Date.now();
    const result = await review(input, new AbortController().signal, undefined);
    expect(result).toEqual({ ok: false, problem: "the reviewer's answer is larger than 64 KiB" });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('escalates an HTML error page and a non-JSON 200 answer with a clear problem', async () => {
    let status = 502;
    const url = await serve((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end('<html><body>Bad gateway</body></html>');
    });
    const review = createReviewer({ kind: 'url', url, headers: {}, timeoutMs: 5000, recentCalls: 0 });
    expect(await review(input, new AbortController().signal, undefined)).toEqual({ ok: false, problem: 'the reviewer failed: HTTP 502' });
    status = 200;
    expect(await review(input, new AbortController().signal, undefined)).toEqual({ ok: false, problem: 'the reviewer answered something that is not JSON' });
  });

  it('still reads a verdict in many small chunks', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const body = JSON.stringify({ outcome: 'approve', risk_level: 'low', rationale: 'é'.repeat(100) });
      for (const c of Buffer.from(body)) res.write(Buffer.from([c]));
      res.end();
    });
    const review = createReviewer({ kind: 'url', url, headers: {}, timeoutMs: 5000, recentCalls: 0 });
    expect(await review(input, new AbortController().signal, undefined)).toEqual({ ok: true, verdict: { outcome: 'approve', risk_level: 'low', rationale: 'é'.repeat(100) } });
  });
});

describe('command reviewer', () => {
  const LEAVES_SLEEPER = join(REPO, 'test/fixtures/reviewers/leavesSleeper.mjs');
  const dirs: string[] = [];
  const pids: number[] = [];
  afterEach(async () => {
    for (const pid of pids.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  /** Runs the fixture in `mode`; returns the result, how long it took and the sleeper's and reviewer's pids. */
  async function review(mode: string, timeoutMs: number, signal = new AbortController().signal) {
    const dir = await mkdtemp(join(tmpdir(), 'mcpgate-reviewer-'));
    dirs.push(dir);
    const pidFile = join(dir, 'pids');
    const reviewer = createReviewer({ kind: 'command', command: [process.execPath, LEAVES_SLEEPER, pidFile, mode], timeoutMs, recentCalls: 0 });
    const started = Date.now();
    const result = await reviewer(input, signal, undefined);
    const took = Date.now() - started;
    const [sleeper, self] = (await readFile(pidFile, 'utf8')).trim().split('\n').map(Number) as [number, number];
    pids.push(sleeper, self);
    return { result, took, sleeper, self };
  }

  it('takes the verdict of a reviewer that exits while its child holds stdout, at once, and kills that child', async () => {
    const { result, took, sleeper } = await review('approve', 30_000);
    expect(result).toEqual({ ok: true, verdict: { outcome: 'approve', risk_level: 'low', rationale: 'left a sleeper behind' } });
    expect(took).toBeLessThan(10_000); // not the sleeper's 45 s, not the 30 s time limit
    await waitFor(() => !alive(sleeper), 5000, () => `sleeper ${sleeper} killed`);
  });

  it('escalates at once when such a reviewer answered nothing', async () => {
    const { result, took, sleeper } = await review('silent', 30_000);
    expect(result).toEqual({ ok: false, problem: 'the reviewer answered something that is not JSON' });
    expect(took).toBeLessThan(10_000);
    await waitFor(() => !alive(sleeper), 5000, () => `sleeper ${sleeper} killed`);
  });

  it('does not wait for a child that left the process group either', async () => {
    const { result, took } = await review('escape', 30_000);
    expect(result).toMatchObject({ ok: true, verdict: { outcome: 'approve' } });
    expect(took).toBeLessThan(10_000);
  });

  it('ends a reviewer that never answers at the review time limit, killing its group', async () => {
    const { result, took, sleeper, self } = await review('hang', 1000);
    expect(result).toEqual({ ok: false, problem: 'the reviewer did not answer within 1000 ms' });
    expect(took).toBeLessThan(8000);
    await waitFor(() => !alive(sleeper) && !alive(self), 5000, () => `reviewer ${self} and sleeper ${sleeper} killed`);
  });

  it('ends it when the approval wait ends first (its own limit is longer)', async () => {
    const { result, took, sleeper, self } = await review('hang', 60_000, AbortSignal.timeout(1000));
    expect(result.ok).toBe(false);
    expect(took).toBeLessThan(8000);
    await waitFor(() => !alive(sleeper) && !alive(self), 5000, () => `reviewer ${self} and sleeper ${sleeper} killed`);
  });
});
