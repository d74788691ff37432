/**
 * Reading and filtering audit records for `mcpgate audit query` and `report`: every file of the
 * chain in order (rotated files first), a line at a time, lines that are not records skipped and
 * counted. Filters
 * on calls (`--tool`, `--decision`, `--outcome`) keep both records of a call (decision and
 * result), joined by the `call` id; `--client` is joined through the session's start record.
 */
import { durationToMs } from '../config/schema.js';
import { ErrorCodes, GatewayError, UsageError } from '../errors.js';
import { compileGlob } from '../policy/glob.js';
import { printable } from '../printable.js';
import { auditChains, type AuditChain } from './chains.js';
import { lineBatches } from './lines.js';

/** One audit record as read back (fields as written). */
export type AuditRecord = Readonly<Record<string, unknown>> & { readonly event: string; readonly seq?: number; readonly time?: string };

/** Records with the exact lines they came from. */
export interface AuditRead {
  readonly files: readonly string[];
  readonly records: readonly AuditRecord[];
  readonly lines: readonly string[];
  /** Lines that were not records (torn or damaged; `verify` says more). */
  readonly skipped: number;
}

/**
 * A (tampered) record may hold objects with their own `toString`/`valueOf` member, on which
 * String() and template literals throw: one such line would stop every query and report. Those
 * members are dropped from the records read (`--json` prints the lines as written). Checked with
 * a substring test first (a `\u` escape could spell the name), so a normal line pays nothing.
 */
const MAY_SHADOW = /toString|valueOf|\\u/;
const unshadow = (key: string, value: unknown): unknown => (key === 'toString' || key === 'valueOf' ? undefined : value);

/** Reads every record of the audit log `active` (all its chains, merged by time) in memory: see {@link forEachRecord}. */
export async function readAuditRecords(active: string): Promise<AuditRead> {
  const records: AuditRecord[] = [];
  const lines: string[] = [];
  const { files, skipped } = await forEachRecord(active, (record, line) => {
    records.push(record);
    lines.push(line);
  });
  return { files, records, lines, skipped };
}

/** A parsed record, or undefined for a line that is not one. */
function parseRecord(line: string | undefined): AuditRecord | undefined {
  if (line === undefined || line === '') return undefined;
  try {
    const record = JSON.parse(line, MAY_SHADOW.test(line) ? unshadow : undefined) as AuditRecord;
    return typeof record === 'object' && record !== null && typeof record.event === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}

/** The records of one chain in order, with their lines, one batch at a time; `skipped()` counts lines that are not records. */
async function* chainRecords(chain: AuditChain, skipped: { count: number }): AsyncGenerator<Array<{ record: AuditRecord; line: string }>> {
  for (const file of chain.files) {
    for await (const batch of lineBatches(file)) {
      const out: Array<{ record: AuditRecord; line: string }> = [];
      for (const { text } of batch) {
        if (text === '') continue;
        const record = parseRecord(text);
        if (record) out.push({ record, line: text as string });
        else skipped.count++;
      }
      yield out;
    }
  }
}

/** A chain being read: its next record (undefined once it is done). */
interface Cursor {
  readonly chain: number;
  readonly batches: AsyncGenerator<Array<{ record: AuditRecord; line: string }>>;
  batch: Array<{ record: AuditRecord; line: string }>;
  index: number;
}

async function advance(cursor: Cursor): Promise<{ record: AuditRecord; line: string } | undefined> {
  while (cursor.index >= cursor.batch.length) {
    const next = await cursor.batches.next();
    if (next.done) return undefined;
    cursor.batch = next.value;
    cursor.index = 0;
  }
  return cursor.batch[cursor.index];
}

/**
 * Calls `onRecord` for every record of every chain of audit file `file` (`audit.file`: one chain
 * per gateway process, chains.ts), with the exact line it came from and its chain. One chain is
 * read in its order; several are merged by `time` (each chain is in time order; equal times in
 * chain order). Holds one batch of lines per chain; returns the files read and how many lines
 * were not records.
 */
export async function forEachRecord(file: string, onRecord: (record: AuditRecord, line: string, chain: number) => void): Promise<{ files: readonly string[]; chains: number; skipped: number }> {
  const chains = await auditChains(file);
  if (chains.length === 0) throw new GatewayError(ErrorCodes.AUDIT_NOT_FOUND, `no audit log at ${file}`, { remedy: 'give the audit file with --file PATH, or the config dir whose gateway.yaml names it with --config DIR' });
  const skipped = { count: 0 };
  const cursors: Cursor[] = chains.map((c) => ({ chain: c.chain, batches: chainRecords(c, skipped), batch: [], index: 0 }));
  const heads = await Promise.all(cursors.map(advance));
  for (;;) {
    let pick = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i];
      if (head === undefined) continue;
      if (pick === -1 || String(head.record.time ?? '') < String((heads[pick] as { record: AuditRecord }).record.time ?? '')) pick = i;
    }
    if (pick === -1) break;
    const cursor = cursors[pick] as Cursor;
    const head = heads[pick] as { record: AuditRecord; line: string };
    onRecord(head.record, head.line, cursor.chain);
    cursor.index++;
    // An await only when a batch runs out: not one per record.
    heads[pick] = cursor.index < cursor.batch.length ? cursor.batch[cursor.index] : await advance(cursor);
  }
  return { files: chains.flatMap((c) => c.files), chains: chains.length, skipped: skipped.count };
}

