/**
 * `mcpgate tools`: start the upstreams, print the aggregated catalog with each tool's effective
 * decision and the rule that decided it, and each stdio server's effective network policy, then stop.
 */
import { alwaysCoverage, alwaysOff } from '../approval/alwaysCoverage.js';
import { readApprovedFile } from '../approval/approvedFile.js';
import { formatProblem } from '../config/types.js';
import { Gateway } from '../gateway.js';
import { policyLine } from '../network/policy.js';
import { describeRule } from '../policy/verdict.js';
import { sandboxLabel } from '../sandbox/launcher.js';
import { silentLogger } from '../telemetry/logger.js';
import { acceptPending } from '../pinning/accept.js';
import { pinFileFor } from '../pinning/pinFile.js';
import { alwaysJson, alwaysLine, effectiveDecision, type AlwaysJson } from './alwaysView.js';
import { configDirFrom } from './configDir.js';
import { loadEffectiveConfig } from './requirements.js';

/** Options of `mcpgate tools`. */
export interface ToolsOptions {
  readonly config?: string;
  readonly json?: boolean;
  /** `--requirements FILE` (else $MCPGATE_REQUIREMENTS, else /etc/mcpgate/requirements.yaml if present). */
  readonly requirements?: string;
  /** `--accept SERVER__TOOL`: accept the changed definition the gateway recorded, instead of listing. */
  readonly accept?: string;
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
}

/** One row of the catalog listing (also the `--json` shape). */
export interface ToolRow {
  readonly name: string;
  readonly server: string;
  readonly tool: string;
  readonly decision: 'allow' | 'ask' | 'deny';
  readonly decided_by: string;
  readonly rule: string;
  readonly reason: string;
  /** Rules with argument conditions also name this tool: a call may be decided differently. */
  readonly conditional: boolean;
  /** Hidden from tools/list (denied, and `policy.showDenied` is off). */
  readonly hidden: boolean;
  /** When a managed rule decided over a looser user decision: that user decision. */
  readonly overrides?: string;
  /** What runs without a person asked: `allow` when an "always" entry for every session answers the ask. */
  readonly effective: 'allow' | 'ask' | 'deny';
  /** The "always allow" entries naming this tool (rules.d/approved.yaml), applying or not and why. */
  readonly always?: readonly AlwaysJson[];
}

