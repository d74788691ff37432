/**
 * The upstreams' health as `/healthz`, `/readyz` and `mcpgate status` show it: each upstream's
 * state, restarts, last error and sandbox, and the verdict (verdict.ts) built from them.
 */
import { z } from 'zod';
import type { SandboxState } from '../sandbox/launcher.js';
import type { UpstreamState } from '../telemetry/events.js';
import type { GatewayMonitor } from './monitor.js';
import { healthVerdict, type HealthVerdict } from './verdict.js';

const UPSTREAM_STATES = ['starting', 'ready', 'failed', 'restarting', 'stopped'] as const satisfies readonly UpstreamState[];

/** One upstream's status. */
export const UpstreamStatusSchema = z.object({
  name: z.string(),
  /** `stdio` (a command), `http` or `sse` (a URL). */
  transport: z.string(),
  state: z.enum(UPSTREAM_STATES),
  /** ISO time of the last state change (absent before the first). */
  since: z.string().optional(),
  restarts: z.number().int(),
  /** Restarts within the restart-loop window (src/health/verdict.ts). */
  recent_restarts: z.number().int(),
  last_error: z.string().optional(),
  last_error_at: z.string().optional(),
  /** `bwrap` (sandboxed), `none` or `off` (unconfined); absent for url/sse servers and before the first start. */
  sandbox: z.enum(['bwrap', 'none', 'off']).optional(),
  unconfined: z.boolean(),
  unconfined_reason: z.string().optional(),
  tools: z.number().int(),
  /** The MCP revision the server is spoken to in (`2025-11-25` or `2026-07-28`); absent before it first started. */
  protocol: z.string().optional(),
});
export type UpstreamStatus = z.infer<typeof UpstreamStatusSchema>;

/** What the status needs of one upstream (src/upstream/upstream.ts's Upstream satisfies it). */
export interface UpstreamView {
  readonly name: string;
  readonly state: UpstreamState;
  readonly lastError: string | undefined;
  readonly sandbox: SandboxState | undefined;
  readonly tools: readonly unknown[];
  readonly config: { readonly target: { readonly kind: string } };
  /** The revision the running server is spoken to in (absent before it started). */
  readonly protocolVersion?: string | undefined;
  /** `isolation: session` servers (src/isolation): sessions with an instance of their own. */
  readonly instanceCount?: number;
}

/** Where health comes from. */
export interface HealthSources {
  readonly upstreams: () => Iterable<UpstreamView>;
  readonly monitor: GatewayMonitor;
  /** The gateway is shutting down (not ready any more). */
  readonly stopping: () => boolean;
  /** Configuration reloads applied since start (src/reload); absent: 0. */
  readonly reloadGeneration?: () => number;
}

/** The upstreams' status and the health verdict built from it. */
export function upstreamHealth(sources: HealthSources): { upstreams: UpstreamStatus[]; verdict: HealthVerdict } {
  const upstreams: UpstreamStatus[] = [];
  const facts = [];
  for (const upstream of sources.upstreams()) {
    const record = sources.monitor.upstream(upstream.name);
    const sandbox = upstream.sandbox;
    const lastError = upstream.lastError ?? record?.lastError;
    upstreams.push({
      name: upstream.name,
      transport: upstream.config.target.kind,
      state: upstream.state,
      ...(record ? { since: record.since } : {}),
      restarts: record?.restarts ?? 0,
      recent_restarts: record?.recent.length ?? 0,
      ...(lastError !== undefined ? { last_error: lastError } : {}),
      ...(record?.lastErrorAt ? { last_error_at: record.lastErrorAt } : {}),
      ...(sandbox ? { sandbox: sandbox.kind } : {}),
      unconfined: sandbox !== undefined && sandbox.kind !== 'bwrap',
      ...(sandbox && sandbox.kind !== 'bwrap' ? { unconfined_reason: sandbox.reason } : {}),
      tools: upstream.tools.length,
      ...(upstream.protocolVersion ? { protocol: upstream.protocolVersion } : {}),
    });
    facts.push({ name: upstream.name, state: upstream.state, recentRestarts: record?.recent.length ?? 0, settled: record?.settled ?? false, failing: record?.failing ?? false });
  }
  return { upstreams, verdict: healthVerdict(facts, sources.stopping()) };
}

/**
 * The `/healthz` body: overall status, open sessions, each upstream's state, the unconfined and
 * degraded servers (and why), readiness, the reload generation, and the instances of each
 * session-isolated server (only when there is one).
 */
export function healthzBody(sources: HealthSources & { readonly sessions: () => number }): Record<string, unknown> & { status: string } {
  const { upstreams, verdict } = upstreamHealth(sources);
  const states: Record<string, string> = {};
  const unconfined: Record<string, string> = {};
  for (const upstream of upstreams) {
    states[upstream.name] = upstream.state;
    if (upstream.unconfined_reason !== undefined) unconfined[upstream.name] = upstream.unconfined_reason;
  }
  const instances: Record<string, number> = {};
  for (const upstream of sources.upstreams()) if (upstream.instanceCount !== undefined) instances[upstream.name] = upstream.instanceCount;
  return {
    status: verdict.status,
    sessions: sources.sessions(),
    upstreams: states,
    unconfined,
    degraded: verdict.degraded,
    ready: verdict.ready,
    generation: sources.reloadGeneration?.() ?? 0,
    ...(Object.keys(instances).length > 0 ? { instances } : {}),
  };
}

/** What the HTTP listener answers on `/healthz`, `/readyz` (and `/livez`, which needs nothing). */
export interface Probes {
  /** The `/healthz` body. */
  healthz(): Record<string, unknown> & { status: string };
  /** Readiness, and why not. */
  readiness(): { ready: boolean; reason?: string };
}

/** The probes of a gateway. */
export function gatewayProbes(sources: HealthSources & { readonly sessions: () => number }): Probes {
  return {
    healthz: () => healthzBody(sources),
    readiness: () => {
      const { verdict } = upstreamHealth(sources);
      return { ready: verdict.ready, ...(verdict.notReady ? { reason: verdict.notReady } : {}) };
    },
  };
}
