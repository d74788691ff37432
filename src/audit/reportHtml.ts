/**
 * The audit report as one self-contained HTML file: inline CSS and inline SVG charts drawn here,
 * no script, no external asset. A Content-Security-Policy of `default-src 'none'` makes any
 * attempt to load something from elsewhere fail loudly in the browser console.
 */
import { printableSummary, type AuditSummary, type Count } from './report.js';

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

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML/SVG content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => escapes[c] as string);
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

/** The summary as a complete, self-contained HTML document (log text made printable, then HTML-escaped). */
export function renderHtml(raw: AuditSummary, generated = new Date().toISOString()): string {
  const summary = printableSummary(raw);
  const decisions = summary.decisions.map((d) => ({ label: d.label, values: [d.count], ...(DECISION_COLORS[d.label] ? { color: DECISION_COLORS[d.label] } : {}) }));
  const timing = summary.slowest.map((t) => ({ label: t.tool, values: [t.p50, t.p95, t.max] }));
  const body = [
    `<h1>mcpgate audit report</h1>`,
    `<p class="period">${escapeHtml(summary.from ?? '-')} — ${escapeHtml(summary.to ?? '-')} · generated ${escapeHtml(generated)}</p>`,
    `<ul class="totals"><li><b data-total="records">${summary.records}</b> records</li><li><b data-total="sessions">${summary.sessions}</b> sessions</li><li><b data-total="calls">${summary.calls}</b> tool calls</li></ul>`,
    `<h2>Usage</h2>`,
    barChart('calls-per-server', 'Calls per server', counts(summary.callsPerServer), ONE),
    barChart('calls-per-tool', 'Calls per tool', counts(summary.callsPerTool), ONE),
    `<h2>Decisions</h2>`,
    barChart('decisions', 'Decisions', decisions, ONE),
    barChart('decided-by', 'Decisions by who decided', counts(summary.decisionsBy), [{ name: 'count', color: '#6a5acd' }]),
    table('Approvals (ask answered allow)', ['count', 'approved by'], summary.approvals.map((a) => [a.count, a.label])),
    table('Denials with reasons', ['count', 'tool: reason'], summary.denials.map((d) => [d.count, d.label])),
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
table { border-collapse: collapse; margin: .5em 0; } th, td { border: 1px solid #d5d8dc; padding: 3px 8px; text-align: left; }
.empty { color: #808b96; font-style: italic; }
</style>
</head>
<body>
${body}
</body>
</html>
`;
}