/** What `audit query` and `report` filter on; every field optional. */
export interface AuditFilter {
  readonly since?: number;
  readonly until?: number;
  readonly session?: string;
  readonly client?: string;
  readonly server?: string;
  readonly tool?: string;
  readonly decision?: string;
  readonly outcome?: string;
  /** An event name, or its part after `mcpgate.` (`network`, `tool.decision`, `session`…). */
  readonly event?: string;
}

/**
 * Parses `--since/--until`: an ISO 8601 date or time, or a duration back from `now` such as
 * `90s`, `15m`, `1h`, `2d`, `1w`.
 */
export function parseTime(value: string, option: string, now = Date.now()): number {
  const relative = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(value);
  if (relative) {
    const [, amount, unit] = relative;
    const ms = unit === 'd' ? Number(amount) * 86_400_000 : unit === 'w' ? Number(amount) * 604_800_000 : durationToMs(`${amount}${unit}`);
    return now - ms;
  }
  const time = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(time)) throw new UsageError(`--${option} must be an ISO time (2025-01-31T12:00:00Z) or a duration ago (30m, 1h, 2d), not "${value}"`);
  return time;
}

/** A call's id within the whole log: call ids are unique per gateway process, and each process writes its own chain. */
export function callKey(r: AuditRecord): string {
  return `${typeof r.chain === 'number' ? r.chain : 1}:${String(r.call)}`;
}

const CALL_EVENTS = new Set(['mcpgate.tool.decision', 'mcpgate.tool.result']);
const NETWORK = 'mcpgate.network.decision';

/** `network` matches `mcpgate.network.decision`; `tool` both tool events; a full name itself. */
function eventMatches(event: string, wanted: string): boolean {
  const full = wanted.startsWith('mcpgate.') ? wanted : `mcpgate.${wanted}`;
  return event === full || event.startsWith(`${full}.`);
}

/** A network record's own decision, `ask:`-prefixed when a person, reviewer or remembered answer decided it. */
function networkDecision(r: AuditRecord): string {
  return r.approval_channel !== undefined ? `ask:${String(r.decision)}` : String(r.decision);
}

/** The records matching every given filter, in log order. */
export function filterRecords(records: readonly AuditRecord[], filter: AuditFilter): AuditRecord[] {
  const selection = recordFilter(filter);
  for (const r of records) selection.learn(r);
  return records.filter((r) => selection.matches(r));
}