/** Prints the catalog; exit code 1 if any server could not be loaded or started. */
export async function toolsCommand(options: ToolsOptions): Promise<number> {
  const config = await loadEffectiveConfig(configDirFrom(options.config), options.requirements);
  if (options.accept !== undefined) return acceptCommand(pinFileFor(config.audit.file), options.accept, options);
  const gateway = new Gateway({ config, logger: silentLogger(), audit: false, pins: 'read' });
  try {
    await gateway.start();
    const approved = await readApprovedFile(config.approval.rulesFile, config.dir);
    const off = alwaysOff(config);
    const lines = new Map<string, string[]>();
    const rows: ToolRow[] = gateway.catalog.entries().map((entry) => {
      const verdict = entry.policy.listing;
      const always = alwaysCoverage(entry.publicName, verdict, approved.entries, off);
      lines.set(entry.publicName, always.map((status) => alwaysLine(verdict.decision, status)));
      return {
        name: entry.publicName,
        server: entry.upstream.name,
        tool: entry.name,
        decision: verdict.decision,
        decided_by: verdict.decidedBy,
        rule: verdict.decidedBy === 'managed' ? `managed: ${describeRule(verdict.rule)}` : describeRule(verdict.rule),
        reason: verdict.reason,
        conditional: entry.policy.conditional,
        hidden: verdict.decision === 'deny' && !config.policy.showDenied,
        ...(verdict.overrides ? { overrides: verdict.overrides } : {}),
        effective: effectiveDecision(verdict.decision, always),
        ...(always.length > 0 ? { always: always.map(alwaysJson) } : {}),
      };
    });
    const unmatched = approved.entries.filter((entry) => !lines.has(entry.tool));
    const failed = [...gateway.upstreams.values()].filter((u) => u.state !== 'ready');
    const problems = [...config.problems, ...approved.problems].filter((p) => p.severity === 'error');
    if (options.json) {
      const servers = [...gateway.upstreams.values()].map((u) => {
        const network = u.config.target.kind === 'stdio' ? gateway.network.policy(u.name)?.effective() : undefined;
        return {
          server: u.name,
          state: u.state,
          ...(u.lastError ? { error: u.lastError } : {}),
          ...(u.sandbox ? { sandbox: u.sandbox.kind, ...(u.sandbox.kind === 'bwrap' ? {} : { sandbox_reason: u.sandbox.reason, unconfined: true }) } : {}),
          ...(network ? { network } : {}),
          ...(u.config.isolation ? { isolation: 'session', max_instances: u.config.isolation.maxInstances, idle_timeout_ms: u.config.isolation.idleTimeoutMs } : {}),
        };
      });
      const requirements = config.requirements ? { requirements: config.requirements.file } : {};
      options.out.write(`${JSON.stringify({ tools: rows, servers, problems: [...config.problems, ...approved.problems], ...requirements }, null, 2)}\n`);
    } else {
      options.out.write(renderTable(rows, lines));
      // Each server's confinement (an unconfined one can do everything this user can) and network policy.
      for (const upstream of gateway.upstreams.values()) {
        if (upstream.sandbox) options.out.write(`server ${upstream.name}: sandbox ${sandboxLabel(upstream.sandbox)}\n`);
        const policy = upstream.config.target.kind === 'stdio' ? gateway.network.policy(upstream.name) : undefined;
        if (policy) options.out.write(`network ${upstream.name}: ${policyLine(policy.effective())}\n`);
        const isolation = upstream.config.isolation;
        if (isolation) options.out.write(`server ${upstream.name}: isolation session (one instance per client session, at most ${isolation.maxInstances}, idle stop after ${isolation.idleTimeoutMs / 1000}s)\n`);
      }
      for (const upstream of failed) options.err.write(`server ${upstream.name}: ${upstream.state}: ${upstream.lastError ?? 'not ready'}\n`);
      for (const problem of [...config.problems, ...approved.problems]) options.err.write(`${formatProblem(problem)}\n`);
      for (const entry of unmatched) options.err.write(`${entry.file}:${entry.line ?? 0}: "always" entry for ${entry.tool} names no tool in the catalog\n`);
      for (const c of gateway.catalog.collisions) {
        options.err.write(`name collision: ${c.kind} "${c.name}" from "${c.dropped}" left out ("${c.kept}" has it); set a distinct prefix\n`);
      }
    }
    return failed.length > 0 || problems.length > 0 || gateway.catalog.collisions.length > 0 ? 1 : 0;
  } finally {
    await gateway.close();
  }
}

function renderTable(rows: readonly ToolRow[], always: ReadonlyMap<string, readonly string[]>): string {
  const header = ['TOOL', 'DECISION', 'RULE'];
  const body = rows.map((row) => [
    row.hidden ? `${row.name} (hidden)` : row.name,
    row.effective === row.decision ? row.decision : `${row.decision} → ${row.effective}`,
    `${row.rule}${row.overrides ? ` (overrides ${row.overrides})` : ''}${row.conditional ? '; argument rules may change it' : ''}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}\n`;
  // Each "always" entry naming a tool goes on its own indented line under the tool's row.
  const entries = (row: ToolRow) => (always.get(row.name) ?? []).map((text) => `    ${text}\n`).join('');
  return line(header) + body.map((cells, i) => line(cells) + entries(rows[i] as ToolRow)).join('');
}

async function acceptCommand(file: string, name: string, options: ToolsOptions): Promise<number> {
  const accepted = await acceptPending(file, name);
  const summary = { accepted: accepted.publicName, key: accepted.key, old_sha256: accepted.oldSha256, new_sha256: accepted.newSha256, changed: accepted.changed, file };
  options.out.write(
    options.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : `accepted the new definition of ${accepted.publicName} (changed: ${accepted.changed.join(', ') || 'unknown'}; sha256 ${accepted.newSha256.slice(0, 12)}…) in ${file}\n`,
  );
  return 0;
}
