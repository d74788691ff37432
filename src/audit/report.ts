/**
 * `mcpgate audit report`: a summary of a period, pure over the records (fed one at a time): calls per server and
 * tool, decisions (by decision and decided_by), who approved, denials with reasons, failures by
 * outcome, and the slowest tools (p50/p95/max of forwarded calls). Rendered as text in reportText.ts and as
 * HTML with charts in reportHtml.ts.
 */
import { callKey, type AuditRecord } from './query.js';
import { approvalWords, decisionWords } from './reportWords.js';

/** A string field of a record, or undefined. */
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

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

/** One destination host in the network section. */
export interface HostTraffic {
  readonly host: string;
  readonly connections: number;
  readonly denied: number;
  readonly bytes_up: number;
  readonly bytes_down: number;
}

/** The network section: what upstream servers reached through the egress proxy. */
export interface NetworkSummary {
  readonly decisions: number;
  readonly allowed: number;
  readonly denied: number;
  readonly bytes_up: number;
  readonly bytes_down: number;
  /** Most decisions first (at most 20). */
  readonly topHosts: readonly HostTraffic[];
  /** `server → host: reason`. */
  readonly blocked: readonly Count[];
  /** Asked destinations and their answer: `server → host: allow by user (session)`. */
  readonly asked: readonly Count[];
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
  readonly network: NetworkSummary;
  /** Sessions by client (`name version`, as the client introduced itself). */
  readonly clients: readonly Count[];
  /** Sessions by authenticated subject (HTTP clients with a bearer token). */
  readonly subjects: readonly Count[];
  /** The configurations in force (session.start `config_digest`), with their sessions and when. */
  readonly configs: readonly ConfigSeen[];
  /** Calls over time, by final decision. */
  readonly timeline: Timeline;
  /** Each denial (the first MAX_LISTED_DENIALS), in log order, and how many there were. */
  readonly denialList: readonly Denial[];
  readonly denialTotal: number;
}

/** A configuration digest seen in session.start records. */
export interface ConfigSeen {
  readonly digest: string;
  readonly sessions: number;
  readonly first: string;
  readonly last: string;
}

/** One denied call: when, in which session (and whose), what, why and who decided (plain words). */
export interface Denial {
  readonly time: string;
  readonly session: string;
  readonly client?: string;
  readonly subject?: string;
  readonly tool: string;
  readonly reason: string;
  readonly decided: string;
}

/** Calls per time bucket: `buckets[i]` starts at `start + i * bucketMs`. */
export interface Timeline {
  readonly start?: string;
  readonly bucketMs: number;
  readonly buckets: ReadonlyArray<{ readonly allowed: number; readonly denied: number }>;
}

