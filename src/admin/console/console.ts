/**
 * The web console on the admin endpoint (`/console/`): pending approvals answered by a person
 * (approve once / for the session / always, or deny with a reason), upstream health, sessions,
 * the audit tail, live over SSE. Every request passes the endpoint's Host check first; here:
 * a request from another origin is refused (`Origin`, and `Sec-Fetch-Site` where the browser
 * sends it), every page but the login and the static assets needs the session cookie
 * (consoleAuth.ts), every POST needs the same origin and the session's CSRF token, and every
 * response carries a strict CSP (scripts and styles from this origin only, nothing inline).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { QueueAnswerSchema, type ApprovalQueue, type QueueAnswer } from '../../approval/queue.js';
import { messageOf } from '../../errors.js';
import type { Logger } from '../../telemetry/logger.js';
import { readBody } from '../body.js';
import type { GatewayStatus } from '../status.js';
import { FAVICON, SCRIPT, STYLE } from './assets.js';
import { auditQuery, auditTail } from './auditTail.js';
import { clearedCookie, ConsoleAuth, csrfMatches, sessionCookie, type ConsoleSession } from './consoleAuth.js';
import { ConsoleFeed, type ChangeSource } from './feed.js';
import { auditPage, liveSections, loginNeeded, overview, page, refused } from './pages.js';

/** What the console shows and answers. */
export interface ConsoleOptions {
  readonly status: () => GatewayStatus;
  readonly queue: ApprovalQueue;
  /** What else changes the live sections (upstream states, sessions), besides the queue. */
  readonly changes: readonly ChangeSource[];
  /** The audit log (audit.file); absent: the gateway writes none. */
  readonly auditFile?: string;
  readonly logger: Logger;
}

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // Not no-referrer: with it, Chromium sends `Origin: null` on the console's own form posts, which the origin check must refuse.
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};
const MAX_FORM = 8 * 1024;
const ANSWERS: Readonly<Record<string, QueueAnswer>> = {
  'allow-once': { decision: 'allow', scope: 'once' },
  'allow-session': { decision: 'allow', scope: 'session' },
  'allow-always': { decision: 'allow', scope: 'always' },
};

/** Serves `/console/…` of the admin endpoint. */
export class AdminConsole {
  /** Login codes and browser sessions. */
  readonly auth = new ConsoleAuth();
  private readonly feed: ConsoleFeed;

  constructor(private readonly options: ConsoleOptions) {
    const queueChanges: ChangeSource = (listener) => options.queue.subscribe(listener);
    this.feed = new ConsoleFeed([queueChanges, ...options.changes], (session) => (this.auth.live(session) ? liveSections(options.status(), session.csrf) : undefined));
  }

  /** Ends the live streams (the endpoint is closing). */
  close(): void {
    this.feed.closeAll();
  }