/**
 * A filter applied one record at a time. When `joins` is true its answer for a record depends on
 * other records (a call's decision or outcome, a session's client): every record must be shown to
 * `learn` (a first pass) before any is asked about; what it keeps is one entry per call/session.
 */
export interface RecordFilter {
  readonly joins: boolean;
  learn(record: AuditRecord): void;
  matches(record: AuditRecord): boolean;
}

/** Builds the {@link RecordFilter} for `filter`. */
export function recordFilter(filter: AuditFilter): RecordFilter {
  const decisions = new Map<string, string>();
  const outcomes = new Map<string, string>();
  const clients = new Map<string, string[]>();
  const glob = (pattern: string | undefined) => (pattern === undefined ? undefined : compileGlob(pattern));
  const server = glob(filter.server);
  const tool = glob(filter.tool);
  const client = glob(filter.client);
  const callOnly = filter.tool !== undefined || filter.decision !== undefined || filter.outcome !== undefined;
  return {
    joins: filter.client !== undefined || filter.decision !== undefined || filter.outcome !== undefined,
    learn(r) {
      // An asked call's decision record holds the answer (allow/deny) and says it was asked by its
      // approval_channel: `--decision ask` finds those.
      if (r.event === 'mcpgate.tool.decision') decisions.set(callKey(r), r.approval_channel !== undefined || r.decision === 'ask' ? `ask:${String(r.decision)}` : String(r.decision));
      else if (r.event === 'mcpgate.tool.result') outcomes.set(callKey(r), String(r.outcome));
      else if (r.event === 'mcpgate.session.start') clients.set(String(r.session), [r.client_name, r.subject].filter((v): v is string => typeof v === 'string'));
    },
    matches(r) {
      if (filter.since !== undefined || filter.until !== undefined) {
        const time = Date.parse(String(r.time));
        if (filter.since !== undefined && !(time >= filter.since)) return false;
        if (filter.until !== undefined && !(time <= filter.until)) return false;
      }
      const session = typeof r.session === 'string' ? r.session : undefined;
      // Exact id, or a prefix of one (the table shows ids shortened).
      if (filter.session !== undefined && !(session !== undefined && session.startsWith(filter.session))) return false;
      if (client) {
        const names = [...(session ? (clients.get(session) ?? []) : []), ...(typeof r.subject === 'string' ? [r.subject] : [])];
        if (!names.some((name) => client(name))) return false;
      }
      if (server && !(typeof r.server === 'string' && server(r.server))) return false;
      if (filter.event !== undefined && !eventMatches(r.event, filter.event)) return false;
      if (r.event === 'mcpgate.request') {
        // resources/prompts/completion requests carry their decision and outcome in one record
        if (tool && !tool(String(r.target))) return false;
        if (filter.decision !== undefined && filter.decision !== r.decision) return false;
        return filter.outcome === undefined || filter.outcome === r.outcome;
      }
      // A network record carries its own decision, and names the tool call in flight (`tool`).
      if (r.event === NETWORK) {
        if (filter.outcome !== undefined) return false;
        if (tool && !tool(String(r.tool))) return false;
        return filter.decision === undefined || decisionMatches(networkDecision(r), filter.decision);
      }
      if (callOnly && !CALL_EVENTS.has(r.event)) return false;
      if (tool && !(tool(String(r.tool)) || tool(String(r.public_name)))) return false;
      if (filter.decision !== undefined && !decisionMatches(decisions.get(callKey(r)), filter.decision)) return false;
      if (filter.outcome !== undefined && outcomes.get(callKey(r)) !== filter.outcome) return false;
      return true;
    },
  };
}

/**
 * One table row per record: time, seq, event, session, target, detail (control and invisible
 * characters escaped); `chains`: the log has several, so a seq is shown as `CHAIN:SEQ`.
 */
