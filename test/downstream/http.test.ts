/**
 * The HTTP listener in JSON-response mode (`jsonResponse`, the SDK's enableJsonResponse), which
 * `mcpgate serve` does not use but the listener supports: a real Gateway in this process with a
 * real fixture upstream behind it. A POST answered by one JSON body whose connection drops
 * cancels its call exactly as an SSE one does (see test/e2e/httpDisconnect.test.ts). Also the
 * Host/Origin check (DNS rebinding) on loopback addresses other than 127.0.0.1.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { HttpListener } from '../../src/downstream/http.js';
import { Gateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { fixtureServer, makeConfig, readAudit, waitFor, type TempConfig } from '../support/gateway.js';

const VERSION = '2025-11-25';

describe('HTTP listener with JSON responses', () => {
  let config: TempConfig;
  let gateway: Gateway;
  let listener: HttpListener;
  let url: string;

  beforeAll(async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    gateway = new Gateway({ config: await loadConfig(config.dir), logger: silentLogger() });
    await gateway.start();
    listener = new HttpListener(gateway, { host: '127.0.0.1', port: 0, logger: silentLogger(), jsonResponse: true });
    url = `http://127.0.0.1:${(await listener.listen()).port}/mcp`;
  }, 30_000);

  afterAll(async () => {
    await listener?.close();
    await gateway?.close();
    await config?.cleanup();
  });

  const headers = (session?: string) => ({
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': VERSION,
    ...(session ? { 'mcp-session-id': session } : {}),
  });

  it('a dropped connection cancels the call upstream; the result record says cancelled', async () => {
    const init = await fetch(url, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 'json', version: '1' } } }),
    });
    expect(init.headers.get('content-type')).toContain('application/json');
    const session = init.headers.get('mcp-session-id') as string;
    await init.text();
    expect((await fetch(url, { method: 'POST', headers: headers(session), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).status).toBe(202);
    const stats = async (id: number) => {
      const res = await fetch(url, { method: 'POST', headers: headers(session), body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo__stats', arguments: {} } }) });
      return ((await res.json()) as { result: { structuredContent: { calls: number; cancelled: number } } }).result.structuredContent;
    };
    const before = await stats(1);
    const req = httpRequest(url, { method: 'POST', headers: headers(session) });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo__slow', arguments: { ms: 30_000 } } }));
    await waitFor(async () => (await stats(3)).calls > before.calls + 1, 10_000, () => 'the slow call to reach the upstream');
    req.destroy();
    await waitFor(async () => (await stats(4)).cancelled === before.cancelled + 1, 5000, () => 'the upstream to see the cancellation');
    await waitFor(async () => (await readAudit(config.auditFile)).some((r) => r.event === 'mcpgate.tool.result' && r.tool === 'slow'), 5000, () => 'the result record');
    const result = (await readAudit(config.auditFile)).find((r) => r.event === 'mcpgate.tool.result' && r.tool === 'slow');
    expect(result?.outcome).toBe('cancelled');
  });
});

describe('DNS-rebinding protection on every loopback address', () => {
  let config: TempConfig;
  let gateway: Gateway;
  const listeners: HttpListener[] = [];

  beforeAll(async () => {
    config = await makeConfig({ servers: {} });
    gateway = new Gateway({ config: await loadConfig(config.dir), logger: silentLogger(), audit: false, pins: 'off' });
    await gateway.start();
  });

  afterAll(async () => {
    await Promise.all(listeners.map((l) => l.close()));
    await gateway?.close();
    await config?.cleanup();
  });

  /** Status of a GET /healthz sent to `address:port` with the given headers (raw: fetch may not set Host). */
  const get = (address: string, port: number, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: address, port, path: '/healthz', method: 'GET', headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });

  for (const address of ['127.0.0.2', '127.45.6.7']) {
    it(`bound to ${address}: a foreign Host or Origin gets 403, the bound address and loopback names pass`, async () => {
      const listener = new HttpListener(gateway, { host: address, port: 0, logger: silentLogger() });
      listeners.push(listener);
      const { port } = await listener.listen();
      expect(await get(address, port, { host: 'evil.example' })).toBe(403);
      expect(await get(address, port, { host: `evil.example:${port}` })).toBe(403);
      expect(await get(address, port, { host: `${address}:${port}`, origin: 'http://evil.example' })).toBe(403);
      expect(await get(address, port, { host: `${address}:${port}` })).toBe(200);
      expect(await get(address, port, { host: `localhost:${port}`, origin: `http://${address}:${port}` })).toBe(200);
    });
  }
});
