/** The webhook auto-reviewer against a real HTTP server answering badly: every answer escalates, none hangs or floods memory. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createReviewer, type ReviewInput } from '../../src/approval/reviewer.js';

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
