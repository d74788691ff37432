/**
 * A 2026-07-28 (modern, stateless) client over Streamable HTTP, beside a 2025-11-25 session on the
 * same listener: discovery, lists and calls through the same policy and audit as a session's,
 * result stamping, removed methods, envelope and header validation (docs/protocol.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, startHttpGateway, textOf, waitFor, waitForAudit, type HttpGateway, type TempConfig } from '../support/gateway.js';
import { MODERN, modernCall, modernHeaders, modernPost, modernRequest, parseReply } from '../support/modern.js';

describe('modern (2026-07-28) callers over HTTP', () => {
  let config: TempConfig;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { channel: 'none' } },
      servers: {
        echo: fixtureServer('echo', {
          tools: { default: 'deny', allow: ['echo', 'add', 'slow', 'stats'], deny: [{ tool: 'echo', args: { message: '/^rm -rf/' }, reason: 'no destructive commands' }] },
        }),
        conf: fixtureServer('conformance', { tools: { default: 'allow' } }),
      },
    });
    gateway = await startHttpGateway(config.dir);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('server/discover names the revision, the capabilities it serves, serverInfo and caching hints', async () => {
    const reply = await modernCall(gateway.url, 1, 'server/discover');
    expect(reply.status).toBe(200);
    expect(reply.contentType).toContain('application/json');
    expect(reply.response.id).toBe(1);
    const result = reply.response.result as Record<string, unknown>;
    expect(result).toMatchObject({ supportedVersions: [MODERN], resultType: 'complete', ttlMs: 0, cacheScope: 'private' });
    expect(result.capabilities).toMatchObject({ tools: { listChanged: true } });
    expect((result._meta as Record<string, unknown>)['io.modelcontextprotocol/serverInfo']).toMatchObject({ name: 'mcpgate' });
  });

  it('tools/list: the policy-filtered catalog, stamped complete with hints', async () => {
    const reply = await modernCall(gateway.url, 2, 'tools/list');
    const result = reply.response.result as { tools: Array<{ name: string }>; resultType: string; ttlMs: number };
    expect(result.tools.map((t) => t.name).filter((n) => n.startsWith('echo__')).sort()).toEqual(['echo__add', 'echo__echo', 'echo__slow', 'echo__stats']);
    expect(result).toMatchObject({ resultType: 'complete', ttlMs: 0, cacheScope: 'private' });
  });

  it('tools/call: forwarded and audited under the caller key, like a session call', async () => {
    const reply = await modernCall(gateway.url, 3, 'tools/call', { name: 'echo__echo', arguments: { message: 'modern hello' } });
    expect(reply.status).toBe(200);
    const result = reply.response.result as Record<string, unknown>;
    expect(textOf(result)).toContain('modern hello');
    expect(result.resultType).toBe('complete');
    expect(result.ttlMs).toBeUndefined(); // a call result is not cacheable
    expect((result._meta as Record<string, unknown>)['io.modelcontextprotocol/serverInfo']).toMatchObject({ name: 'mcpgate' });
    const isDecision = (r: Record<string, unknown>) => r.event === 'mcpgate.tool.decision' && JSON.stringify(r.arguments).includes('modern hello');
    const records = await waitForAudit(config.auditFile, (rs) => rs.some((d) => isDecision(d) && rs.some((r) => r.event === 'mcpgate.tool.result' && r.call === d.call)));
    const decision = records.find(isDecision);
    expect(decision).toMatchObject({ decision: 'allow', public_name: 'echo__echo', protocol_version: MODERN });
    expect(String(decision?.session)).toMatch(/^k_[a-z2-7]{16}$/);
    expect(records.find((r) => r.event === 'mcpgate.tool.result' && r.call === decision?.call)).toMatchObject({ outcome: 'ok', session: decision?.session });
  });

  it('tools/call: a deny rule refuses a modern call with its reason, audited', async () => {
    const reply = await modernCall(gateway.url, 4, 'tools/call', { name: 'echo__echo', arguments: { message: 'rm -rf /' } });
    const result = reply.response.result as Record<string, unknown>;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('no destructive commands');
    expect(result.resultType).toBe('complete');
    const records = await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.tool.decision' && r.decision === 'deny'));
    expect(records.find((r) => r.decision === 'deny')).toMatchObject({ decided_by: 'rule', reason: 'no destructive commands' });
  });

  it('a 2025 session on the same listener is served as before, beside modern requests', async () => {
    const client = await gateway.connect();
    const [legacy, modern] = await Promise.all([
      client.callTool({ name: 'echo__echo', arguments: { message: 'legacy side' } }),
      modernCall(gateway.url, 5, 'tools/call', { name: 'echo__echo', arguments: { message: 'modern side' } }),
    ]);
    expect(textOf(legacy)).toContain('legacy side');
    expect((legacy as Record<string, unknown>).resultType).toBeUndefined();
    expect(textOf(modern.response.result)).toContain('modern side');
    await client.close();
  });

  it('removed and unknown methods are 404 -32601 with the request id', async () => {
    for (const method of ['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'no/such']) {
      const reply = await modernCall(gateway.url, `m-${method}`, method);
      expect(reply.status, method).toBe(404);
      expect(reply.response).toMatchObject({ id: `m-${method}`, error: { code: -32601 } });
    }
  });

  it('envelope and header validation: 400 with the spec code and the request id', async () => {
    const body = modernRequest(7, 'tools/list');
    const cases: Array<[string, Record<string, unknown>, Record<string, string | null>, number]> = [
      ['no MCP-Protocol-Version header', body, { 'mcp-protocol-version': null }, -32020],
      ['header differs from _meta', body, { 'mcp-protocol-version': '2027-01-01' }, -32020],
      ['Mcp-Method differs', body, { 'mcp-method': 'prompts/list' }, -32020],
      ['Mcp-Name differs', modernRequest(7, 'tools/call', { name: 'echo__echo', arguments: { message: 'x' } }), { 'mcp-name': 'echo__add' }, -32020],
      ['unsupported version', { ...body, params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01', 'io.modelcontextprotocol/clientCapabilities': {} } } }, { 'mcp-protocol-version': '2099-01-01' }, -32022],
      ['no clientCapabilities', { ...body, params: { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN } } }, {}, -32602],
      ['modern header, no _meta', { jsonrpc: '2.0', id: 7, method: 'tools/list' }, {}, -32602],
    ];
    for (const [what, request, headers, code] of cases) {
      const reply = await modernPost(gateway.url, request, headers);
      expect(reply.status, what).toBe(400);
      expect(reply.response, what).toMatchObject({ id: 7, error: { code } });
    }
    const unsupported = await modernPost(gateway.url, cases[4]![1], cases[4]![2]);
    expect(unsupported.response.error?.data).toMatchObject({ supported: [MODERN], requested: '2099-01-01' });
  });

  it("an upstream's log messages reach a modern caller only at the logLevel its request set", async () => {
    const quiet = await modernCall(gateway.url, 20, 'tools/call', { name: 'conf__test_tool_with_logging', arguments: {} });
    expect(quiet.contentType).toContain('application/json');
    expect(quiet.messages).toHaveLength(1);
    const loud = await modernCall(gateway.url, 21, 'tools/call', { name: 'conf__test_tool_with_logging', arguments: {} }, {}, { 'io.modelcontextprotocol/logLevel': 'info' });
    expect(loud.contentType).toContain('text/event-stream');
    expect(loud.messages.filter((m) => m.method === 'notifications/message')).toHaveLength(3);
    expect(loud.response.result?.resultType).toBe('complete');
    const above = await modernCall(gateway.url, 22, 'tools/call', { name: 'conf__test_tool_with_logging', arguments: {} }, {}, { 'io.modelcontextprotocol/logLevel': 'error' });
    expect(above.messages.filter((m) => m.method === 'notifications/message')).toEqual([]);
  });

  it('an upstream asking for a capability the caller did not declare ends the request with -32021 (HTTP 400)', async () => {
    const reply = await modernCall(gateway.url, 23, 'tools/call', { name: 'conf__test_missing_capability', arguments: {} });
    expect(reply.status).toBe(400);
    expect(reply.response).toMatchObject({ id: 23, error: { code: -32021, data: { requiredCapabilities: { sampling: {} } } } });
  });

  it('subscriptions/listen: acknowledged first, then list changes tagged with the subscription id', async () => {
    const body = modernRequest('listen-1', 'subscriptions/listen', { notifications: { toolsListChanged: true } });
    const controller = new AbortController();
    const res = await fetch(gateway.url, { method: 'POST', headers: modernHeaders(body), body: JSON.stringify(body), signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const frames = () => parseReply(200, 'text/event-stream', text).messages;
    const until = async (predicate: () => boolean) => {
      while (!predicate()) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`listen stream ended: ${text}`);
        text += new TextDecoder().decode(value);
      }
    };
    await until(() => frames().length >= 1);
    expect(frames()[0]).toMatchObject({ method: 'notifications/subscriptions/acknowledged', params: { notifications: { toolsListChanged: true } } });
    await modernCall(gateway.url, 24, 'tools/call', { name: 'conf__test_trigger_tool_change', arguments: {} });
    await until(() => frames().some((f) => f.method === 'notifications/tools/list_changed'));
    const changed = frames().find((f) => f.method === 'notifications/tools/list_changed') as { params: { _meta: Record<string, unknown> } };
    expect(changed.params._meta['io.modelcontextprotocol/subscriptionId']).toBe('listen-1');
    controller.abort();
  });

  it('a client closing its response cancels the modern call upstream (audited cancelled)', async () => {
    const stats = async () => (await modernCall(gateway.url, 'stats', 'tools/call', { name: 'echo__stats', arguments: {} })).response.result?.structuredContent as { calls: number; cancelled: number };
    const before = await stats();
    const controller = new AbortController();
    const body = modernRequest(30, 'tools/call', { name: 'echo__slow', arguments: { ms: 20_000 } });
    const pending = fetch(gateway.url, { method: 'POST', headers: modernHeaders(body), body: JSON.stringify(body), signal: controller.signal }).catch(() => undefined);
    await waitFor(async () => (await stats()).calls > before.calls + 1, 10_000, () => 'the slow call to reach the upstream');
    controller.abort();
    await pending;
    await waitFor(async () => (await stats()).cancelled > before.cancelled, 10_000, () => 'the upstream to see the cancellation');
    await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.tool.result' && r.public_name === 'echo__slow' && r.outcome === 'cancelled'));
  });

  it('a resource that does not exist is -32602 with data.uri for a modern caller', async () => {
    const reply = await modernCall(gateway.url, 8, 'resources/read', { uri: 'file:///nowhere' });
    expect(reply.response).toMatchObject({ id: 8, error: { code: -32602, data: { uri: 'file:///nowhere' } } });
  });
});
