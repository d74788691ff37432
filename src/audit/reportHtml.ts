/**
 * The audit report as one self-contained HTML file: inline CSS and inline SVG charts drawn here,
 * no script, no external asset. A Content-Security-Policy of `default-src 'none'` makes any
 * attempt to load something from elsewhere fail loudly in the browser console.
 */
import type { AuditSummary, Count, Timeline } from './report.js';
import { printableSummary } from './reportText.js';
import type { Integrity } from './verifyChains.js';
import { escapeHtml } from '../escapeHtml.js';

interface Series {
  readonly name: string;
  readonly color: string;
}

interface Row {
  readonly label: string;
  readonly values: readonly number[];
  /** Overrides the series colour (single-series charts). */
  readonly color?: string;
}


const LABEL = 230;
const WIDTH = 720;
const BAR = 16;

function clip(label: string): string {
  return label.length > 34 ? `${label.slice(0, 33)}…` : label;
}

/** A horizontal bar chart (one bar per series per row) as an inline SVG element. */
function barChart(id: string, title: string, rows: readonly Row[], series: readonly Series[], unit = ''): string {
  if (rows.length === 0) return `<p class="empty" data-chart="${id}">No data for “${escapeHtml(title)}”.</p>`;
  const max = rows.reduce((m, r) => r.values.reduce((n, v) => Math.max(n, v), m), 1);
  const group = BAR * series.length + 10;
  const legend = series.length > 1 ? 24 : 0;
  const height = legend + rows.length * group + 10;
  const span = WIDTH - LABEL - 90;
  const parts: string[] = [];
  series.forEach((s, i) => {
    if (series.length > 1) parts.push(`<rect x="${LABEL + i * 90}" y="4" width="12" height="12" fill="${s.color}"/><text x="${LABEL + i * 90 + 16}" y="14">${escapeHtml(s.name)}</text>`);
  });
  rows.forEach((row, r) => {
    const top = legend + r * group + 5;
    parts.push(`<text class="label" x="${LABEL - 8}" y="${top + (group - 10) / 2 + 4}" text-anchor="end"><title>${escapeHtml(row.label)}</title>${escapeHtml(clip(row.label))}</text>`);
    row.values.forEach((value, i) => {
      const y = top + i * BAR;
      const w = Math.max(1, Math.round((value / max) * span));
      const s = series[i] as Series;
      const shown = Number.isInteger(value) ? String(value) : value.toFixed(1);
      parts.push(`<rect class="bar" x="${LABEL}" y="${y}" width="${w}" height="${BAR - 3}" fill="${row.color ?? s.color}"><title>${escapeHtml(`${row.label} ${s.name}: ${shown}${unit}`)}</title></rect>`);
      parts.push(`<text x="${LABEL + w + 4}" y="${y + BAR - 5}">${shown}${escapeHtml(unit)}</text>`);
    });
  });
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg class="chart" data-chart="${id}" role="img" aria-label="${escapeHtml(title)}" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">${parts.join('')}</svg></figure>`;
}

const ONE: readonly Series[] = [{ name: 'count', color: '#3b6fb6' }];
const DECISION_COLORS: Record<string, string> = { allow: '#2e8b57', ask: '#d9a400', deny: '#c0392b' };

function counts(rows: readonly Count[]): Row[] {
  return rows.map((r) => ({ label: r.label, values: [r.count] }));
}

function table(title: string, head: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  if (rows.length === 0) return `<h3>${escapeHtml(title)}</h3><p class="empty">None.</p>`;
  const cells = (row: readonly (string | number)[], tag: string) => `<tr>${row.map((c) => `<${tag}>${escapeHtml(String(c))}</${tag}>`).join('')}</tr>`;
  return `<h3>${escapeHtml(title)}</h3><table>${cells(head, 'th')}${rows.map((r) => cells(r, 'td')).join('')}</table>`;
}

