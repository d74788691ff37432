/**
 * The Streamable HTTP listener: many concurrent sessions each with their own state,
 * DNS-rebinding protection (Host and Origin), unknown sessions, and the health endpoint.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, startHttpGateway, textOf, type HttpGateway, type TempConfig } from '../support/gateway.js';

describe('Streamable HTTP listener', () => {
  let config: TempConfig;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    gateway = await startHttpGateway(config.dir);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  const initialize = (headers: Record<string, string> = {}) =>
    fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      }),
    });

  it('serves many concurrent sessions, each with its own id and calls', async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => gateway.connect()));
    const results = await Promise.all(
      clients.map((client, i) => client.callTool({ name: 'echo__echo', arguments: { message: `session ${i}` } })),
    );
    results.forEach((result, i) => expect(textOf(result)).toContain(`session ${i}`));
    const ids = clients.map((c) => (c.transport as { sessionId?: string } | undefined)?.sessionId);
    expect(new Set(ids).size).toBe(8);
    const health = (await (await fetch(`http://127.0.0.1:${gateway.port}/healthz`)).json()) as { sessions: number; upstreams: unknown };
    expect(health.sessions).toBeGreaterThanOrEqual(8);
    expect(health.upstreams).toEqual({ echo: 'ready' });
    await Promise.all(clients.map((c) => c.close()));
  });

  it('rejects a foreign Host header (DNS rebinding) with 403', async () => {
    // fetch() may not set Host; a raw request can, as a rebinding page's browser would.
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: gateway.port, path: '/mcp', method: 'POST', headers: { host: 'evil.example', 'content-type': 'application/json' } },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).toBe(403);
    expect((JSON.parse(body) as { error: { message: string } }).error.message).toMatch(/Host "evil.example" is not allowed/);
  });

  it('rejects a foreign Origin with 403 and accepts a loopback one', async () => {
    const bad = await initialize({ origin: 'http://evil.example' });
    expect(bad.status).toBe(403);
    const good = await initialize({ origin: `http://localhost:${gateway.port}` });
    expect(good.status).toBe(200);
    expect(good.headers.get('mcp-session-id')).toBeTruthy();
    await good.body?.cancel();
  });

  it('answers an unknown session with 404 and a request without session with 400', async () => {
    const unknown = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': 'nope' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(unknown.status).toBe(404);
    const noSession = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
    });
    expect(noSession.status).toBe(400);
  });

  it('answers malformed JSON with a JSON-RPC parse error', async () => {
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{not json',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });
});
