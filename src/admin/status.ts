/**
 * `GET /status` of the admin endpoint: a running gateway as `mcpgate status` and the console show
 * it (upstreams with state, restarts, last error and sandbox; open sessions; pending approvals;
 * health and readiness; the reload generation). The schema is the wire format the CLI parses.
 */
import { z } from 'zod';
import { PendingApprovalSchema, type PendingApproval } from '../approval/queue.js';
import { upstreamHealth, UpstreamStatusSchema, type HealthSources } from '../health/report.js';
import { GATEWAY_VERSION } from '../version.js';

/** One open client session. */
export const SessionStatusSchema = z.object({
  id: z.string(),
  transport: z.enum(['stdio', 'http']),
  client: z.string().optional(),
  subject: z.string().optional(),
  protocol_version: z.string().optional(),
  started_at: z.string(),
  calls: z.number().int(),
});
export type SessionStatus = z.infer<typeof SessionStatusSchema>;

/** A running gateway's status (the admin endpoint's `GET /status`). */
export const GatewayStatusSchema = z.object({
  pid: z.number().int(),
  version: z.string(),
  config: z.string(),
  started_at: z.string(),
  /** `stdio`, or the HTTP endpoint's URL. */
  transport: z.string(),
  /** Configuration reloads applied since start (src/reload). */
  reload_generation: z.number().int(),
  health: z.object({
    status: z.enum(['ok', 'degraded']),
    degraded: z.record(z.string(), z.string()),
    ready: z.boolean(),
    not_ready: z.string().optional(),
  }),
  upstreams: z.array(UpstreamStatusSchema),
  sessions: z.array(SessionStatusSchema),
  approvals: z.array(PendingApprovalSchema),
});
export type GatewayStatus = z.infer<typeof GatewayStatusSchema>;

/** Where the status comes from. */
export interface StatusSources extends HealthSources {
  readonly approvals: () => PendingApproval[];
  readonly configDir: string;
  readonly transport: () => string;
  readonly startedAt: string;
}

/** The gateway's status now. */
export function gatewayStatus(sources: StatusSources): GatewayStatus {
  const { upstreams, verdict } = upstreamHealth(sources);
  return {
    pid: process.pid,
    version: GATEWAY_VERSION,
    config: sources.configDir,
    started_at: sources.startedAt,
    transport: sources.transport(),
    reload_generation: sources.reloadGeneration?.() ?? 0,
    health: { status: verdict.status, degraded: { ...verdict.degraded }, ready: verdict.ready, ...(verdict.notReady ? { not_ready: verdict.notReady } : {}) },
    upstreams,
    sessions: sources.monitor.openSessions().map((s) => ({
      id: s.id,
      transport: s.transport,
      started_at: s.startedAt,
      calls: s.calls,
      ...(s.client ? { client: s.client } : {}),
      ...(s.subject ? { subject: s.subject } : {}),
      ...(s.protocolVersion ? { protocol_version: s.protocolVersion } : {}),
    })),
    approvals: sources.approvals(),
  };
}