/** Calls per time bucket as stacked columns (allowed below, denied on top) in an inline SVG. */
function timelineChart(timeline: Timeline): string {
  const title = 'Tool calls over time';
  if (timeline.buckets.length === 0 || timeline.start === undefined) return `<p class="empty" data-chart="timeline">No data for “${title}”.</p>`;
  const left = 40;
  const height = 180;
  const plot = height - 40;
  const width = WIDTH - left - 10;
  const step = width / timeline.buckets.length;
  const max = timeline.buckets.reduce((m, b) => Math.max(m, b.allowed + b.denied), 1);
  const start = Date.parse(timeline.start);
  const when = (i: number) => new Date(start + i * timeline.bucketMs).toISOString().replace('T', ' ').slice(0, 16);
  const parts: string[] = [`<text x="${left - 6}" y="14" text-anchor="end">${max}</text><text x="${left - 6}" y="${plot + 4}" text-anchor="end">0</text>`];
  timeline.buckets.forEach((b, i) => {
    const x = (left + i * step).toFixed(1);
    const w = Math.max(1, step - 2).toFixed(1);
    const hAllowed = (b.allowed / max) * (plot - 10);
    const hDenied = (b.denied / max) * (plot - 10);
    const tip = `${when(i)} UTC: ${b.allowed} allowed, ${b.denied} denied`;
    if (b.allowed > 0) parts.push(`<rect class="col" x="${x}" y="${(plot - hAllowed).toFixed(1)}" width="${w}" height="${hAllowed.toFixed(1)}" fill="${DECISION_COLORS.allow}"><title>${escapeHtml(tip)}</title></rect>`);
    if (b.denied > 0) parts.push(`<rect class="col" x="${x}" y="${(plot - hAllowed - hDenied).toFixed(1)}" width="${w}" height="${hDenied.toFixed(1)}" fill="${DECISION_COLORS.deny}"><title>${escapeHtml(tip)}</title></rect>`);
  });
  const last = timeline.buckets.length - 1;
  parts.push(`<text x="${left}" y="${plot + 18}">${escapeHtml(when(0))}</text><text x="${left + width}" y="${plot + 18}" text-anchor="end">${escapeHtml(when(last + 1))} UTC</text>`);
  parts.push(`<rect x="${left}" y="${plot + 26}" width="12" height="10" fill="${DECISION_COLORS.allow}"/><text x="${left + 16}" y="${plot + 35}">allowed</text><rect x="${left + 90}" y="${plot + 26}" width="12" height="10" fill="${DECISION_COLORS.deny}"/><text x="${left + 106}" y="${plot + 35}">denied</text>`);
  const per = timeline.bucketMs >= 86_400_000 ? `${timeline.bucketMs / 86_400_000} d` : timeline.bucketMs >= 3_600_000 ? `${timeline.bucketMs / 3_600_000} h` : `${timeline.bucketMs / 60_000} min`;
  return `<figure><figcaption>${title} (per ${per})</figcaption><svg class="chart" data-chart="timeline" role="img" aria-label="${title}" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">${parts.join('')}</svg></figure>`;
}

const INTEGRITY_WORDS: Record<Integrity['state'], string> = {
  intact: 'Intact: the hash chain verifies from start to end',
  gaps: 'Intact except gaps the writer explained (records it had to drop)',
  broken: 'NOT intact: the log was changed, or damaged, after it was written',
};

/** The integrity banner: what `mcpgate audit verify` says, at the top. */
function integrityBanner(integrity: Integrity | undefined): string {
  if (!integrity) return '<section class="integrity unknown" data-integrity="unknown"><p>Integrity not checked.</p></section>';
  return `<section class="integrity ${integrity.state}" data-integrity="${integrity.state}"><h2>${escapeHtml(INTEGRITY_WORDS[integrity.state])}</h2><pre>${escapeHtml(integrity.text)}</pre></section>`;
}

