/**
 * The console's audit tail: the last N records of the audit log matching the filters of
 * `mcpgate audit query` (src/audit/query.ts, read the same way: every chain, rotated files first).
 * Query parameters are checked here and a bad one is a message for the page, never a crash.
 */
import { forEachRecord, parseTime, recordFilter, type AuditFilter, type AuditRecord } from '../../audit/query.js';
import { messageOf } from '../../errors.js';

/** The query parameters the audit page takes. */
export const AUDIT_PARAMETERS = ['server', 'tool', 'session', 'client', 'decision', 'outcome', 'event', 'since', 'limit'] as const;
const DECISIONS = new Set(['allow', 'ask', 'deny']);
const OUTCOMES = new Set(['ok', 'tool_error', 'protocol_error', 'timeout', 'cancelled', 'input_required', 'task', 'denied']);
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** The filter and limit from the page's query, or what is wrong with it. */
export function auditQuery(params: URLSearchParams, now = Date.now()): { values: Record<string, string>; filter: AuditFilter; limit: number } | { values: Record<string, string>; error: string } {
  const values: Record<string, string> = {};
  for (const name of AUDIT_PARAMETERS) {
    const value = params.get(name)?.trim();
    if (value) values[name] = value.slice(0, 200);
  }
  const { since, limit, decision, outcome, ...globs } = values;
  if (decision !== undefined && !DECISIONS.has(decision)) return { values, error: `decision must be allow, ask or deny, not "${decision}"` };
  if (outcome !== undefined && !OUTCOMES.has(outcome)) return { values, error: `outcome must be one of ${[...OUTCOMES].join(', ')}, not "${outcome}"` };
  const count = limit === undefined ? DEFAULT_LIMIT : Number(limit);
  if (!Number.isInteger(count) || count < 1 || count > MAX_LIMIT) return { values, error: `limit must be a whole number from 1 to ${MAX_LIMIT}` };
  let sinceMs: number | undefined;
  try {
    if (since !== undefined) sinceMs = parseTime(since, 'since', now);
  } catch (error) {
    return { values, error: messageOf(error).replace('--since', 'since') };
  }
  const filter: AuditFilter = { ...globs, ...(decision ? { decision } : {}), ...(outcome ? { outcome } : {}), ...(sinceMs !== undefined ? { since: sinceMs } : {}) };
  return { values, filter, limit: count };
}

/** The last `limit` records of `file` matching `filter`, oldest first. */
export async function auditTail(file: string, filter: AuditFilter, limit: number): Promise<AuditRecord[]> {
  const selection = recordFilter(filter);
  if (selection.joins) await forEachRecord(file, (r) => selection.learn(r));
  const tail: AuditRecord[] = [];
  await forEachRecord(file, (r) => {
    if (!selection.matches(r)) return;
    tail.push(r);
    if (tail.length > limit * 2) tail.splice(0, tail.length - limit);
  });
  return tail.slice(-limit);
}
