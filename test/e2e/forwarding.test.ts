/**
 * Forwarding details on real processes: per-upstream concurrency (p-queue), cancellation that
 * reaches the upstream serving the call, and `_meta` passed through both ways.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, startStdioGateway, waitFor, type StdioGateway, type TempConfig } from '../support/gateway.js';

describe('forwarding', () => {
  let config: TempConfig;
  let gateway: StdioGateway;
  let client: Client;

  beforeAll(async () => {
    config = await makeConfig({
      servers: {
        narrow: fixtureServer('echo', { concurrency: 2, tools: { default: 'allow' } }),
        other: fixtureServer('echo', { tools: { default: 'allow' } }),
      },
    });
    gateway = await startStdioGateway(config.dir);
    client = gateway.client;
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  const stats = async (server: string) =>
    (await client.callTool({ name: `${server}__stats`, arguments: {} })).structuredContent as { calls: number; cancelled: number; maxActive: number };

  it('never has more calls in flight upstream than the server’s concurrency', async () => {
    const started = Date.now();
    await Promise.all(Array.from({ length: 6 }, () => client.callTool({ name: 'narrow__slow', arguments: { ms: 150 } })));
    expect((await stats('narrow')).maxActive).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 150 - 20); // three waves of two
  });

  it('sends a client’s cancellation to the upstream serving the call, and only there', async () => {
    const controller = new AbortController();
    const call = client.callTool({ name: 'other__slow', arguments: { ms: 10_000 } }, undefined, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 200));
    controller.abort('user pressed stop');
    await expect(call).rejects.toThrow();
    await waitFor(async () => (await stats('other')).cancelled === 1, 5000, () => 'the upstream to see the cancellation');
    expect((await stats('narrow')).cancelled).toBe(0);
  });

  it('passes _meta through in both directions', async () => {
    const result = await client.callTool({ name: 'other__meta', arguments: {}, _meta: { 'client/trace': 'abc-123' } });
    expect((result.structuredContent as { received: Record<string, unknown> }).received).toMatchObject({ 'client/trace': 'abc-123' });
    expect(result._meta).toEqual({ 'fixture/answer': 42 });
  });
});
