/**
 * The client closing stdin: requests still in flight are answered first (bounded by a grace
 * period), then the transport closes. Streams here are in-memory pipes standing in for stdin and
 * stdout; test/e2e/stdinEof.test.ts does the same through a real `mcpgate serve`.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { StdioServerLineTransport } from '../../src/downstream/stdioTransport.js';

function transport(graceMs: number) {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const io = new StdioServerLineTransport(input, output, graceMs);
  const closed = new Promise<number>((resolve) => (io.onclose = () => resolve(Date.now())));
  return { io, input, output: () => out, closed };
}

describe('StdioServerLineTransport at end of input', () => {
  it('answers a request in flight before it closes', async () => {
    const t = transport(5_000);
    t.io.onmessage = (message) => {
      const { id } = message as { id: number };
      setTimeout(() => void t.io.send({ jsonrpc: '2.0', id, result: { late: true } } as JSONRPCMessage), 200);
    };
    await t.io.start();
    t.input.end(`${JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' })}\n`);
    const closedAt = await t.closed;
    expect(t.output()).toBe('{"jsonrpc":"2.0","id":7,"result":{"late":true}}\n');
    expect(closedAt).toBeGreaterThan(0);
  });

  it('closes at once when nothing is in flight', async () => {
    const t = transport(60_000);
    t.io.onmessage = () => undefined; // a notification: nothing to answer
    await t.io.start();
    const started = Date.now();
    t.input.end(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    expect((await t.closed) - started).toBeLessThan(1_000);
  });

  it('closes after the grace period when a request is never answered', async () => {
    const t = transport(300);
    t.io.onmessage = () => undefined; // never answered
    await t.io.start();
    const started = Date.now();
    t.input.end(`${JSON.stringify({ jsonrpc: '2.0', id: 'stuck', method: 'tools/call', params: { name: 'x' } })}\n`);
    const waited = (await t.closed) - started;
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(5_000);
  });
});
