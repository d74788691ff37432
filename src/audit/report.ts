/**
 * `mcpgate audit report`: a summary of a period, pure over the records (fed one at a time): calls per server and
 * tool, decisions (by decision and decided_by), who approved, denials with reasons, failures by
 * outcome, and the slowest tools (p50/p95/max of forwarded calls). Rendered as text here and as
 * HTML with charts in reportHtml.ts.
 */
import { callKey, type AuditRecord } from './query.js';

/** A label and a count. */
export interface Count {
  readonly label: string;
  readonly count: number;
}

/** Duration statistics of one tool, in ms. */
export interface ToolTiming {
  readonly tool: string;
  readonly calls: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

/** Everything the report shows. */
export interface AuditSummary {
  readonly from?: string;
  readonly to?: string;
  readonly records: number;
  readonly sessions: number;
  readonly calls: number;
  readonly callsPerServer: readonly Count[];
  readonly callsPerTool: readonly Count[];
  readonly decisions: readonly Count[];
  readonly decidedBy: readonly Count[];
  /** `decision by decided_by`, e.g. `deny by rule`. */
  readonly decisionsBy: readonly Count[];
  /** Allowed `ask` calls: `decided_by: who (scope)`. */
  readonly approvals: readonly Count[];
  /** `tool: reason`. */
  readonly denials: readonly Count[];
  readonly outcomes: readonly Count[];
  /** Results other than ok: `outcome: tool`. */
  readonly failures: readonly Count[];
  /** By p95, slowest first. */
  readonly slowest: readonly ToolTiming[];
}

class Counter {
  private readonly counts = new Map<string, number>();
  add(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }
  /** Largest first, then by label. */
  sorted(): Count[] {
    return [...this.counts].map(([label, count]) => ({ label, count })).sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

const APPROVERS = new Set(['user', 'auto_review']);

/** Summarises records (already filtered to the period). */
export function summarise(records: readonly AuditRecord[]): AuditSummary {
  const summary = new SummaryBuilder();
  for (const r of records) summary.add(r);
  return summary.result();
}

/** Builds the summary one record at a time: it keeps counts, ids of allowed calls and durations, never the records. */
export class SummaryBuilder {
  private readonly perServer = new Counter();
  private readonly perTool = new Counter();
  private readonly decisions = new Counter();
  private readonly decidedBy = new Counter();
  private readonly decisionsBy = new Counter();
  private readonly approvals = new Counter();
  private readonly denials = new Counter();
  private readonly outcomes = new Counter();
  private readonly failures = new Counter();
  private readonly allowed = new Set<string>();
  private readonly durations = new Map<string, number[]>();
  private readonly sessions = new Set<string>();
  private calls = 0;
  private records = 0;
  private first: unknown;
  private last: unknown;

  /** Counts one record (in log order). */
  add(r: AuditRecord): void {
    if (this.records++ === 0) this.first = r.time;
    this.last = r.time;
    if (typeof r.session === 'string') this.sessions.add(r.session);
    if (r.event === 'mcpgate.tool.decision') {
      this.calls++;
      const tool = String(r.public_name);
      this.perServer.add(String(r.server) || '(unknown tool)');
      this.perTool.add(tool);
      this.decisions.add(String(r.decision));
      this.decidedBy.add(String(r.decided_by));
      this.decisionsBy.add(`${r.decision} by ${r.decided_by}`);
      if (r.decision === 'allow') this.allowed.add(callKey(r));
      if (r.decision === 'allow' && APPROVERS.has(String(r.decided_by))) {
        // decided_by says who (a person, the auto-reviewer), approval_channel how it was asked,
        // subject whose session it was (authenticated HTTP clients).
        const via = typeof r.approval_channel === 'string' ? ` via ${r.approval_channel}` : '';
        const who = typeof r.subject === 'string' ? `: ${r.subject}` : '';
        this.approvals.add(`${r.decided_by}${via}${who}${r.scope ? ` (${r.scope})` : ''}`);
      }
      if (r.decision !== 'allow') this.denials.add(`${tool}: ${r.reason}`);
    } else if (r.event === 'mcpgate.tool.result') {
      const tool = String(r.public_name);
      this.outcomes.add(String(r.outcome));
      if (r.outcome !== 'ok') this.failures.add(`${r.outcome}: ${tool}`);
      if (this.allowed.has(callKey(r)) && typeof r.duration_ms === 'number') {
        const list = this.durations.get(tool);
        if (list) list.push(r.duration_ms);
        else this.durations.set(tool, [r.duration_ms]);
      }
    }
  }

  /** The summary of the records added so far. */
  result(): AuditSummary {
    const slowest = [...this.durations].map(([tool, values]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return { tool, calls: sorted.length, p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), max: sorted[sorted.length - 1] as number };
    });
    slowest.sort((a, b) => b.p95 - a.p95 || b.max - a.max || a.tool.localeCompare(b.tool));
    const { first, last } = this;
    return {
      ...(typeof first === 'string' ? { from: first } : {}),
      ...(typeof last === 'string' ? { to: last } : {}),
      records: this.records,
      sessions: this.sessions.size,
      calls: this.calls,
      callsPerServer: this.perServer.sorted(),
      callsPerTool: this.perTool.sorted(),
      decisions: this.decisions.sorted(),
      decidedBy: this.decidedBy.sorted(),
      decisionsBy: this.decisionsBy.sorted(),
      approvals: this.approvals.sorted(),
      denials: this.denials.sorted(),
      outcomes: this.outcomes.sorted(),
      failures: this.failures.sorted(),
      slowest,
    };
  }
}

function section(title: string, rows: readonly Count[]): string {
  if (rows.length === 0) return `${title}\n  (none)\n`;
  // Not Math.max(...rows): a spread of 100k+ rows (e.g. distinct unknown tool names) overflows the stack.
  const width = rows.reduce((max, r) => Math.max(max, String(r.count).length), 0);
  return `${title}\n${rows.map((r) => `  ${String(r.count).padStart(width)}  ${r.label}`).join('\n')}\n`;
}

/** The summary as plain text. */
export function formatSummary(summary: AuditSummary): string {
  const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`;
  const timing =
    summary.slowest.length === 0
      ? 'Slowest tools (forwarded calls)\n  (none)\n'
      : `Slowest tools (forwarded calls)\n  ${'tool'.padEnd(40)} ${'calls'.padStart(6)} ${'p50'.padStart(10)} ${'p95'.padStart(10)} ${'max'.padStart(10)}\n${summary.slowest
          .map((t) => `  ${t.tool.padEnd(40)} ${String(t.calls).padStart(6)} ${ms(t.p50).padStart(10)} ${ms(t.p95).padStart(10)} ${ms(t.max).padStart(10)}`)
          .join('\n')}\n`;
  return [
    `mcpgate audit report: ${summary.from ?? '-'} .. ${summary.to ?? '-'}`,
    `${summary.records} records, ${summary.sessions} session(s), ${summary.calls} tool call(s)\n`,
    section('Calls per server', summary.callsPerServer),
    section('Calls per tool', summary.callsPerTool),
    section('Decisions', summary.decisions),
    section('Decisions by who decided', summary.decisionsBy),
    section('Approvals (ask answered allow)', summary.approvals),
    section('Denials with reasons', summary.denials),
    section('Outcomes', summary.outcomes),
    section('Failures by outcome', summary.failures),
    timing,
  ].join('\n');
}
