/**
 * The gateway-side tally behind the per-call counters: one count per attribute set, each set
 * built once, reported whole by an observable counter at every collection.
 */
import { MeterProvider, MetricReader, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { Tally } from '../../src/telemetry/tally.js';

class PullReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

describe('tally', () => {
  it('counts per attribute set and reuses the set it built the first time', () => {
    const tally = new Tally(['mcpgate.outcome', 'mcpgate.server']);
    const first = tally.add('ok', 'github');
    expect(first).toEqual({ 'mcpgate.outcome': 'ok', 'mcpgate.server': 'github' });
    expect(tally.add('ok', 'github')).toBe(first);
    expect(tally.add('ok', 'slack')).toEqual({ 'mcpgate.outcome': 'ok', 'mcpgate.server': 'slack' });
    // Values that would collide if joined into one string key stay apart.
    tally.add('tool_error', 'a\u0000b');
    tally.add('tool_error\u0000a', 'b');
    const observed: Array<[number, unknown]> = [];
    tally.observe({ observe: (value, attributes) => observed.push([value, attributes]) });
    expect(observed).toEqual([
      [2, { 'mcpgate.outcome': 'ok', 'mcpgate.server': 'github' }],
      [1, { 'mcpgate.outcome': 'ok', 'mcpgate.server': 'slack' }],
      [1, { 'mcpgate.outcome': 'tool_error', 'mcpgate.server': 'a\u0000b' }],
      [1, { 'mcpgate.outcome': 'tool_error\u0000a', 'mcpgate.server': 'b' }],
    ]);
  });

  it('exports monotonic cumulative sums through an observable counter, like a counter would', async () => {
    const reader = new PullReader();
    const provider = new MeterProvider({ readers: [reader] });
    const tally = new Tally(['mcpgate.decision', 'mcpgate.decided_by', 'mcpgate.server']);
    provider.getMeter('test').createObservableCounter('mcpgate.tool.decisions').addCallback(tally.observe);
    tally.add('allow', 'rule', 'gh');
    tally.add('allow', 'rule', 'gh');
    tally.add('deny', 'default', 'gh');
    const read = async () => {
      const metric = (await reader.collect()).resourceMetrics.scopeMetrics[0]?.metrics[0] as SumMetricData | undefined;
      return { monotonic: metric?.isMonotonic, points: metric?.dataPoints.map((p) => [p.attributes['mcpgate.decision'], p.value]).sort() };
    };
    expect(await read()).toEqual({ monotonic: true, points: [['allow', 2], ['deny', 1]] });
    tally.add('deny', 'default', 'gh');
    expect(await read()).toEqual({ monotonic: true, points: [['allow', 2], ['deny', 2]] });
    await provider.shutdown();
  });
});
