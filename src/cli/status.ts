/**
 * `mcpgate status [--json]`: the running gateway(s) of a configuration, through their admin
 * endpoints (src/admin): health and readiness, each upstream's state, restarts, last error and
 * sandbox, the open sessions, the pending approvals and the reload generation. Works for stdio
 * gateways too (they have no HTTP probes).
 */
import type { Writable } from 'node:stream';
import { findGateways, gatewayStatuses } from '../admin/adminClient.js';
import type { GatewayStatus } from '../admin/status.js';
import { loadConfig } from '../config/load.js';
import { printable, printableJson } from '../printable.js';
import { shellWord } from '../approval/queue.js';

/** Options of `mcpgate status`. */
export interface StatusOptions {
  readonly configDir: string;
  readonly json: boolean;
  readonly out: Writable;
  readonly err: Writable;
}

/** Prints the status of every running gateway of the configuration. */
export async function statusCommand(options: StatusOptions): Promise<number> {
  const config = await loadConfig(options.configDir);
  const { statuses, problems } = await gatewayStatuses(await findGateways(config.approval.adminDir));
  for (const problem of problems) options.err.write(`mcpgate: warning: ${problem}\n`);
  if (options.json) {
    options.out.write(`${printableJson({ gateways: statuses, problems }, 2)}\n`);
    return 0;
  }
  options.out.write(statuses.map((status) => describe(status, options.configDir)).join('\n'));
  return 0;
}

function describe(s: GatewayStatus, configDir: string): string {
  const lines = [
    printable(`gateway pid ${s.pid} (${s.transport}), mcpgate ${s.version}, since ${s.started_at}, reload generation ${s.reload_generation}`),
    printable(`health: ${s.health.status}${s.health.ready ? ', ready' : `, NOT READY (${s.health.not_ready ?? '?'})`}`),
    ...Object.entries(s.health.degraded).map(([server, why]) => printable(`  ${server}: ${why}`)),
    '',
    table(
      ['UPSTREAM', 'STATE', 'RESTARTS', 'SANDBOX', 'TOOLS', 'LAST ERROR'],
      s.upstreams.map((u) => [
        u.instances === undefined ? u.name : `${u.name} (${u.instances} session instance${u.instances === 1 ? '' : 's'})`,
        u.state,
        u.recent_restarts ? `${u.restarts} (${u.recent_restarts} recent)` : String(u.restarts),
        u.sandbox === undefined ? '-' : u.unconfined ? `${u.sandbox}: UNCONFINED (${u.unconfined_reason ?? ''})` : u.sandbox,
        String(u.tools),
        u.last_error ?? '',
      ]),
      'no upstream server is enabled',
    ),
    '',
    table(
      ['SESSION', 'CLIENT', 'SUBJECT', 'TRANSPORT', 'SINCE', 'CALLS'],
      s.sessions.map((x) => [x.id, x.client ?? '-', x.subject ?? '-', x.transport, x.started_at, String(x.calls)]),
      'no client session is open',
    ),
    '',
    s.approvals.length === 0
      ? 'no pending approvals'
      : printable(`${s.approvals.length} pending approval(s): ${s.approvals.map((a) => `${a.id} ${a.kind === 'network' ? `${a.server} → ${a.destination ?? '?'}` : a.public_name}`).join(', ')}  (mcpgate approvals --config ${shellWord(configDir)})`),
  ];
  return `${lines.join('\n')}\n`;
}

function table(header: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return empty;
  const cells = [header, ...rows.map((row) => row.map(printable))];
  const widths = header.slice(0, -1).map((_, i) => Math.max(...cells.map((row) => (row[i] as string).length)));
  return cells.map((row) => row.map((cell, i) => (i < widths.length ? cell.padEnd(widths[i] as number) : cell)).join('  ').trimEnd()).join('\n');
}