  /** Answers one request under `/console`; `origin` is the endpoint's own (`http://127.0.0.1:PORT`). */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, origin: string): void {
    const fetchSite = req.headers['sec-fetch-site'];
    const sameOrigin = req.headers.origin === undefined || req.headers.origin === origin;
    // A login link is opened from a terminal or another app: the only cross-site request served.
    const crossSiteOk = req.method === 'GET' && url.pathname === '/console/login';
    if (!sameOrigin || (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none' && !crossSiteOk)) {
      return text(res, 403, 'forbidden: the console answers its own pages only');
    }
    if (req.method === 'GET' && url.pathname.startsWith('/console/assets/')) return this.asset(res, url.pathname);
    if (req.method === 'GET' && url.pathname === '/console/login') return this.login(res, url);
    const session = this.auth.session(req.headers.cookie);
    if (!session) {
      if (req.method === 'GET' && url.pathname !== '/console/events') return send(res, 401, loginNeeded('You are not logged in, or your console session ended.'));
      return text(res, 401, 'not logged in');
    }
    if (req.method === 'GET') {
      if (url.pathname === '/console' || url.pathname === '/console/') return this.overview(res, session);
      if (url.pathname === '/console/audit') return void this.audit(res, session, url);
      if (url.pathname === '/console/events') {
        if (!this.feed.hasRoom) return text(res, 503, 'too many open consoles');
        return this.feed.open(res, session, HEADERS);
      }
      return text(res, 404, 'not found');
    }
    if (req.method !== 'POST') return text(res, 405, 'method not allowed');
    // A form post always carries Origin: one without it is not from the console's pages.
    if (req.headers.origin !== origin) return text(res, 403, 'forbidden: a console form must come from the console');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return text(res, 415, 'expected a form');
    readBody(req, MAX_FORM).then(
      (body) => this.post(req, res, url, session, new URLSearchParams(body)),
      () => text(res, 413, 'form too large'),
    );
  }

  private post(req: IncomingMessage, res: ServerResponse, url: URL, session: ConsoleSession, form: URLSearchParams): void {
    if (!csrfMatches(session, form.get('csrf') ?? undefined)) return send(res, 403, refused('This form is stale or not from this console: reload the page and try again.'));
    if (url.pathname === '/console/logout') {
      this.auth.logout(req.headers.cookie);
      res.writeHead(303, { ...HEADERS, location: '/console/', 'set-cookie': clearedCookie() }).end();
      return;
    }
    const match = /^\/console\/approvals\/([0-9a-f]{1,32})$/.exec(url.pathname);
    if (!match) return text(res, 404, 'not found');
    const id = match[1] as string;
    const decision = form.get('decision') ?? '';
    const parsed = QueueAnswerSchema.safeParse(decision === 'deny' ? { decision: 'deny', ...(form.get('reason')?.trim() ? { reason: form.get('reason')?.trim() } : {}) } : ANSWERS[decision]);
    if (!parsed.success) return text(res, 400, `bad answer: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    const found = this.options.queue.answer(id, parsed.data);
    const said = parsed.data.decision === 'deny' ? `Denied ${id}${parsed.data.reason ? ` (reason: ${parsed.data.reason})` : ''}` : `Approved ${id} (${parsed.data.scope})`;
    session.flash = found ? said : `No pending approval ${id}: it was answered, timed out or cancelled meanwhile.`;
    if (found) this.options.logger.info({ approval: id, decision: parsed.data.decision, via: 'console' }, `approval ${id} answered from the console: ${parsed.data.decision}`);
    res.writeHead(303, { ...HEADERS, location: '/console/' }).end();
  }

  private login(res: ServerResponse, url: URL): void {
    const id = this.auth.redeem(url.searchParams.get('code') ?? '');
    if (!id) return send(res, 401, loginNeeded('This login link is invalid, was used already or expired.'));
    // The code leaves the address bar at once: the redirect replaces it.
    res.writeHead(303, { ...HEADERS, location: '/console/', 'set-cookie': sessionCookie(id) }).end();
  }

  private overview(res: ServerResponse, session: ConsoleSession): void {
    const flash = session.flash;
    session.flash = undefined;
    send(res, 200, page('Overview', overview(this.options.status(), session.csrf), { csrf: session.csrf, nav: 'overview', ...(flash ? { flash } : {}) }));
  }

  private async audit(res: ServerResponse, session: ConsoleSession, url: URL): Promise<void> {
    const file = this.options.auditFile;
    const query = auditQuery(url.searchParams);
    let records: Awaited<ReturnType<typeof auditTail>> = [];
    let error = 'error' in query ? query.error : undefined;
    if (!file) error = 'this gateway writes no audit log';
    else if (!('error' in query)) {
      try {
        records = await auditTail(file, query.filter, query.limit);
      } catch (e) {
        error = messageOf(e);
      }
    }
    send(res, 200, page('Audit log', auditPage(records, { values: query.values, file: file ?? '-', ...(error ? { error } : {}) }), { csrf: session.csrf, nav: 'audit' }));
  }

  private asset(res: ServerResponse, path: string): void {
    if (path === '/console/assets/console.js') return void res.writeHead(200, { ...HEADERS, 'content-type': 'text/javascript; charset=utf-8' }).end(SCRIPT);
    if (path === '/console/assets/console.css') return void res.writeHead(200, { ...HEADERS, 'content-type': 'text/css; charset=utf-8' }).end(STYLE);
    if (path === '/console/assets/favicon.svg') return void res.writeHead(200, { ...HEADERS, 'content-type': 'image/svg+xml' }).end(FAVICON);
    text(res, 404, 'not found');
  }
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { ...HEADERS, 'content-type': 'text/html; charset=utf-8' }).end(body);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { ...HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end(`${body}\n`);
}
