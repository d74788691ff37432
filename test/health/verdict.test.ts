/** The health verdict (pure) and the monitor that feeds it, driven by state events on an injected clock. */
import { describe, expect, it } from 'vitest';
import { GatewayMonitor } from '../../src/health/monitor.js';
import { healthVerdict, RESTART_LOOP, type UpstreamFacts } from '../../src/health/verdict.js';
import type { UpstreamState } from '../../src/telemetry/events.js';

const up = (name: string, extra: Partial<UpstreamFacts> = {}): UpstreamFacts => ({ name, state: 'ready', recentRestarts: 0, settled: true, failing: false, ...extra });

describe('healthVerdict', () => {
  it('is ok and ready when every upstream is ready, and with no upstream at all', () => {
    expect(healthVerdict([up('a'), up('b')])).toEqual({ status: 'ok', degraded: {}, ready: true });
    expect(healthVerdict([])).toEqual({ status: 'ok', degraded: {}, ready: true });
  });

  it('a failed upstream, or one retrying after a failed start, is degraded; the gateway stays ready while another serves', () => {
    expect(healthVerdict([up('a'), up('b', { state: 'failed', failing: true })])).toEqual({ status: 'degraded', degraded: { b: 'failed' }, ready: true });
    expect(healthVerdict([up('a'), up('b', { state: 'restarting', failing: true })]).degraded).toEqual({ b: 'failed (retrying)' });
  });

  it('one crash and restart is not degraded; a restart loop is, even while the server is momentarily ready', () => {
    expect(healthVerdict([up('a', { state: 'restarting', recentRestarts: 1 })]).status).toBe('ok');
    expect(healthVerdict([up('a', { recentRestarts: RESTART_LOOP.restarts })])).toEqual({
      status: 'degraded',
      degraded: { a: `restart loop: ${RESTART_LOOP.restarts} restarts in the last 5 minutes` },
      ready: true,
    });
  });

  it('is not ready before every first start has settled, when no upstream is ready, or while stopping', () => {
    expect(healthVerdict([up('a'), up('b', { state: 'starting', settled: false })])).toMatchObject({ ready: false, notReady: 'upstreams are still on their first start' });
    expect(healthVerdict([up('a', { state: 'failed', failing: true })])).toMatchObject({ ready: false, notReady: 'no upstream is ready', status: 'degraded' });
    expect(healthVerdict([up('a')], true)).toMatchObject({ ready: false, notReady: 'shutting down' });
  });
});

describe('GatewayMonitor', () => {
  function monitorAt(clock: { now: number }) {
    const monitor = new GatewayMonitor(() => clock.now);
    const state = (s: UpstreamState, error?: string) => monitor.emit({ event: 'mcpgate.upstream.state', server: 'x', state: s, attempt: 1, ...(error ? { error } : {}) } as never);
    return { monitor, state };
  }

  it('counts restarts, forgets those older than the window, and remembers the last error', () => {
    const clock = { now: 1_000_000 };
    const { monitor, state } = monitorAt(clock);
    state('starting');
    expect(monitor.upstream('x')).toMatchObject({ settled: false, restarts: 0 });
    state('ready');
    for (let i = 0; i < 3; i++) {
      state('restarting', `boom ${i}`);
      state('starting');
      state('ready');
      clock.now += 1000;
    }
    expect(monitor.upstream('x')).toMatchObject({ state: 'ready', restarts: 3, recent: [1_000_000, 1_001_000, 1_002_000], lastError: 'boom 2', settled: true });
    clock.now += RESTART_LOOP.windowMs;
    expect(monitor.upstream('x')).toMatchObject({ restarts: 3, recent: [] });
  });

  it('a failed start stays "failing" through its retries until a start succeeds', () => {
    const { monitor, state } = monitorAt({ now: 0 });
    state('starting');
    state('failed', 'exited during start-up');
    state('restarting');
    state('starting');
    expect(monitor.upstream('x')).toMatchObject({ failing: true, state: 'starting', lastError: 'exited during start-up' });
    state('ready');
    expect(monitor.upstream('x')?.failing).toBe(false);
  });

  it('leaves out the states of a session\'s own instance (isolation: session): they are not the server\'s restarts', () => {
    const { monitor, state } = monitorAt({ now: 0 });
    state('starting');
    state('failed', 'exited during start-up');
    const instance = (s: UpstreamState) => monitor.emit({ event: 'mcpgate.upstream.state', server: 'x', session: 's1', state: s, attempt: 1 } as never);
    instance('restarting');
    instance('starting');
    instance('stopped');
    expect(monitor.upstream('x')).toMatchObject({ failing: true, state: 'failed', restarts: 0 });
  });

  it('tells subscribers of state changes and sessions', () => {
    const { monitor, state } = monitorAt({ now: 0 });
    let changes = 0;
    const unsubscribe = monitor.subscribe(() => changes++);
    state('starting');
    monitor.emit({ event: 'mcpgate.session.start', session: 's1', transport: 'http', client_name: 'c', client_version: '1' } as never);
    expect(monitor.openSessions()).toEqual([expect.objectContaining({ id: 's1', client: 'c 1', calls: 0 })]);
    monitor.emit({ event: 'mcpgate.session.end', session: 's1' } as never);
    expect(monitor.openSessions()).toEqual([]);
    unsubscribe();
    state('ready');
    expect(changes).toBe(3);
  });
});