/** Denials listed one by one in the report (all are counted). */
export const MAX_LISTED_DENIALS = 500;
/** Bucket sizes of the timeline, the smallest that keeps it within MAX_BUCKETS columns. */
const BUCKETS_MS = [60_000, 300_000, 900_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 604_800_000];
const MAX_BUCKETS = 60;

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
  private readonly network = new NetworkBuilder();
  /** Who each session was (from its start record), for the denials list. */
  private readonly sessionInfo = new Map<string, { client?: string; subject?: string }>();
  private readonly clients = new Counter();
  private readonly subjects = new Counter();
  private readonly configs = new Map<string, { sessions: number; first: string; last: string }>();
  /** Calls per minute (epoch minute → allowed, denied). */
  private readonly perMinute = new Map<number, [number, number]>();
  private readonly denialList: Denial[] = [];
  private denialTotal = 0;
  private calls = 0;
  private records = 0;
  private first: unknown;
  private last: unknown;

  /** Counts one record (in log order). */
  add(r: AuditRecord): void {
    if (this.records++ === 0) this.first = r.time;
    this.last = r.time;
    if (typeof r.session === 'string') this.sessions.add(r.session);
    if (r.event === 'mcpgate.session.start') this.started(r);
    if (r.event === 'mcpgate.tool.decision') {
      this.tick(r);
      this.calls++;
      const tool = String(r.public_name);
      this.perServer.add(String(r.server) || '(unknown tool)');
      this.perTool.add(tool);
      this.decisions.add(String(r.decision));
      this.decidedBy.add(String(r.decided_by));
      this.decisionsBy.add(decisionWords(String(r.decision), String(r.decided_by)));
      if (r.decision === 'allow') this.allowed.add(callKey(r));
      if (r.decision === 'allow' && APPROVERS.has(String(r.decided_by))) {
        // decided_by says who (a person, the auto-reviewer), approval_channel how it was asked,
        // subject whose session it was (authenticated HTTP clients).
        this.approvals.add(approvalWords(String(r.decided_by), text(r.approval_channel), text(r.scope), text(r.subject)));
      }
      if (r.decision !== 'allow') {
        this.denials.add(`${tool}: ${r.reason}`);
        this.denied(r, tool);
      }
    } else if (r.event === 'mcpgate.network.decision') {
      this.network.add(r);
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

  private started(r: AuditRecord): void {
    const client = text(r.client_name);
    const who = client === undefined ? '(unnamed client)' : `${client}${typeof r.client_version === 'string' ? ` ${r.client_version}` : ''}`;
    this.clients.add(who);
    const subject = text(r.subject);
    if (subject !== undefined) this.subjects.add(subject);
    if (typeof r.session === 'string') this.sessionInfo.set(r.session, { client: who, ...(subject === undefined ? {} : { subject }) });
    const digest = text(r.config_digest);
    const time = String(r.time ?? '');
    if (digest !== undefined) {
      const seen = this.configs.get(digest);
      if (seen) {
        seen.sessions++;
        seen.last = time;
      } else this.configs.set(digest, { sessions: 1, first: time, last: time });
    }
  }

  private tick(r: AuditRecord): void {
    const time = Date.parse(String(r.time));
    if (Number.isNaN(time)) return;
    const minute = Math.floor(time / 60_000);
    const counts = this.perMinute.get(minute) ?? [0, 0];
    counts[r.decision === 'allow' ? 0 : 1]++;
    this.perMinute.set(minute, counts);
  }

  private denied(r: AuditRecord, tool: string): void {
    if (this.denialTotal++ >= MAX_LISTED_DENIALS) return;
    const session = String(r.session ?? '');
    const info = this.sessionInfo.get(session);
    const subject = text(r.subject) ?? info?.subject;
    this.denialList.push({
      time: String(r.time ?? ''),
      session,
      ...(info?.client ? { client: info.client } : {}),
      ...(subject === undefined ? {} : { subject }),
      tool,
      reason: String(r.reason ?? ''),
      decided: decisionWords(String(r.decision), String(r.decided_by)),
    });
  }

  private timeline(): Timeline {
    const minutes = [...this.perMinute.keys()];
    if (minutes.length === 0) return { bucketMs: BUCKETS_MS[0] as number, buckets: [] };
    const first = minutes.reduce((a, b) => Math.min(a, b)) * 60_000;
    const last = minutes.reduce((a, b) => Math.max(a, b)) * 60_000;
    const bucketMs = BUCKETS_MS.find((ms) => Math.floor(last / ms) - Math.floor(first / ms) < MAX_BUCKETS) ?? (BUCKETS_MS.at(-1) as number);
    const start = Math.floor(first / bucketMs) * bucketMs;
    const buckets = Array.from({ length: Math.floor((last - start) / bucketMs) + 1 }, () => ({ allowed: 0, denied: 0 }));
    for (const [minute, [allowed, denied]] of this.perMinute) {
      const bucket = buckets[Math.floor((minute * 60_000 - start) / bucketMs)];
      if (!bucket) continue;
      bucket.allowed += allowed;
      bucket.denied += denied;
    }
    return { start: new Date(start).toISOString(), bucketMs, buckets };
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
      clients: this.clients.sorted(),
      subjects: this.subjects.sorted(),
      configs: [...this.configs].map(([digest, seen]) => ({ digest, ...seen })),
      timeline: this.timeline(),
      denialList: this.denialList,
      denialTotal: this.denialTotal,
      network: this.network.result(),
    };
  }
}

/** Counts network decisions per host, blocked and asked ones. */
class NetworkBuilder {
  private readonly hosts = new Map<string, { connections: number; denied: number; bytes_up: number; bytes_down: number }>();
  private readonly blocked = new Counter();
  private readonly asked = new Counter();
  private decisions = 0;
  private denied = 0;
  private bytesUp = 0;
  private bytesDown = 0;

  add(r: AuditRecord): void {
    this.decisions++;
    const host = String(r.host);
    const where = `${String(r.server)} → ${host}`;
    let entry = this.hosts.get(host);
    if (!entry) this.hosts.set(host, (entry = { connections: 0, denied: 0, bytes_up: 0, bytes_down: 0 }));
    entry.connections++;
    const up = typeof r.bytes_up === 'number' ? r.bytes_up : 0;
    const down = typeof r.bytes_down === 'number' ? r.bytes_down : 0;
    entry.bytes_up += up;
    entry.bytes_down += down;
    this.bytesUp += up;
    this.bytesDown += down;
    if (r.decision !== 'allow') {
      this.denied++;
      entry.denied++;
      this.blocked.add(`${where}: ${String(r.reason)}`);
    }
    if (r.approval_channel !== undefined) this.asked.add(`${where}: ${String(r.decision)} by ${String(r.decided_by)}${r.scope ? ` (${String(r.scope)})` : ''}`);
  }

  result(): NetworkSummary {
    const topHosts = [...this.hosts]
      .map(([host, counts]) => ({ host, ...counts }))
      .sort((a, b) => b.connections - a.connections || a.host.localeCompare(b.host))
      .slice(0, 20);
    return {
      decisions: this.decisions,
      allowed: this.decisions - this.denied,
      denied: this.denied,
      bytes_up: this.bytesUp,
      bytes_down: this.bytesDown,
      topHosts,
      blocked: this.blocked.sorted(),
      asked: this.asked.sorted(),
    };
  }
}
