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
    const future = { event: 'mcpgate.network.decision', server: 'web', host: 'example.com', port: 443, decision: 'deny' } as unknown as GatewayEvent;
    expect(logAttributes(future)).toEqual({ 'mcpgate.server': 'web', 'mcpgate.host': 'example.com', 'mcpgate.port': 443, 'mcpgate.decision': 'deny' });
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
});
