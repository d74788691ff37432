/**
 * The console's pages, rendered on the server: the live overview (pending approvals with their
 * full context and the answer form, health, upstreams, sessions) and the audit tail. Every value
 * goes through `html` (escaped, invisible characters shown); no inline script or style (the CSP
 * forbids both): the behaviour is in assets.ts, served from the console's own origin.
 */
import type { PendingApproval } from '../../approval/queue.js';
import type { AuditRecord } from '../../audit/query.js';
import { recordDetail, recordTarget } from '../../audit/query.js';
import type { UpstreamStatus } from '../../health/report.js';
import type { GatewayStatus, SessionStatus } from '../status.js';
import { html, json, type Html } from './html.js';

/** A full page: the shared header, `main`, the stylesheet and the script. */
export function page(title: string, main: Html, options: { csrf?: string; flash?: string; nav?: 'overview' | 'audit' } = {}): string {
  const nav = options.csrf
    ? html`<nav><a href="/console/" ${options.nav === 'overview' ? html`aria-current="page"` : ''}>Overview</a> <a href="/console/audit" ${options.nav === 'audit' ? html`aria-current="page"` : ''}>Audit log</a>
<form method="post" action="/console/logout" class="inline"><input type="hidden" name="csrf" value="${options.csrf}"><button>Log out</button></form></nav>`
    : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin"><link rel="icon" href="/console/assets/favicon.svg" type="image/svg+xml">
<title>${title} · mcpgate</title><link rel="stylesheet" href="/console/assets/console.css"><script src="/console/assets/console.js" defer></script></head>
<body><header><h1>mcpgate</h1>${nav}<span id="live" class="live" hidden>live</span></header>
${options.flash ? html`<p class="flash" role="status">${options.flash}</p>` : ''}
<main>${main}</main></body></html>
`.markup;
}

/** The overview: health, pending approvals, upstreams, sessions; each section refreshed live by id. */
export function overview(status: GatewayStatus, csrf: string): Html {
  return html`<section id="health" data-live>${healthSection(status)}</section>
<h2>Pending approvals</h2>
<section id="approvals" data-live data-keyed>${approvalsSection(status.approvals, csrf)}</section>
<h2>Upstream servers</h2>
<section id="upstreams" data-live>${upstreamsSection(status.upstreams)}</section>
<h2>Sessions</h2>
<section id="sessions" data-live>${sessionsSection(status.sessions)}</section>`;
}

/** Each live section's inner HTML, for the SSE feed. */
export function liveSections(status: GatewayStatus, csrf: string): Record<string, string> {
  return {
    health: healthSection(status).markup,
    approvals: approvalsSection(status.approvals, csrf).markup,
    upstreams: upstreamsSection(status.upstreams).markup,
    sessions: sessionsSection(status.sessions).markup,
  };
}

function healthSection(status: GatewayStatus): Html {
  const degraded = Object.entries(status.health.degraded);
  return html`<p class="health ${status.health.status}">Gateway pid ${status.pid} (${status.transport}), config <code>${status.config}</code>:
<strong>${status.health.status}</strong>${status.health.ready ? '' : html`, <strong>not ready</strong> (${status.health.not_ready})`}${
    degraded.length ? html`: ${degraded.map(([server, why], i) => html`${i ? '; ' : ''}<b>${server}</b> ${why}`)}` : ''
  }</p>`;
}

/** The pending approvals, one `article` each, keyed by id (the live update keeps a form being filled in). */
export function approvalsSection(approvals: readonly PendingApproval[], csrf: string): Html {
  if (approvals.length === 0) return html`<p class="empty">Nothing is waiting for approval.</p>`;
  return html`${approvals.map((a) => approvalArticle(a, csrf))}`;
}

function approvalArticle(a: PendingApproval, csrf: string): Html {
  const network = a.kind === 'network';
  const title = network ? html`${a.server} → <span class="destination">${a.destination ?? '?'}</span> <span class="kind">network</span>` : html`${a.server} / ${a.tool} <span class="kind">${a.public_name}</span>`;
  const rows: Array<[string, Html | string]> = [
    ['Client', a.client || '-'],
    ['Session', a.session || '(none: no call in flight)'],
    ['Asked because', a.rule],
    ...(a.review ? ([['Auto-reviewer', a.review]] as Array<[string, string]>) : []),
    ...(network ? ([['During', a.public_name || '(no call in flight)']] as Array<[string, string]>) : ([['Arguments', html`<code>${a.arguments}</code>`]] as Array<[string, Html]>)),
  ];
  const full =
    !network && a.arguments_full !== undefined
      ? html`<details ${a.arguments_cut ? 'open' : ''}><summary>All arguments (secrets redacted)${a.arguments_truncated ? ', long strings cut to fit 4 MiB' : ''}</summary><pre>${json(a.arguments_full)}</pre></details>`
      : '';
  return html`<article class="approval" data-key="${a.id}" id="approval-${a.id}">
<h3>${title}</h3><p class="meta">id <code>${a.id}</code>, waiting since <time datetime="${a.created_at}">${a.created_at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time></p>
<dl>${rows.map(([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>`)}</dl>${full}
<form method="post" action="/console/approvals/${a.id}" class="answer">
<input type="hidden" name="csrf" value="${csrf}">
<button name="decision" value="allow-once">Approve once</button>
<button name="decision" value="allow-session">Approve for this session</button>
<button name="decision" value="allow-always">Always allow</button>
<label>Reason <input name="reason" maxlength="1000" placeholder="shown to the agent"></label>
<button name="decision" value="deny" class="deny">Deny</button>
</form></article>`;
}

function upstreamsSection(upstreams: readonly UpstreamStatus[]): Html {
  if (upstreams.length === 0) return html`<p class="empty">No upstream server is enabled.</p>`;
  return html`<table><thead><tr><th>Server</th><th>State</th><th>Restarts</th><th>Sandbox</th><th>Tools</th><th>Last error</th></tr></thead><tbody>${upstreams.map(
    (u) => html`<tr data-server="${u.name}"><td>${u.name} <small>${u.transport}</small></td><td class="state ${u.state}">${u.state}</td><td>${u.restarts}${u.recent_restarts ? html` <small>(${u.recent_restarts} recent)</small>` : ''}</td>
<td>${u.sandbox ?? '-'}${u.unconfined ? html` <strong class="unconfined">UNCONFINED</strong> <small>${u.unconfined_reason}</small>` : ''}</td><td>${u.tools}</td><td>${u.last_error ?? ''}</td></tr>`,
  )}</tbody></table>`;
}

function sessionsSection(sessions: readonly SessionStatus[]): Html {
  if (sessions.length === 0) return html`<p class="empty">No client is connected.</p>`;
  return html`<table><thead><tr><th>Session</th><th>Client</th><th>Subject</th><th>Transport</th><th>Since</th><th>Calls</th></tr></thead><tbody>${sessions.map(
    (s) => html`<tr><td><code>${s.id}</code></td><td>${s.client ?? '-'}</td><td>${s.subject ?? '-'}</td><td>${s.transport}</td><td>${s.started_at}</td><td>${s.calls}</td></tr>`,
  )}</tbody></table>`;
}

/** The audit filters as the form shows them. */
export interface AuditForm {
  readonly values: Readonly<Record<string, string>>;
  readonly error?: string;
  readonly file: string;
}

const FILTERS: ReadonlyArray<[string, string]> = [
  ['server', 'server (glob)'],
  ['tool', 'tool (glob)'],
  ['session', 'session (prefix)'],
  ['client', 'client (glob)'],
  ['decision', 'allow | ask | deny'],
  ['outcome', 'ok | tool_error | …'],
  ['event', 'tool, network, session…'],
  ['since', '15m, 2h, ISO time'],
];

/** The audit tail: the filter form, then the matching records, newest last. */
export function auditPage(records: readonly AuditRecord[], form: AuditForm): Html {
  const inputs = FILTERS.map(([name, hint]) => html`<label>${name} <input name="${name}" value="${form.values[name] ?? ''}" placeholder="${hint}" maxlength="200"></label>`);
  const table = records.length
    ? html`<table class="audit"><thead><tr><th>Time</th><th>Seq</th><th>Event</th><th>Session</th><th>Target</th><th>Detail</th></tr></thead><tbody>${records.map(
        (r) =>
          html`<tr><td>${String(r.time ?? '')}</td><td>${typeof r.chain === 'number' ? `${r.chain}:` : ''}${String(r.seq ?? '')}</td><td>${r.event.replace(/^mcpgate\./, '')}</td><td><code>${String(r.session ?? '').slice(0, 8)}</code></td><td>${recordTarget(r)}</td><td>${recordDetail(r)}</td></tr>`,
      )}</tbody></table>`
    : html`<p class="empty">No record matches.</p>`;
  return html`<h2>Audit log</h2><p class="meta"><code>${form.file}</code>: the last ${form.values.limit ?? '100'} matching records, oldest first</p>
<form method="get" action="/console/audit" class="filters">${inputs}<label>limit <input name="limit" value="${form.values.limit ?? '100'}" size="4" maxlength="4"></label><button>Filter</button></form>
${form.error ? html`<p class="error" role="alert">${form.error}</p>` : ''}${table}`;
}

/** The page shown without a valid session. */
export function loginNeeded(reason: string): string {
  return page(
    'Log in',
    html`<h2>Log in</h2><p>${reason}</p><p>Run <code>mcpgate console --config DIR</code> as the user running the gateway: it prints a one-time login link (valid for a minute).</p>`,
  );
}

/** A refused form. */
export function refused(reason: string): string {
  return page('Refused', html`<h2>Refused</h2><p>${reason}</p><p><a href="/console/">Back to the console</a></p>`);
}
