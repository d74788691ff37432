/**
 * Log-record attributes of CONTRACT events: semantic-convention names where they exist,
 * `mcpgate.<field>` for the rest (so a new event exports without a mapping), arguments as recorded.
 */
import { MeterProvider, MetricReader, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { AfterTurn } from '../../src/telemetry/afterTurn.js';
import type { GatewayEvent, ToolDecisionEvent } from '../../src/telemetry/events.js';
import { logAttributes, OtelEventSink } from '../../src/telemetry/otelEvents.js';

/** A metric reader the test collects from on demand. */
class PullReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

describe('log record attributes', () => {
  it('name decision fields after the MCP/GenAI conventions and keep the recorded arguments', () => {
    const attributes = logAttributes({
      event: 'mcpgate.tool.decision',
      session: 's-1',
      call: 'c-1',
      server: 'github',
      tool: 'create_issue',
      public_name: 'github__create_issue',
      decision: 'deny',
      decided_by: 'rule',
      rule: 'servers.d/github.yaml tools.deny[0] (create_*)',
      reason: 'no',
      approval_wait_ms: 0,
      arguments: { title: 'x', token: '[REDACTED]' },
      arguments_truncated: undefined,
    });
    expect(attributes).toEqual({
      'mcp.session.id': 's-1',
      'mcp.method.name': 'tools/call',
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'github__create_issue',
      'gen_ai.tool.call.arguments': { title: 'x', token: '[REDACTED]' },
      'mcpgate.call': 'c-1',
      'mcpgate.server': 'github',
      'mcpgate.upstream_tool': 'create_issue',
      'mcpgate.decision': 'deny',
      'mcpgate.decided_by': 'rule',
      'mcpgate.rule': 'servers.d/github.yaml tools.deny[0] (create_*)',
      'mcpgate.reason': 'no',
      'mcpgate.approval_wait_ms': 0,
    });
  });

  it("a stateless (2026-07-28) caller's record has mcp.protocol.version and its caller key, never mcp.session.id", () => {
    const attributes = logAttributes({ event: 'mcpgate.tool.result', session: 'k_abcdefghijklmnop', protocol_version: '2026-07-28', call: 'c', server: 'a', tool: 't', public_name: 'a__t', duration_ms: 3, outcome: 'ok', result_size: 0 });
    expect(attributes).toMatchObject({ 'mcp.protocol.version': '2026-07-28', 'mcpgate.caller_key': 'k_abcdefghijklmnop' });
    expect(attributes['mcp.session.id']).toBeUndefined();
    const legacy = logAttributes({ event: 'mcpgate.tool.result', session: 's', protocol_version: '2025-11-25', call: 'c', server: 'a', tool: 't', public_name: 'a__t', duration_ms: 3, outcome: 'ok', result_size: 0 });
    expect(legacy).toMatchObject({ 'mcp.session.id': 's', 'mcp.protocol.version': '2025-11-25' });
    expect(legacy['mcpgate.caller_key']).toBeUndefined();
  });

  it('set error.type from a failed outcome and the transport from the session', () => {
    const result = logAttributes({ event: 'mcpgate.tool.result', session: 's', call: 'c', server: 'a', tool: 't', public_name: 'a__t', duration_ms: 3, outcome: 'timeout', result_size: 0, error: 'late' });
    expect(result).toMatchObject({ 'error.type': 'timeout', 'error.message': 'late', 'mcpgate.outcome': 'timeout', 'mcpgate.duration_ms': 3 });
    expect(logAttributes({ event: 'mcpgate.session.start', session: 's', transport: 'http', protocol_version: '2025-06-18' })).toMatchObject({
      'network.transport': 'tcp',
      'mcpgate.transport': 'http',
      'mcp.protocol.version': '2025-06-18',
    });
  });

  it('export fields of events it has no mapping for as mcpgate.<field>', () => {
    const future = { event: 'mcpgate.future.event', server: 'web', mode: 'strict', count: 2 } as unknown as GatewayEvent;
    expect(logAttributes(future)).toEqual({ 'mcpgate.server': 'web', 'mcpgate.mode': 'strict', 'mcpgate.count': 2 });
  });

  it('name a network decision\'s destination by the network conventions', () => {
    const attributes = logAttributes({ event: 'mcpgate.network.decision', server: 'web', host: 'example.com', port: 443, address: '93.184.215.14', protocol: 'connect', decision: 'allow', decided_by: 'rule', reason: 'r', bytes_up: 10, bytes_down: 20 });
    expect(attributes).toEqual({
      'mcpgate.server': 'web',
      'server.address': 'example.com',
      'server.port': 443,
      'network.peer.address': '93.184.215.14',
      'mcpgate.protocol': 'connect',
      'mcpgate.decision': 'allow',
      'mcpgate.decided_by': 'rule',
      'mcpgate.reason': 'r',
      'mcpgate.bytes_up': 10,
      'mcpgate.bytes_down': 20,
    });
  });
});

describe('event metrics', () => {
  it('record the approval wait of answered asks only, and count decisions', async () => {
    const reader = new PullReader();
    const provider = new MeterProvider({ readers: [reader] });
    const later = new AfterTurn();
    const sink = new OtelEventSink(undefined, provider.getMeter('test'), later);
    const decision = (decided_by: ToolDecisionEvent['decided_by'], approval_wait_ms: number, value: 'allow' | 'deny'): ToolDecisionEvent => ({
      event: 'mcpgate.tool.decision', session: 's', call: 'c', server: 'gh', tool: 't', public_name: 'gh__t', decision: value, decided_by, reason: 'r', approval_wait_ms,
    });
    sink.emit(decision('user', 1500, 'allow'));
    sink.emit(decision('timeout', 120_000, 'deny'));
    sink.emit(decision('rule', 0, 'allow'));
    later.drain();
    const { resourceMetrics } = await reader.collect();
    const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    const wait = metrics.find((m) => m.descriptor.name === 'mcpgate.approval.wait') as HistogramMetricData | undefined;
    expect(wait?.descriptor.unit).toBe('s');
    const points = wait?.dataPoints.map((p) => [p.attributes['mcpgate.decided_by'], p.value.count, p.value.sum]);
    expect(points?.sort()).toEqual([['timeout', 1, 120], ['user', 1, 1.5]]);
    const decisions = metrics.find((m) => m.descriptor.name === 'mcpgate.tool.decisions');
    expect(decisions?.dataPoints.map((p) => [p.attributes['mcpgate.decided_by'], p.value]).sort()).toEqual([['rule', 1], ['timeout', 1], ['user', 1]]);
    await provider.shutdown();
  });

  it('count network decisions by decision and bytes by server and direction', async () => {
    const reader = new PullReader();
    const provider = new MeterProvider({ readers: [reader] });
    const later = new AfterTurn();
    const sink = new OtelEventSink(undefined, provider.getMeter('test'), later);
    const base = { event: 'mcpgate.network.decision', server: 'web', host: 'a.com', port: 443, protocol: 'connect', reason: 'r' } as const;
    sink.emit({ ...base, decision: 'allow', decided_by: 'rule', bytes_up: 100, bytes_down: 5000 });
    sink.emit({ ...base, decision: 'allow', decided_by: 'user', bytes_up: 1, bytes_down: 2 });
    sink.emit({ ...base, decision: 'deny', decided_by: 'default' });
    later.drain();
    const metrics = (await reader.collect()).resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    const decisions = metrics.find((m) => m.descriptor.name === 'mcpgate.network.decisions');
    expect(decisions?.dataPoints.map((p) => [p.attributes['mcpgate.decision'], p.attributes['mcpgate.decided_by'], p.value]).sort()).toEqual([['allow', 'rule', 1], ['allow', 'user', 1], ['deny', 'default', 1]]);
    const bytes = metrics.find((m) => m.descriptor.name === 'mcpgate.network.bytes');
    expect(bytes?.descriptor.unit).toBe('By');
    expect(bytes?.dataPoints.map((p) => [p.attributes['mcpgate.server'], p.attributes['network.io.direction'], p.value]).sort()).toEqual([['web', 'receive', 5002], ['web', 'transmit', 101]]);
    await provider.shutdown();
  });
});
