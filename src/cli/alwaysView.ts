/**
 * How `mcpgate tools` and `mcpgate check` show "always allow" entries (rules.d/approved.yaml):
 * the effective state of a tool's ask (`ask → allow (always: rules.d/approved.yaml:12, …)`), or an
 * entry that does not apply and why. Text and `--json` come from the same statuses.
 */
import { alwaysCoverage, alwaysOff, type AlwaysStatus } from '../approval/alwaysCoverage.js';
import type { ApprovedEntryAt } from '../approval/approvedFile.js';
import { printable } from '../printable.js';
import { publicName } from '../catalog/names.js';
import type { GatewayConfig, ServerConfig } from '../config/types.js';
import type { Decision } from '../config/schema.js';
import type { Policy } from '../policy/policy.js';
import type { Verdict } from '../policy/verdict.js';
import type { PinState } from '../pinning/pinFile.js';
import { pinVerdict } from '../pinning/pinGuard.js';

/** One entry in `mcpgate tools --json` (`always: [...]` of a tool). */
export interface AlwaysJson {
  readonly file: string;
  readonly line?: number;
  /** Index in the file's `allow` list (the audit log names it `allow[N]`). */
  readonly index: number;
  /** Set: the entry answers only this authenticated subject's sessions. */
  readonly subject?: string;
  readonly client?: string;
  readonly approved_at?: string;
  readonly session?: string;
  readonly applies: boolean;
  /** Why it does not apply (absent when it does). */
  readonly why?: string;
}

/** The `--json` form of a status. */
export function alwaysJson(status: AlwaysStatus): AlwaysJson {
  const { entry } = status;
  return {
    file: entry.file,
    ...(entry.line === undefined ? {} : { line: entry.line }),
    index: entry.index,
    ...(entry.subject === undefined ? {} : { subject: entry.subject }),
    ...(entry.client === undefined ? {} : { client: entry.client }),
    ...(entry.approvedAt === undefined ? {} : { approved_at: entry.approvedAt }),
    ...(entry.session === undefined ? {} : { session: entry.session }),
    applies: status.applies,
    ...(status.why === undefined ? {} : { why: status.why }),
  };
}

/**
 * What runs without a person asked: `allow` when an entry for every session applies, else the decision.
 * @example effectiveDecision('ask', [{ entry, applies: true }]) // 'allow' (entry without subject)
 */
export function effectiveDecision(decision: Decision, statuses: readonly AlwaysStatus[]): Decision {
  return statuses.some((status) => status.applies && status.entry.subject === undefined) ? 'allow' : decision;
}

/**
 * One line for one entry.
 * @example alwaysLine('ask', status) // 'ask → allow for subject alice (always: rules.d/approved.yaml:4, approved by alice at 2026-11-25T10:00:00Z)'
 * @example alwaysLine('ask', notApplied) // '"always" entry not applied (rules.d/approved.yaml:4, …): a managed ask (requirements file) is never answered by "always"'
 */
export function alwaysLine(decision: Decision, status: AlwaysStatus): string {
  const { entry } = status;
  const where = entry.line === undefined ? `${entry.file} allow[${entry.index}]` : `${entry.file}:${entry.line}`;
  const by = entry.subject ?? entry.client;
  const origin = `${where}${by === undefined ? '' : `, approved by ${by}`}${entry.approvedAt === undefined ? '' : ` at ${entry.approvedAt}`}`;
  // The client name is whatever the client called itself: no control character reaches the terminal (summary.ts).
  if (!status.applies) return printable(`"always" entry not applied (${origin}): ${status.why ?? 'unknown'}`);
  return printable(`${decision} → allow${entry.subject === undefined ? '' : ` for subject ${entry.subject}`} (always: ${origin})`);
}

/**
 * The statuses of the entries for `mcpgate check`, which starts no upstream: each entry's public
 * name is traced back to a configured server and tool, decided by the policy, and a tool whose
 * changed definition waits in the pin file is an ask only a person may answer.
 */
export function checkStatuses(
  config: GatewayConfig,
  policy: Policy,
  entries: readonly ApprovedEntryAt[],
  pins: { readonly state?: PinState; readonly broken?: string },
): Array<{ readonly name: string; readonly decision: Decision; readonly status: AlwaysStatus }> {
  const off = alwaysOff(config);
  return entries.map((entry) => {
    const target = targetOf(entry, config.servers);
    if ('why' in target) return { name: entry.tool, decision: 'ask' as const, status: { entry, applies: false, why: target.why } };
    const verdict = policy.forTool(target.server, target.tool, pinned(`${target.server.name}/${target.tool}`, entry.tool, pins)).listing;
    const [status] = alwaysCoverage(entry.tool, verdict, [entry], off);
    return { name: entry.tool, decision: verdict.decision, status: status as AlwaysStatus };
  });
}

/**
 * The configured server and upstream tool name a public name stands for. By the public name only,
 * as the gateway matches entries (AlwaysRules.allows): an entry's `server` is a note of where it
 * was approved, and an entry naming a renamed server still answers the tool's ask.
 */
function targetOf(entry: ApprovedEntryAt, servers: readonly ServerConfig[]): { server: ServerConfig; tool: string } | { why: string } {
  for (const server of servers) {
    const tool = server.prefix === '' ? entry.tool : entry.tool.startsWith(`${server.prefix}__`) ? entry.tool.slice(server.prefix.length + 2) : undefined;
    if (tool !== undefined && tool !== '' && publicName(server.prefix, tool) === entry.tool) return { server, tool };
  }
  return { why: 'no configured server offers a tool by this name (`mcpgate tools` resolves shortened names from the upstreams\' lists)' };
}

/** The pins layer as `check` can know it: a pending changed definition, or an unreadable pin file. */
function pinned(key: string, name: string, pins: { readonly state?: PinState; readonly broken?: string }): Verdict | undefined {
  const reason =
    pins.broken !== undefined
      ? `the tool pin file cannot be read (${pins.broken})`
      : pins.state?.pending[key] !== undefined
        ? `the definition of ${name} changed since it was pinned; an admin can accept it with \`mcpgate tools --accept ${name}\``
        : undefined;
  return reason === undefined ? undefined : pinVerdict(reason);
}
