/**
 * Remote upstreams: server-everything served over Streamable HTTP and over legacy SSE as real
 * processes on loopback ports, fronted by the gateway (url / sse in servers.d, headers with a
 * reference), alongside a stdio upstream.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, freePort, makeConfig, REPO, startStdioGateway, textOf, waitFor, type StdioGateway, type TempConfig } from '../support/gateway.js';

const EVERYTHING = join(REPO, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');

async function startEverything(mode: 'streamableHttp' | 'sse'): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [EVERYTHING, mode], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await waitFor(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/${mode === 'sse' ? 'sse' : 'mcp'}`, { method: 'GET', signal: AbortSignal.timeout(500) }).catch(() => undefined);
    await res?.body?.cancel().catch(() => undefined);
    return res !== undefined;
  }, 20_000, () => `server-everything ${mode} on ${port}: ${stderr}`);
  return { port, child };
}

describe('Streamable HTTP and SSE upstreams', () => {
  let http: { port: number; child: ChildProcess };
  let sse: { port: number; child: ChildProcess };
  let config: TempConfig;
  let gateway: StdioGateway;
  let client: Client;

  beforeAll(async () => {
    [http, sse] = await Promise.all([startEverything('streamableHttp'), startEverything('sse')]);
    config = await makeConfig({
      servers: {
        remote: { url: `http://127.0.0.1:${http.port}/mcp`, headers: { 'X-Gateway-Test': '${env:MCPGATE_TEST_HEADER}' }, tools: { default: 'allow' } },
        legacy: { sse: `http://127.0.0.1:${sse.port}/sse`, tools: { default: 'allow' } },
        local: fixtureServer('echo', { tools: { default: 'allow' } }),
      },
    });
    gateway = await startStdioGateway(config.dir, {}, { MCPGATE_TEST_HEADER: 'header-value-from-env' });
    client = gateway.client;
  });

  afterAll(async () => {
    await gateway?.close();
    http?.child.kill();
    sse?.child.kill();
    await config?.cleanup();
  });

  it('lists the tools of all three transports', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['remote__echo', 'legacy__echo', 'local__echo']));
  });

  it('calls through Streamable HTTP with progress', async () => {
    expect(textOf(await client.callTool({ name: 'remote__echo', arguments: { message: 'over http' } }))).toBe('Echo: over http');
    const progress: Progress[] = [];
    await client.callTool({ name: 'remote__trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } }, undefined, {
      onprogress: (p) => progress.push(p),
    });
    // (the client SDK may drop a last progress that shares one read with the result; see aggregation.test.ts)
    const values = progress.map((p) => p.progress);
    expect(values.length).toBeGreaterThanOrEqual(2);
    expect(values).toEqual([1, 2, 3].slice(0, values.length));
  });

  it('calls through legacy SSE', async () => {
    expect(textOf(await client.callTool({ name: 'legacy__echo', arguments: { message: 'over sse' } }))).toBe('Echo: over sse');
    expect(textOf(await client.callTool({ name: 'local__echo', arguments: { message: 'over stdio' } }))).toBe('over stdio');
  });
});

describe('maxMessageBytes on Streamable HTTP and SSE upstreams', () => {
  let http: { port: number; child: ChildProcess };
  let sse: { port: number; child: ChildProcess };
  let config: TempConfig;
  let gateway: StdioGateway;

  beforeAll(async () => {
    [http, sse] = await Promise.all([startEverything('streamableHttp'), startEverything('sse')]);
    config = await makeConfig({
      servers: {
        remote: { url: `http://127.0.0.1:${http.port}/mcp`, maxMessageBytes: 65_536, tools: { default: 'allow' }, timeout: '20s' },
        legacy: { sse: `http://127.0.0.1:${sse.port}/sse`, maxMessageBytes: 65_536, tools: { default: 'allow' }, timeout: '3s' },
      },
    });
    gateway = await startStdioGateway(config.dir);
    await waitFor(async () => (await gateway.client.listTools()).tools.filter((t) => t.name.endsWith('__echo')).length === 2, 30_000, () => 'both echo tools');
  });

  afterAll(async () => {
    await gateway?.close();
    http?.child.kill();
    sse?.child.kill();
    await config?.cleanup();
  });

  // An echo of 100 000 characters answers with a message past 64 KiB: the gateway drops it rather
  // than buffer it, the call fails, and later calls on the same upstream work. On Streamable HTTP
  // the answer names its request, which fails at once saying why; on legacy SSE the stream is
  // shared, so the call fails at its timeout and the stream is opened again.
  const bigCall = (server: string) =>
    gateway.client.callTool({ name: `${server}__echo`, arguments: { message: 'x'.repeat(100_000) } }).then(
      (result) => textOf(result),
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );

  it('remote: a message past the limit fails its call at once, saying why; the next call works', async () => {
    const started = Date.now();
    const big = await bigCall('remote');
    expect(big).toContain('maxMessageBytes');
    expect(big).not.toContain('x'.repeat(1000));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(textOf(await gateway.client.callTool({ name: 'remote__echo', arguments: { message: 'small' } }))).toBe('Echo: small');
  });

  it('legacy: a message past the limit is dropped (its call times out); later calls work', async () => {
    const big = await bigCall('legacy');
    expect(big).not.toContain('x'.repeat(1000));
    expect(big).toMatch(/did not answer|timed out|maxMessageBytes|closed/i);
    await waitFor(
      async () => textOf(await gateway.client.callTool({ name: 'legacy__echo', arguments: { message: 'small' } })) === 'Echo: small',
      30_000,
      () => 'a small echo through legacy SSE after the dropped message',
    );
  });
});
