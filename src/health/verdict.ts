/**
 * What `/healthz`, `/readyz` and `mcpgate status` say about a running gateway, from what it knows
 * of its upstreams (pure: no clock, no I/O). Kubernetes' split: liveness is "the process answers"
 * (a blocked event loop answers nothing, so the probe's timeout fails it), readiness is "it can
 * serve tools now", health is readiness's detail for people (`degraded` names what is wrong).
 */
import type { UpstreamState } from '../telemetry/events.js';

/** A server restarting this often within this window is in a restart loop (docs/console.md#health). */
export const RESTART_LOOP = { restarts: 3, windowMs: 5 * 60_000 } as const;

/** What the verdict needs to know of one upstream. */
export interface UpstreamFacts {
  readonly name: string;
  readonly state: UpstreamState;
  /** Restarts within the last {@link RESTART_LOOP} window. */
  readonly recentRestarts: number;
  /** Its first start attempt has ended (ready, or failed and retrying). */
  readonly settled: boolean;
  /** Its last start failed and it has not been ready since (retrying, or given up). */
  readonly failing: boolean;
}

/** Overall health: `degraded` names each server that is failed or restarting in a loop, and why. */
export interface HealthVerdict {
  readonly status: 'ok' | 'degraded';
  readonly degraded: Readonly<Record<string, string>>;
  readonly ready: boolean;
  /** Why the gateway is not ready (absent when it is). */
  readonly notReady?: string;
}

/**
 * The verdict. Ready: not stopping, every upstream's first start has ended, and at least one
 * upstream is ready (or none is configured). A failed upstream (its last start failed and none
 * has succeeded since, even while it retries), or one that restarted {@link RESTART_LOOP}.restarts
 * times within the window, makes the status `degraded`. A single crash and restart does not.
 */
export function healthVerdict(upstreams: readonly UpstreamFacts[], stopping = false): HealthVerdict {
  const degraded: Record<string, string> = {};
  for (const upstream of upstreams) {
    if (upstream.state === 'failed') degraded[upstream.name] = 'failed';
    else if (upstream.failing && upstream.state !== 'ready') degraded[upstream.name] = 'failed (retrying)';
    else if (upstream.recentRestarts >= RESTART_LOOP.restarts) {
      degraded[upstream.name] = `restart loop: ${upstream.recentRestarts} restarts in the last ${RESTART_LOOP.windowMs / 60_000} minutes`;
    }
  }
  const status = Object.keys(degraded).length > 0 ? 'degraded' : 'ok';
  const notReady = stopping
    ? 'shutting down'
    : upstreams.some((u) => !u.settled)
      ? 'upstreams are still on their first start'
      : upstreams.length > 0 && !upstreams.some((u) => u.state === 'ready')
        ? 'no upstream is ready'
        : undefined;
  return { status, degraded, ready: notReady === undefined, ...(notReady ? { notReady } : {}) };
}