export function formatTable(records: readonly AuditRecord[], chains = false): string {
  const seq = (r: AuditRecord) => (chains ? `${typeof r.chain === 'number' ? r.chain : 1}:${String(r.seq ?? '')}` : String(r.seq ?? ''));
  // Every cell may hold text an agent or an upstream chose (client name, arguments, reasons, errors):
  // no control or invisible character reaches the terminal raw.
  const rows = records.map((r) => [String(r.time ?? ''), seq(r), r.event.replace(/^mcpgate\./, ''), String(r.session ?? '').slice(0, 8), recordTarget(r), recordDetail(r)].map(printable));
  const header = ['TIME', 'SEQ', 'EVENT', 'SESSION', 'TARGET', 'DETAIL'];
  const widths = header.map((h, i) => rows.reduce((max, row) => Math.max(max, (row[i] as string).length), h.length));
  const format = (row: string[]) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [format(header), ...rows.map(format)].join('\n') + '\n';
}

/** What a record is about (tool, resource, server, network destination), for tables and the console. */
export function recordTarget(r: AuditRecord): string {
  if (r.event === NETWORK) return `${String(r.server)} → ${String(r.host).includes(':') ? `[${String(r.host)}]` : String(r.host)}:${String(r.port)}`;
  if (typeof r.public_name === 'string') return r.public_name;
  if (typeof r.target === 'string') return r.target;
  if (typeof r.server === 'string') return r.server;
  return '';
}

/** A record's outcome in words (decision, result, state…), for tables and the console. */
export function recordDetail(r: AuditRecord): string {
  switch (r.event) {
    case 'mcpgate.tool.decision':
      return `${r.decision} by ${r.decided_by}${r.scope ? ` (${r.scope})` : ''}: ${r.reason}`;
    case 'mcpgate.tool.result':
      return `${r.outcome} in ${r.duration_ms} ms, ${r.result_size} chars${r.error ? `: ${r.error}` : ''}`;
    case 'mcpgate.request':
      return `${r.method} ${r.decision} by ${r.decided_by}: ${r.outcome}${r.outcome === 'denied' ? ` (${r.reason})` : r.error ? `: ${r.error}` : ''}`;
    case 'mcpgate.session.start':
      return `${r.client_name ?? 'unknown client'}${r.client_version ? ` ${r.client_version}` : ''} over ${r.transport}${r.subject ? ` as ${r.subject}` : ''}`;
    case 'mcpgate.session.end':
      return `${r.calls} call(s) in ${r.duration_ms} ms`;
    case 'mcpgate.upstream.state':
      return `${r.state}${r.error ? `: ${r.error}` : ''}`;
    case 'mcpgate.config.change':
      return `added ${JSON.stringify(r.added)}, removed ${JSON.stringify(r.removed)}, restarted ${JSON.stringify(r.restarted ?? [])}, failed ${JSON.stringify(r.failed)}`;
    case 'mcpgate.audit.checkpoint':
      return `${r.alg} signature over seq ${r.checkpoint_seq}`;
    case 'mcpgate.audit.recovery':
      return `cut off a torn last line of ${r.torn_bytes} bytes after a crash`;
    case NETWORK: {
      const bytes = typeof r.bytes_up === 'number' ? `, ${r.bytes_up} B up / ${String(r.bytes_down)} B down` : '';
      return `${r.decision} by ${r.decided_by}${r.scope ? ` (${r.scope})` : ''} [${r.protocol}]: ${r.reason}${bytes}${r.error ? `; ${r.error}` : ''}`;
    }
    case 'mcpgate.audit.dropped':
      return `dropped ${r.records} record(s), seq ${r.first_seq}..${r.last_seq}: ${r.reason}`;
    default:
      return '';
  }
}

/** `ask` matches every asked call; `allow`/`deny` match the final decision, asked or not. */
function decisionMatches(recorded: string | undefined, wanted: string): boolean {
  if (recorded === undefined) return false;
  if (wanted === 'ask') return recorded.startsWith('ask:');
  return recorded === wanted || recorded === `ask:${wanted}`;
}
