/**
 * OpenTelemetry export end to end: a real `mcpgate serve` exports the logs, spans and metrics of
 * a scripted session over OTLP/HTTP to a real receiver on loopback, continuing the client's
 * W3C trace context and passing its own to the upstream in `_meta`.
 */
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { everythingServer, fixtureServer, makeConfig, startHttpGateway, startStdioGateway, textOf, waitFor, type StdioGateway, type TempConfig } from '../support/gateway.js';
import { modernCall } from '../support/modern.js';
import { dataPoints, OtlpReceiver, type ReceivedSpan } from '../support/otlpReceiver.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN_ID = '00f067aa0ba902b7';
const SERVER = 2;
const CLIENT = 3;
const INTERNAL = 1;

/** Exports every 100 ms so the test sees data while the session runs. */
const FAST_EXPORT = { OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_BLRP_SCHEDULE_DELAY: '100', OTEL_METRIC_EXPORT_INTERVAL: '300' };

/** A sum or gauge data point's value (ints and doubles alike). */
function pointValue(point: Record<string, unknown> | undefined): number {
  return Number(point?.asInt ?? point?.asDouble);
}

describe('OpenTelemetry export', () => {
  let config: TempConfig | undefined;
  let gateway: StdioGateway | undefined;
  let receiver: OtlpReceiver | undefined;

  afterEach(async () => {
    await gateway?.close();
    await receiver?.close();
    await config?.cleanup();
    gateway = undefined;
  });

  it('exports spans, log records and metrics of a session, continuing the client trace into the upstream', async () => {
    receiver = new OtlpReceiver();
    const endpoint = await receiver.start();
    config = await makeConfig({
      gateway: { approval: { channel: 'none' } }, // the ask (echo__add) is denied at once
      servers: {
        echo: fixtureServer('echo', { tools: { default: 'allow', ask: ['add'] } }),
        everything: everythingServer({ tools: { default: 'deny', allow: ['echo'] } }),
      },
    });
    gateway = await startStdioGateway(config.dir, {}, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', ...FAST_EXPORT });
    const client = gateway.client;

    const traced = await client.callTool({
      name: 'echo__meta',
      arguments: {},
      _meta: { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN_ID}-01`, tracestate: 'congo=t61rcWkgMzE', 'example.com/kept': 'yes' },
    });
    await client.callTool({ name: 'echo__echo', arguments: { message: 'hello', password: 'hunter2-hunter2' } });
    await client.callTool({ name: 'echo__fail', arguments: {} });
    const asked = await client.callTool({ name: 'echo__add', arguments: { a: 1, b: 2 } });
    expect(asked.isError).toBe(true);
    expect(textOf(await client.callTool({ name: 'everything__echo', arguments: { message: 'via everything' } }))).toContain('via everything');
    await expect(client.request({ method: 'tools/call', params: { name: 'echo__nope', arguments: {} } }, CallToolResultSchema)).rejects.toThrow(/Unknown tool/);
    await client.listTools();

    // The upstream received the gateway's CLIENT span as its parent, in the same trace.
    const received = (traced.structuredContent as { received: Record<string, unknown> }).received;
    expect(received.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(received.traceparent).not.toContain(CLIENT_SPAN_ID);
    expect(received.tracestate).toBe('congo=t61rcWkgMzE');
    expect(received['example.com/kept']).toBe('yes');

    const r = receiver;
    const span = (name: string, kind: number, traceId?: string): ReceivedSpan => {
      const found = r.spans.find((s) => s.name === name && s.kind === kind && (traceId === undefined || s.traceId === traceId));
      if (!found) throw new Error(`no ${kind} span "${name}" among: ${r.spans.map((s) => `${s.kind}:${s.name}`).join(', ')}`);
      return found;
    };
    await waitFor(() => r.spans.some((s) => s.name === 'tools/list'), 15_000, () => `spans; have ${r.spans.map((s) => s.name).join(', ')}`);

    // SERVER span continuing the client's trace, with policy and CLIENT children.
    const server = span('tools/call echo__meta', SERVER, TRACE_ID);
    expect(server.parentSpanId).toBe(CLIENT_SPAN_ID);
    expect(server.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'echo__meta',
      'gen_ai.operation.name': 'execute_tool',
      'network.transport': 'pipe',
      'mcp.protocol.version': expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      'jsonrpc.request.id': expect.any(String),
      'mcp.session.id': expect.any(String),
    });
    const policy = span('policy', INTERNAL, TRACE_ID);
    expect(policy.parentSpanId).toBe(server.spanId);
    expect(policy.attributes).toMatchObject({ 'mcpgate.decision': 'allow', 'mcpgate.decided_by': 'default', 'mcp.protocol.version': server.attributes['mcp.protocol.version'] });
    const upstream = span('tools/call meta', CLIENT, TRACE_ID);
    expect(upstream.parentSpanId).toBe(server.spanId);
    // the upstream leg's own revision (the echo fixture is a 2025-11-25 server, whatever the client speaks)
    expect(upstream.attributes).toMatchObject({ 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'meta', 'mcpgate.server': 'echo', 'mcpgate.result.size': 4, 'mcp.protocol.version': '2025-11-25' });
    expect(received.traceparent).toBe(`00-${TRACE_ID}-${upstream.spanId}-01`);

    // Without a client traceparent a new trace starts; lengths but never contents on spans.
    const echo = span('tools/call echo__echo', SERVER);
    expect(echo.traceId).not.toBe(TRACE_ID);
    expect(echo.parentSpanId).toBe('');
    expect(echo.attributes['mcpgate.arguments.length']).toBe(JSON.stringify({ message: 'hello', password: 'hunter2-hunter2' }).length);
    expect(echo.attributes['mcpgate.result.size']).toBe(5);
    expect(JSON.stringify(r.spans)).not.toContain('hunter2');

    // error.type: tool_error from isError results, the JSON-RPC code from errors.
    expect(span('tools/call echo__fail', SERVER).attributes['error.type']).toBe('tool_error');
    expect(span('tools/call fail', CLIENT).attributes['error.type']).toBe('tool_error');
    expect(span('tools/call echo__nope', SERVER).attributes['error.type']).toBe('-32602');
    expect(span('tools/call echo__nope', SERVER).status.code).toBe(2);

    // An ask: policy and approval children, no upstream call.
    const ask = span('tools/call echo__add', SERVER);
    const askChildren = r.spans.filter((s) => s.parentSpanId === ask.spanId).map((s) => `${s.kind}:${s.name}`).sort();
    expect(askChildren).toEqual(['1:approval', '1:policy']);
    expect(ask.attributes['error.type']).toBe('tool_error');
    const viaEverything = span('tools/call everything__echo', SERVER);
    const everythingCall = r.spans.find((s) => s.parentSpanId === viaEverything.spanId && s.kind === CLIENT);
    expect(everythingCall?.name).toBe('tools/call echo');
    expect(everythingCall?.attributes['mcpgate.server']).toBe('everything');

    // Resource attributes: service.name defaults to mcpgate.
    expect(server.resource['service.name']).toBe('mcpgate');

    // Log records: one per event, semconv attributes, redacted arguments, correlated with the span.
    await waitFor(() => r.logs.filter((l) => l.eventName === 'mcpgate.tool.result').length >= 4, 15_000, () => 'tool result log records');
    const decision = r.logs.find((l) => l.eventName === 'mcpgate.tool.decision' && l.attributes['gen_ai.tool.name'] === 'echo__echo');
    expect(decision?.body).toBe('mcpgate.tool.decision');
    expect(decision?.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.operation.name': 'execute_tool',
      'mcp.session.id': server.attributes['mcp.session.id'],
      'mcp.protocol.version': server.attributes['mcp.protocol.version'],
      'mcpgate.server': 'echo',
      'mcpgate.upstream_tool': 'echo',
      'mcpgate.decision': 'allow',
      'mcpgate.decided_by': 'default',
      'gen_ai.tool.call.arguments': { message: 'hello', password: '[REDACTED]' },
    });
    expect(decision?.traceId).toBe(echo.traceId);
    const failed = r.logs.find((l) => l.eventName === 'mcpgate.tool.result' && l.attributes['gen_ai.tool.name'] === 'echo__fail');
    expect(failed?.attributes).toMatchObject({ 'mcpgate.outcome': 'tool_error', 'error.type': 'tool_error' });
    const askDecision = r.logs.find((l) => l.eventName === 'mcpgate.tool.decision' && l.attributes['gen_ai.tool.name'] === 'echo__add');
    expect(askDecision?.attributes).toMatchObject({ 'mcpgate.decision': 'deny', 'mcpgate.approval_channel': 'none' }); // asked, nobody to answer
    const start = r.logs.find((l) => l.eventName === 'mcpgate.session.start');
    expect(start?.attributes).toMatchObject({
      'mcp.session.id': server.attributes['mcp.session.id'],
      'mcp.protocol.version': server.attributes['mcp.protocol.version'],
      'network.transport': 'pipe',
      'mcpgate.client_name': 'mcpgate-test',
    });
    expect(r.logs.some((l) => l.eventName === 'mcpgate.upstream.state' && l.attributes['mcpgate.server'] === 'everything' && l.attributes['mcpgate.state'] === 'ready')).toBe(true);
    expect(JSON.stringify(r.logs)).not.toContain('hunter2');

    // Metrics: semconv histograms in seconds with the semconv buckets, and mcpgate counters.
    // The last request (tools/list) is recorded last: an export holding it holds everything before.
    await waitFor(() => dataPoints(r, 'mcp.server.operation.duration').some((p) => p.attributes['mcp.method.name'] === 'tools/list'), 15_000, () => 'metrics');
    const serverDuration = r.metrics.filter((m) => m.name === 'mcp.server.operation.duration').at(-1);
    expect(serverDuration?.unit).toBe('s');
    const calls = dataPoints(r, 'mcp.server.operation.duration').filter((p) => p.attributes['mcp.method.name'] === 'tools/call' && p.attributes['gen_ai.tool.name'] === 'echo__echo');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.explicitBounds).toEqual([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]);
    expect(Number(calls[0]?.count)).toBe(1);
    expect(Number(calls[0]?.sum)).toBeGreaterThan(0);
    expect(Number(calls[0]?.sum)).toBeLessThan(5);
    expect(dataPoints(r, 'mcp.client.operation.duration').some((p) => p.attributes['error.type'] === 'tool_error' && p.attributes['gen_ai.tool.name'] === 'fail')).toBe(true);
    const decisions = dataPoints(r, 'mcpgate.tool.decisions');
    expect(pointValue(decisions.find((p) => p.attributes['mcpgate.decision'] === 'deny' && p.attributes['mcpgate.decided_by'] === 'rule'))).toBe(1);
    const results = dataPoints(r, 'mcpgate.tool.results');
    expect(pointValue(results.find((p) => p.attributes['mcpgate.outcome'] === 'tool_error' && p.attributes['mcpgate.server'] === 'echo'))).toBe(1);
    expect(pointValue(results.find((p) => p.attributes['mcpgate.outcome'] === 'ok' && p.attributes['mcpgate.server'] === 'echo'))).toBe(2);
    expect(pointValue(dataPoints(r, 'mcpgate.sessions.active').find((p) => p.attributes['network.transport'] === 'pipe'))).toBe(1);
    expect(dataPoints(r, 'mcpgate.upstream.state').filter((p) => p.attributes['mcpgate.state'] === 'ready').map((p) => p.attributes['mcpgate.server']).sort()).toEqual(['echo', 'everything']);

    // Shutdown flushes: the session end reaches the collector after the client leaves.
    await gateway.close();
    gateway = undefined;
    await waitFor(() => r.logs.some((l) => l.eventName === 'mcpgate.session.end'), 15_000, () => 'session end log record');
    await waitFor(() => dataPoints(r, 'mcp.server.session.duration').length > 0, 15_000, () => 'session duration metric');
    expect(pointValue(dataPoints(r, 'mcpgate.sessions.active').find((p) => p.attributes['network.transport'] === 'pipe'))).toBe(0);
  });

  it('traces Streamable HTTP sessions and forwarded resource reads and prompts', async () => {
    receiver = new OtlpReceiver();
    const endpoint = await receiver.start();
    config = await makeConfig({ servers: { everything: everythingServer({ tools: { default: 'allow' } }) } });
    const http = await startHttpGateway(config.dir, [], { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', ...FAST_EXPORT });
    try {
      const client = await http.connect();
      const [resource] = (await client.listResources()).resources;
      expect(resource).toBeDefined();
      await client.readResource({ uri: resource!.uri });
      const prompt = (await client.listPrompts()).prompts.find((p) => !(p.arguments ?? []).some((a) => a.required));
      expect(prompt).toBeDefined();
      await client.getPrompt({ name: prompt!.name });
      const r = receiver;
      await waitFor(() => r.spans.some((s) => s.name === `prompts/get ${prompt!.name}` && s.kind === SERVER), 15_000, () => `spans; have ${r.spans.map((s) => s.name).join(', ')}`);
      const server = r.spans.find((s) => s.name === 'resources/read' && s.kind === SERVER);
      expect(server?.attributes).toMatchObject({ 'mcp.resource.uri': resource!.uri, 'network.transport': 'tcp', 'network.protocol.name': 'http' });
      const upstream = r.spans.find((s) => s.name === 'resources/read' && s.kind === CLIENT);
      expect(upstream?.parentSpanId).toBe(server?.spanId);
      expect(upstream?.attributes['mcpgate.server']).toBe('everything');
      expect(r.spans.find((s) => s.name === 'resources/list' && s.kind === SERVER)).toBeDefined();
      const promptServer = r.spans.find((s) => s.name === `prompts/get ${prompt!.name}` && s.kind === SERVER);
      expect(promptServer?.attributes['gen_ai.prompt.name']).toBe(prompt!.name);
      const promptClient = r.spans.find((s) => s.parentSpanId === promptServer?.spanId && s.kind === CLIENT);
      expect(promptClient?.name).toBe(`prompts/get ${prompt!.name.replace(/^everything__/, '')}`);
      expect(promptClient?.attributes['gen_ai.prompt.name']).toBe(prompt!.name.replace(/^everything__/, ''));
    } finally {
      await http.close();
    }
  });

  it('traces a stateless 2026-07-28 request: mcp.protocol.version, no mcp.session.id', async () => {
    receiver = new OtlpReceiver();
    const endpoint = await receiver.start();
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    const http = await startHttpGateway(config.dir, [], { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', ...FAST_EXPORT });
    try {
      const reply = await modernCall(http.url, 1, 'tools/call', { name: 'echo__echo', arguments: { message: 'traced' } });
      expect(textOf(reply.response.result)).toContain('traced');
      const r = receiver;
      await waitFor(() => r.spans.some((s) => s.name === 'tools/call echo__echo' && s.kind === SERVER), 15_000, () => `spans; have ${r.spans.map((s) => s.name).join(', ')}`);
      const server = r.spans.find((s) => s.name === 'tools/call echo__echo' && s.kind === SERVER);
      expect(server?.attributes['mcp.protocol.version']).toBe('2026-07-28');
      expect(server?.attributes['mcp.session.id']).toBeUndefined();
    } finally {
      await http.close();
    }
  });

  it('takes its settings from gateway.yaml: protobuf, headers, resource, chosen signals, hashed arguments', async () => {
    receiver = new OtlpReceiver();
    const endpoint = await receiver.start();
    config = await makeConfig({
      gateway: {
        audit: { arguments: 'hash' },
        telemetry: {
          endpoint: `${endpoint}/`,
          headers: { 'x-collector-token': 'abc123' },
          serviceName: 'gateway-under-test',
          resourceAttributes: { 'deployment.environment': 'e2e' },
          signals: ['traces', 'logs'],
        },
      },
      servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) },
    });
    // The yaml endpoint wins over the environment's; the general OTEL_* batching variables still apply.
    gateway = await startStdioGateway(config.dir, {}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_HEADERS: 'x-env-header=from-env', ...FAST_EXPORT });
    await gateway.client.callTool({ name: 'echo__echo', arguments: { message: 'plain-argument-value' } });
    await gateway.close();
    gateway = undefined;

    const r = receiver;
    await waitFor(() => r.requests.some((q) => q.path === '/v1/logs') && r.requests.some((q) => q.path === '/v1/traces'), 15_000, () => 'protobuf exports');
    const paths = new Set(r.requests.map((q) => q.path));
    expect(paths).toEqual(new Set(['/v1/traces', '/v1/logs']));
    for (const request of r.requests) {
      expect(request.contentType).toBe('application/x-protobuf');
      expect(request.headers['x-collector-token']).toBe('abc123');
      expect(request.headers['x-env-header']).toBe('from-env');
    }
    // Protobuf stores strings as UTF-8 bytes: names and values can be found in the bodies.
    const traces = Buffer.concat(r.requests.filter((q) => q.path === '/v1/traces').map((q) => q.body)).toString('latin1');
    expect(traces).toContain('tools/call echo__echo');
    expect(traces).toContain('gateway-under-test');
    expect(traces).toContain('deployment.environment');
    const logs = Buffer.concat(r.requests.filter((q) => q.path === '/v1/logs').map((q) => q.body)).toString('latin1');
    expect(logs).toContain('mcpgate.tool.decision');
    expect(logs).toContain('mcpgate.arguments_sha256');
    expect(logs).not.toContain('plain-argument-value');
    expect(traces).not.toContain('plain-argument-value');
  });

  it('exports a full batch at once, its size taken from OTEL_BSP_MAX_EXPORT_BATCH_SIZE / OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', async () => {
    receiver = new OtlpReceiver();
    const endpoint = await receiver.start();
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    // Scheduled exports an hour away: only a batch reaching its size is exported while the gateway runs.
    const batching = { OTEL_BSP_SCHEDULE_DELAY: '3600000', OTEL_BLRP_SCHEDULE_DELAY: '3600000', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '3', OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '2' };
    gateway = await startStdioGateway(config.dir, {}, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_METRICS_EXPORTER: 'none', ...batching });
    for (let i = 0; i < 4; i++) await gateway.client.callTool({ name: 'echo__echo', arguments: { message: `call ${i}` } });
    const r = receiver;
    // Four calls: a SERVER, policy and CLIENT span each, a decision and a result log record each.
    await waitFor(() => r.spans.filter((s) => s.kind === SERVER && s.name === 'tools/call echo__echo').length >= 3, 15_000, () => `batched spans; have ${r.spans.length}`);
    await waitFor(() => r.logs.filter((l) => l.eventName === 'mcpgate.tool.result').length >= 3, 15_000, () => `batched log records; have ${r.logs.length}`);
    const sizes = (path: string) => r.requests.filter((q) => q.path === path).map((q) => JSON.parse(q.body.toString('utf8')) as Record<string, Array<Record<string, Array<Record<string, unknown[]>>>>>);
    const spanCounts = sizes('/v1/traces').map((body) => body.resourceSpans!.flatMap((rs) => rs.scopeSpans!).reduce((n, ss) => n + ss.spans!.length, 0));
    const logCounts = sizes('/v1/logs').map((body) => body.resourceLogs!.flatMap((rl) => rl.scopeLogs!).reduce((n, sl) => n + sl.logRecords!.length, 0));
    expect(spanCounts.every((n) => n === 3), `spans per export: ${spanCounts.join(', ')}`).toBe(true);
    expect(logCounts.every((n) => n === 2), `log records per export: ${logCounts.join(', ')}`).toBe(true);
  });

  it('keeps tool-call latency when the collector is down or slow, with a rate-limited warning', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    const { freePort } = await import('../support/gateway.js');
    const closedPort = await freePort(); // nothing listens there: the collector is down
    receiver = new OtlpReceiver(3000); // answers after 3 s, past the 300 ms export timeout
    const slowEndpoint = await receiver.start();
    const failing = { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TIMEOUT: '300', ...FAST_EXPORT };
    const targets = {
      off: {},
      down: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closedPort}`, ...failing },
      slow: { OTEL_EXPORTER_OTLP_ENDPOINT: slowEndpoint, ...failing },
    };
    const gateways: Record<string, StdioGateway> = {};
    const latencies: Record<string, number[]> = { off: [], down: [], slow: [] };
    try {
      for (const [name, env] of Object.entries(targets)) gateways[name] = await startStdioGateway(config.dir, {}, { MCPGATE_LOG_LEVEL: 'info', ...env });
      const names = Object.keys(targets);
      const call = async (name: string, message: string) => {
        const started = performance.now();
        const result = await gateways[name]!.client.callTool({ name: 'echo__echo', arguments: { message } });
        expect(textOf(result)).toBe(message);
        return performance.now() - started;
      };
      for (let i = 0; i < 100; i++) for (const name of names) await call(name, 'warm-up');
      // Interleaved rounds (rotating order), so drift in the machine's load hits all three alike.
      for (let round = 0; round < 300; round++) {
        for (let k = 0; k < names.length; k++) {
          const name = names[(round + k) % names.length] as string;
          latencies[name]!.push(await call(name, `call ${round}`));
        }
      }
      const warned = (name: string) => async () =>
        waitFor(() => gateways[name]!.stderr().includes('"signal":"traces"'), 15_000, () => `an export warning from ${name}; log:\n${gateways[name]!.stderr()}`);
      await Promise.all([warned('down')(), warned('slow')()]);
      for (const name of names) expect(textOf(await gateways[name]!.client.callTool({ name: 'echo__echo', arguments: { message: 'still here' } }))).toBe('still here');

      const median = (name: string) => [...latencies[name]!].sort((a, b) => a - b)[150] as number;
      const warnings = (name: string) => gateways[name]!.stderr().split('\n').filter((line) => line.includes('cannot export') && line.includes('"signal":"traces"'));
      expect(gateways.off!.stderr()).not.toContain('telemetry');
      expect(gateways.down!.stderr()).toContain(`127.0.0.1:${closedPort}/v1/traces`);
      // Rate-limited: one warning per signal per 30 s, however many exports failed.
      expect(warnings('down')).toHaveLength(1);
      expect(warnings('slow')).toHaveLength(1);
      expect(receiver.requests.length).toBeGreaterThan(0);
      // Generous bounds for a shared machine, yet far below what waiting for an export would cost (≥ 300 ms).
      const off = median('off');
      const bound = Math.max(off * 3, off + 2);
      expect(median('down'), `median ms: off ${off}, collector down ${median('down')}`).toBeLessThan(bound);
      expect(median('slow'), `median ms: off ${off}, collector slow ${median('slow')}`).toBeLessThan(bound);
    } finally {
      await Promise.all(Object.values(gateways).map((g) => g.close()));
    }
  });

  it('bounds the shutdown flush when the collector hangs', async () => {
    receiver = new OtlpReceiver(60_000); // accepts, never answers in time
    const endpoint = await receiver.start();
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    const http = await startHttpGateway(config.dir, [], { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TIMEOUT: '60000', ...FAST_EXPORT });
    try {
      const client = await http.connect();
      await client.callTool({ name: 'echo__echo', arguments: { message: 'before shutdown' } });
      const r = receiver;
      await waitFor(() => r.requests.length > 0, 15_000, () => 'an export in flight');
      const stopping = Date.now();
      const exited = new Promise<number | null>((resolve) => http.process.once('exit', (code) => resolve(code)));
      http.process.kill('SIGTERM');
      const code = await exited;
      const took = Date.now() - stopping;
      expect(code).toBe(0);
      // 5 s for the flush, plus the CLI's own grace for open sockets; far less than the 60 s export timeout.
      expect(took).toBeLessThan(15_000);
      expect(http.stderr()).toContain('did not finish within 5s of shutdown');
    } finally {
      await http.close();
    }
  });
});