/** The summary as a complete, self-contained HTML document, under the log's integrity (log text made printable, then HTML-escaped). */
export function renderHtml(raw: AuditSummary, integrity?: Integrity, generated = new Date().toISOString()): string {
  const summary = printableSummary(raw);
  const decisions = summary.decisions.map((d) => ({ label: d.label, values: [d.count], ...(DECISION_COLORS[d.label] ? { color: DECISION_COLORS[d.label] } : {}) }));
  const timing = summary.slowest.map((t) => ({ label: t.tool, values: [t.p50, t.p95, t.max] }));
  const body = [
    `<h1>mcpgate audit report</h1>`,
    `<p class="period">${escapeHtml(summary.from ?? '-')} — ${escapeHtml(summary.to ?? '-')} · generated ${escapeHtml(generated)}</p>`,
    integrityBanner(integrity),
    `<ul class="totals"><li><b data-total="records">${summary.records}</b> records</li><li><b data-total="sessions">${summary.sessions}</b> sessions</li><li><b data-total="calls">${summary.calls}</b> tool calls</li></ul>`,
    `<h2>Who</h2>`,
    table('Sessions by client', ['sessions', 'client (as it introduced itself)'], summary.clients.map((c) => [c.count, c.label])),
    table('Sessions by authenticated subject', ['sessions', 'subject'], summary.subjects.map((c) => [c.count, c.label])),
    table('Configuration in force', ['configuration digest', 'sessions', 'first', 'last'], summary.configs.map((c) => [c.digest, c.sessions, c.first, c.last])),
    `<h2>Activity</h2>`,
    timelineChart(summary.timeline),
    `<h2>Usage</h2>`,
    barChart('calls-per-server', 'Calls per server', counts(summary.callsPerServer), ONE),
    barChart('calls-per-tool', 'Calls per tool', counts(summary.callsPerTool), ONE),
    `<h2>Decisions</h2>`,
    barChart('decisions', 'Decisions', decisions, ONE),
    barChart('decided-by', 'Decisions by who decided', counts(summary.decisionsBy), [{ name: 'count', color: '#6a5acd' }]),
    table('Approvals (calls that asked, and were allowed)', ['count', 'how'], summary.approvals.map((a) => [a.count, a.label])),
    table('Denials with reasons', ['count', 'tool: reason'], summary.denials.map((d) => [d.count, d.label])),
    table(
      `Each denial${summary.denialTotal > summary.denialList.length ? ` (the first ${summary.denialList.length} of ${summary.denialTotal})` : ''}`,
      ['time (UTC)', 'session', 'client', 'tool', 'reason', 'decided'],
      summary.denialList.map((d) => [d.time.replace('T', ' ').replace(/\.\d+Z$/, ''), d.session.slice(0, 8), `${d.client ?? ''}${d.subject ? ` (${d.subject})` : ''}`, d.tool, d.reason, d.decided]),
    ),
    `<h2>Outcomes</h2>`,
    barChart('outcomes', 'Results by outcome', counts(summary.outcomes), [{ name: 'count', color: '#4b8f8c' }]),
    table('Failures by outcome', ['count', 'outcome: tool'], summary.failures.map((f) => [f.count, f.label])),
    `<h2>Latency</h2>`,
    barChart('latency', 'Slowest tools (forwarded calls, ms)', timing, [
      { name: 'p50', color: '#7fb3d5' },
      { name: 'p95', color: '#2874a6' },
      { name: 'max', color: '#1b2631' },
    ], ' ms'),
    table('Slowest tools', ['tool', 'calls', 'p50 ms', 'p95 ms', 'max ms'], summary.slowest.map((t) => [t.tool, t.calls, t.p50, t.p95, t.max])),
    `<h2>Network</h2>`,
    `<ul class="totals"><li><b data-total="network-decisions">${summary.network.decisions}</b> connections</li><li><b data-total="network-denied">${summary.network.denied}</b> denied</li><li><b>${summary.network.bytes_up}</b> bytes up</li><li><b>${summary.network.bytes_down}</b> bytes down</li></ul>`,
    barChart('network-hosts', 'Top hosts (connections allowed / denied)', summary.network.topHosts.map((h) => ({ label: h.host, values: [h.connections - h.denied, h.denied] })), [
      { name: 'allowed', color: DECISION_COLORS.allow as string },
      { name: 'denied', color: DECISION_COLORS.deny as string },
    ]),
    table('Top hosts', ['host', 'connections', 'denied', 'bytes up', 'bytes down'], summary.network.topHosts.map((h) => [h.host, h.connections, h.denied, h.bytes_up, h.bytes_down])),
    table('Blocked connections', ['count', 'server → host: reason'], summary.network.blocked.map((b) => [b.count, b.label])),
    table('Asked connections', ['count', 'server → host: answer'], summary.network.asked.map((a) => [a.count, a.label])),
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mcpgate audit report</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 820px; color: #1b2631; }
h1 { font-size: 1.6em; margin-bottom: 0; } h2 { border-bottom: 1px solid #d5d8dc; margin-top: 2em; }
.period { color: #566573; } .totals { display: flex; gap: 2em; list-style: none; padding: 0; font-size: 1.1em; }
figure { margin: 1em 0; } figcaption { font-weight: 600; margin-bottom: .3em; }
svg.chart text { font: 12px system-ui, sans-serif; fill: #1b2631; }
table { border-collapse: collapse; margin: .5em 0; } th, td { border: 1px solid #d5d8dc; padding: 3px 8px; text-align: left; } td { overflow-wrap: anywhere; }
.empty { color: #808b96; font-style: italic; }
.integrity { border: 2px solid; border-radius: 6px; padding: 0 1em; margin: 1em 0; } .integrity h2 { border: 0; margin: .6em 0 .2em; font-size: 1.2em; }
.integrity pre { white-space: pre-wrap; font-size: 12px; } .intact { border-color: #2e8b57; background: #eef8f1; } .gaps { border-color: #d9a400; background: #fdf7e3; }
.broken { border-color: #c0392b; background: #fbeceb; } .unknown { border-color: #808b96; }
</style>
</head>
<body>
${body}
</body>
</html>
`;
}
