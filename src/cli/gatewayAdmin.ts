/**
 * Wires a running gateway to what admins see of it: the monitor (restarts, sessions) on its event
 * bus, the admin endpoint serving the approval queue, `/status` and the web console, and the HTTP
 * probes. `serve` builds it once, before the upstreams start (so no state change is missed).
 */
import type { Gateway } from '../gateway.js';
import { GatewayMonitor } from '../health/monitor.js';
import { gatewayProbes, type HealthSources, type Probes } from '../health/report.js';
import type { Logger } from '../telemetry/logger.js';
import { AdminEndpoint } from '../admin/adminEndpoint.js';
import { AdminConsole } from '../admin/console/console.js';
import { gatewayStatus } from '../admin/status.js';

/** The admin side of one gateway process. */
export interface GatewayAdmin {
  readonly endpoint: AdminEndpoint;
  readonly probes: Probes;
  /** Says the gateway is stopping (not ready any more). */
  stopping(): void;
}

/** Builds the admin side of `gateway`; `transport` names how clients reach it (`stdio`, or the HTTP URL once bound). */
export function gatewayAdmin(gateway: Gateway, options: { logger: Logger; transport: () => string }): GatewayAdmin {
  const monitor = new GatewayMonitor();
  gateway.events.add(monitor);
  let stopping = false;
  const health: HealthSources = { upstreams: () => gateway.upstreams.values(), monitor, stopping: () => stopping, reloadGeneration: () => gateway.generation };
  const queue = gateway.approvals.queue;
  const startedAt = new Date().toISOString();
  const status = () =>
    gatewayStatus({ ...health, approvals: () => queue.list(), configDir: gateway.config.dir, transport: options.transport, startedAt });
  const console = new AdminConsole({
    status,
    queue,
    changes: [(listener) => monitor.subscribe(listener)],
    auditFile: gateway.config.audit.file,
    logger: options.logger,
  });
  const endpoint = new AdminEndpoint({ queue, dir: gateway.config.approval.adminDir, configDir: gateway.config.dir, logger: options.logger, status, console, reloadState: () => gateway.reloadState() });
  gateway.approvals.serveQueueAt(endpoint);
  return {
    endpoint,
    probes: gatewayProbes({ ...health, sessions: () => gateway.sessionCount }),
    stopping: () => {
      stopping = true;
    },
  };
}
