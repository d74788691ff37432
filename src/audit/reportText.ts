/**
 * `mcpgate audit report` as text: the summary of src/audit/report.ts rendered for a terminal,
 * every text that came from the log made printable first (reportHtml.ts renders the same summary
 * as a page).
 */
import { printable } from '../printable.js';
import type { AuditSummary, Count, NetworkSummary } from './report.js';

function section(title: string, rows: readonly Count[]): string {
  if (rows.length === 0) return `${title}\n  (none)\n`;
  // Not Math.max(...rows): a spread of 100k+ rows (e.g. distinct unknown tool names) overflows the stack.
  const width = rows.reduce((max, r) => Math.max(max, String(r.count).length), 0);
  return `${title}\n${rows.map((r) => `  ${String(r.count).padStart(width)}  ${r.label}`).join('\n')}\n`;
}

/**
 * The summary with every text that came from the log (tool names, reasons, who approved, times)
 * made printable: an agent or an upstream chose much of it, and a terminal or a page must not
 * obey its control, bidi or invisible characters.
 */
export function printableSummary(summary: AuditSummary): AuditSummary {
  const counts = (rows: readonly Count[]) => rows.map((r) => ({ ...r, label: printable(r.label) }));
  return {
    ...summary,
    ...(summary.from === undefined ? {} : { from: printable(summary.from) }),
    ...(summary.to === undefined ? {} : { to: printable(summary.to) }),
    callsPerServer: counts(summary.callsPerServer),
    callsPerTool: counts(summary.callsPerTool),
    decisions: counts(summary.decisions),
    decidedBy: counts(summary.decidedBy),
    decisionsBy: counts(summary.decisionsBy),
    approvals: counts(summary.approvals),
    denials: counts(summary.denials),
    outcomes: counts(summary.outcomes),
    failures: counts(summary.failures),
    slowest: summary.slowest.map((t) => ({ ...t, tool: printable(t.tool) })),
    clients: counts(summary.clients),
    subjects: counts(summary.subjects),
    configs: summary.configs.map((c) => ({ ...c, digest: printable(c.digest), first: printable(c.first), last: printable(c.last) })),
    denialList: summary.denialList.map((d) => ({
      ...d,
      time: printable(d.time),
      session: printable(d.session),
      tool: printable(d.tool),
      reason: printable(d.reason),
      decided: printable(d.decided),
      ...(d.client === undefined ? {} : { client: printable(d.client) }),
      ...(d.subject === undefined ? {} : { subject: printable(d.subject) }),
    })),
    network: {
      ...summary.network,
      topHosts: summary.network.topHosts.map((h) => ({ ...h, host: printable(h.host) })),
      blocked: counts(summary.network.blocked),
      asked: counts(summary.network.asked),
    },
  };
}

/** Each denial as a line: time, session, client, tool, reason, who decided. */
function denialLines(summary: AuditSummary): string {
  if (summary.denialTotal === 0) return 'Each denial\n  (none)\n';
  const lines = summary.denialList.map((d) => `  ${d.time}  session ${d.session.slice(0, 8)}${d.client ? ` (${d.client}${d.subject ? `, ${d.subject}` : ''})` : ''}  ${d.tool}: ${d.reason} [${d.decided}]`);
  const more = summary.denialTotal - summary.denialList.length;
  return `Each denial\n${lines.join('\n')}\n${more > 0 ? `  … and ${more} more\n` : ''}`;
}

/** The summary as plain text (control and invisible characters escaped), after the log's integrity (what verify says) when it was checked. */
export function formatSummary(raw: AuditSummary, integrity?: { readonly text: string }): string {
  const summary = printableSummary(raw);
  const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`;
  const timing =
    summary.slowest.length === 0
      ? 'Slowest tools (forwarded calls)\n  (none)\n'
      : `Slowest tools (forwarded calls)\n  ${'tool'.padEnd(40)} ${'calls'.padStart(6)} ${'p50'.padStart(10)} ${'p95'.padStart(10)} ${'max'.padStart(10)}\n${summary.slowest
          .map((t) => `  ${t.tool.padEnd(40)} ${String(t.calls).padStart(6)} ${ms(t.p50).padStart(10)} ${ms(t.p95).padStart(10)} ${ms(t.max).padStart(10)}`)
          .join('\n')}\n`;
  return [
    `mcpgate audit report: ${summary.from ?? '-'} .. ${summary.to ?? '-'}`,
    ...(integrity ? [`Integrity (mcpgate audit verify): ${integrity.text}\n`] : []),
    `${summary.records} records, ${summary.sessions} session(s), ${summary.calls} tool call(s)\n`,
    section('Sessions by client', summary.clients),
    section('Sessions by authenticated subject', summary.subjects),
    section('Configurations in force (sessions)', summary.configs.map((c) => ({ label: `${c.digest} (${c.first} .. ${c.last})`, count: c.sessions }))),
    section('Calls per server', summary.callsPerServer),
    section('Calls per tool', summary.callsPerTool),
    section('Decisions', summary.decisions),
    section('Decisions by who decided', summary.decisionsBy),
    section('Approvals (calls that asked, and were allowed)', summary.approvals),
    section('Denials with reasons', summary.denials),
    section('Outcomes', summary.outcomes),
    section('Failures by outcome', summary.failures),
    denialLines(summary),
    timing,
    networkSection(summary.network),
  ].join('\n');
}

function networkSection(network: NetworkSummary): string {
  const hosts =
    network.topHosts.length === 0
      ? '  (none)\n'
      : `  ${'host'.padEnd(40)} ${'decisions'.padStart(9)} ${'denied'.padStart(7)} ${'bytes up'.padStart(12)} ${'bytes down'.padStart(12)}\n${network.topHosts
          .map((h) => `  ${h.host.padEnd(40)} ${String(h.connections).padStart(9)} ${String(h.denied).padStart(7)} ${String(h.bytes_up).padStart(12)} ${String(h.bytes_down).padStart(12)}`)
          .join('\n')}\n`;
  return [
    `Network (egress proxy): ${network.decisions} decision(s), ${network.allowed} allowed, ${network.denied} denied; ${network.bytes_up} bytes up, ${network.bytes_down} bytes down`,
    `Top hosts\n${hosts}`,
    section('Blocked connections', network.blocked),
    section('Asked connections', network.asked),
  ].join('\n');
}
