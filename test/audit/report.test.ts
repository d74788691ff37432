/**
 * The report's arithmetic and the HTML page, on records shaped like the writer's (an asked call's
 * decision record holds the answer and its approval_channel); everything else is also covered on
 * a real log in test/e2e/auditCli.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filterRecords, formatTable, parseTime, readAuditRecords, type AuditRecord } from '../../src/audit/query.js';
import { percentile, summarise } from '../../src/audit/report.js';
import { formatSummary } from '../../src/audit/reportText.js';
import { renderHtml } from '../../src/audit/reportHtml.js';

let seq = 0;
function call(tool: string, decision: string, decidedBy: string, extra: Record<string, unknown> = {}, result?: { outcome: string; ms: number }): AuditRecord[] {
  const id = `c${seq}`;
  const base = { session: 's1', call: id, server: tool.split('__')[0], tool: tool.split('__')[1], public_name: tool };
  const records: AuditRecord[] = [{ seq: ++seq, time: `2025-01-01T00:00:${String(seq).padStart(2, '0')}.000Z`, event: 'mcpgate.tool.decision', ...base, decision, decided_by: decidedBy, reason: extra.reason ?? 'r', ...extra }];
  if (result) records.push({ seq: ++seq, time: `2025-01-01T00:00:${String(seq).padStart(2, '0')}.000Z`, event: 'mcpgate.tool.result', ...base, outcome: result.outcome, duration_ms: result.ms, result_size: 1 });
  return records;
}

describe('audit report', () => {
  const records = [
    ...call('gh__create_issue', 'allow', 'user', { scope: 'session', subject: 'alice', approval_channel: 'elicitation' }, { outcome: 'ok', ms: 10 }),
    ...call('gh__create_issue', 'allow', 'auto_review', { scope: 'once', approval_channel: 'auto_review' }, { outcome: 'ok', ms: 30 }),
    ...call('gh__create_issue', 'allow', 'rule', {}, { outcome: 'timeout', ms: 60 }),
    ...call('gh__delete_repo', 'deny', 'rule', { reason: 'never <script>alert(1)</script>' }),
    ...call('gh__push', 'deny', 'timeout', { reason: 'approval timed out', approval_channel: 'queue' }),
  ];

  it('counts approvals with who and scope, denials with reasons, and failures', () => {
    const s = summarise(records);
    expect(s.calls).toBe(5);
    expect(s.approvals).toEqual([
      { label: "approved by a person in the agent's own prompt, for the rest of the session (alice)", count: 1 },
      { label: 'approved by the automatic reviewer, for this call only', count: 1 },
    ]);
    expect(s.decisionsBy).toEqual([
      { label: 'allowed by a rule', count: 1 },
      { label: 'approved by a person', count: 1 },
      { label: 'approved by the automatic reviewer', count: 1 },
      { label: 'denied by a rule', count: 1 },
      { label: 'denied: nobody answered in time', count: 1 },
    ]);
    expect(s.denialList.map((d) => [d.time, d.session, d.tool, d.decided])).toEqual([
      ['2025-01-01T00:00:07.000Z', 's1', 'gh__delete_repo', 'denied by a rule'],
      ['2025-01-01T00:00:08.000Z', 's1', 'gh__push', 'denied: nobody answered in time'],
    ]);
    expect(s.timeline.buckets).toEqual([{ allowed: 3, denied: 2 }]);
    expect(s.denials).toEqual([
      { label: 'gh__delete_repo: never <script>alert(1)</script>', count: 1 },
      { label: 'gh__push: approval timed out', count: 1 },
    ]);
    expect(s.failures).toEqual([{ label: 'timeout: gh__create_issue', count: 1 }]);
    expect(s.slowest).toEqual([{ tool: 'gh__create_issue', calls: 3, p50: 30, p95: 60, max: 60 }]);
  });

  it('counts sessions by client and subject, the configurations in force, and spreads calls over time', () => {
    const start = (session: string, time: string, extra: Record<string, unknown>): AuditRecord => ({ seq: ++seq, time, event: 'mcpgate.session.start', session, transport: 'http', ...extra });
    const decision = (session: string, time: string, verdict: string): AuditRecord => ({ seq: ++seq, time, event: 'mcpgate.tool.decision', session, call: `x${seq}`, public_name: 'a__b', server: 'a', decision: verdict, decided_by: 'rule', reason: 'r' });
    const s = summarise([
      start('u1', '2025-03-01T00:00:00.000Z', { client_name: 'claude-code', client_version: '2.1', subject: 'alice', config_digest: 'sha256:aa' }),
      decision('u1', '2025-03-01T00:10:00.000Z', 'allow'),
      start('u2', '2025-03-02T12:00:00.000Z', { client_name: 'claude-code', client_version: '2.1', subject: 'bob', config_digest: 'sha256:aa' }),
      start('u3', '2025-03-03T23:00:00.000Z', { subject: 'alice', config_digest: 'sha256:bb' }),
      decision('u3', '2025-03-03T23:59:00.000Z', 'deny'),
    ]);
    expect(s.clients).toEqual([{ label: 'claude-code 2.1', count: 2 }, { label: '(unnamed client)', count: 1 }]);
    expect(s.subjects).toEqual([{ label: 'alice', count: 2 }, { label: 'bob', count: 1 }]);
    expect(s.configs).toEqual([
      { digest: 'sha256:aa', sessions: 2, first: '2025-03-01T00:00:00.000Z', last: '2025-03-02T12:00:00.000Z' },
      { digest: 'sha256:bb', sessions: 1, first: '2025-03-03T23:00:00.000Z', last: '2025-03-03T23:00:00.000Z' },
    ]);
    // Three days: 3-hour buckets keep the chart within 60 columns.
    expect(s.timeline.bucketMs).toBe(3 * 3_600_000);
    expect(s.timeline.start).toBe('2025-03-01T00:00:00.000Z');
    expect(s.timeline.buckets).toHaveLength(24);
    expect(s.timeline.buckets[0]).toEqual({ allowed: 1, denied: 0 });
    expect(s.timeline.buckets[23]).toEqual({ allowed: 0, denied: 1 });
    expect(s.denialList[0]).toMatchObject({ session: 'u3', subject: 'alice', client: '(unnamed client)' });
  });

  it('uses nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.95)).toBe(95);
    expect(percentile([7], 0.95)).toBe(7);
    expect(percentile([], 0.5)).toBe(0);
  });

  it('escapes record text in the HTML page and loads nothing from elsewhere', () => {
    const html = renderHtml(summarise(records));
    expect(html).not.toContain('<script>');
    expect(html).toContain('never &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(html).not.toMatch(/(src|href)=/);
  });

  it('--decision ask finds every asked call, whatever the answer; allow/deny the final decision', () => {
    const asked = filterRecords(records, { decision: 'ask' }).filter((r) => r.event === 'mcpgate.tool.decision');
    expect(asked.map((r) => [r.public_name, r.decision])).toEqual([
      ['gh__create_issue', 'allow'],
      ['gh__create_issue', 'allow'],
      ['gh__push', 'deny'],
    ]);
    const denied = filterRecords(records, { decision: 'deny' }).filter((r) => r.event === 'mcpgate.tool.decision');
    expect(denied.map((r) => r.public_name)).toEqual(['gh__delete_repo', 'gh__push']);
  });

  it('filters calls by decision and outcome, keeping both records of a call', () => {
    expect(filterRecords(records, { outcome: 'timeout' }).map((r) => r.event)).toEqual(['mcpgate.tool.decision', 'mcpgate.tool.result']);
    expect(filterRecords(records, { decision: 'deny' })).toHaveLength(2);
    expect(filterRecords(records, { tool: 'create_*' })).toHaveLength(6);
    expect(filterRecords(records, { since: Date.parse('2025-01-01T00:00:05Z'), until: Date.parse('2025-01-01T00:00:06Z') }).map((r) => r.seq)).toEqual([5, 6]);
  });

  it('reads relative and absolute times', () => {
    const now = Date.parse('2025-01-02T00:00:00Z');
    expect(parseTime('1h', 'since', now)).toBe(now - 3_600_000);
    expect(parseTime('2d', 'since', now)).toBe(now - 2 * 86_400_000);
    expect(parseTime('2025-01-01', 'since', now)).toBe(Date.parse('2025-01-01'));
    expect(() => parseTime('yesterday', 'since', now)).toThrow(/--since must be/);
  });
});

describe('audit query and report on damaged records', () => {
  it('fields of unexpected types (objects that shadow toString/valueOf, arrays, numbers, null) stop neither query nor report', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcpgate-odd-'));
    try {
      const file = join(dir, 'audit.log');
      const odd = ['{"toString":1,"valueOf":1}', '{"to\\u0053tring":1,"valueOf":2}', '[[1],{"valueOf":{}}]', 'null', '7', '{"a":{"b":1}}'];
      const lines = odd.flatMap((v, i) =>
        ['mcpgate.tool.decision', 'mcpgate.tool.result', 'mcpgate.session.start', 'mcpgate.upstream.state', 'mcpgate.config.change'].map(
          (event) => `{"seq":${v},"time":${v},"event":"${event}","session":${v},"call":${v},"server":${v},"tool":${v},"public_name":${v},"decision":${v},"decided_by":${v},"reason":${v},"outcome":${v},"duration_ms":${v},"error":${v},"client_name":${v},"subject":${v},"state":${v},"added":${v},"n":${i}}`,
        ),
      );
      lines.push('{"seq":99,"time":"2025-01-01T00:00:00.000Z","event":"mcpgate.tool.decision","session":"s9","call":"c9","server":"gh","tool":"t","public_name":"gh__t","decision":"deny","decided_by":"rule","reason":"fine"}');
      await writeFile(file, `${lines.join('\n')}\n`);
      const read = await readAuditRecords(file);
      expect(read.skipped).toBe(0);
      expect(read.records).toHaveLength(lines.length);
      for (const filter of [{}, { since: 0 }, { tool: 'gh__*' }, { client: '*' }, { decision: 'deny' }, { outcome: 'ok' }, { session: 's' }]) {
        expect(() => filterRecords(read.records, filter)).not.toThrow();
      }
      expect(filterRecords(read.records, { decision: 'deny', tool: 'gh__t' }).map((r) => r.call)).toEqual(['c9']);
      expect(formatTable(read.records)).toContain('deny by rule: fine');
      const summary = summarise(read.records);
      expect(formatSummary(summary)).toContain('gh__t: fine');
      expect(renderHtml(summary)).toContain('gh__t: fine');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a report over more distinct tools than a spread can take (100k+ unknown tool names) still renders', () => {
    const many: AuditRecord[] = [];
    for (let i = 0; i < 150_000; i++) many.push({ event: 'mcpgate.tool.decision', call: `c${i}`, server: '', public_name: `bogus_${i}`, decision: 'deny', decided_by: 'rule', reason: 'unknown tool' });
    const summary = summarise(many);
    expect(formatSummary(summary)).toContain('bogus_149999: unknown tool');
    expect(renderHtml(summary)).toContain('data-chart="calls-per-tool"');
  });
});

describe('mcpgate.request records in queries', () => {
  const request = (method: string, target: string, decision: string, outcome: string, extra: Record<string, unknown> = {}): AuditRecord => ({
    seq: ++seq, time: '2025-01-01T00:01:00.000Z', event: 'mcpgate.request', session: 's2', request: `r${seq}`, method, server: 'notes', target, decision, decided_by: 'rule', reason: 'resources of notes are denied', outcome, duration_ms: 1, ...extra,
  });
  const records = [request('resources/read', 'notes://note/1', 'deny', 'denied'), request('prompts/get', 'notes__summarize', 'allow', 'ok'), request('resources/read', 'notes://note/2', 'allow', 'protocol_error', { error: 'no note' })];

  it('filters them on their own decision, outcome and target, and shows what happened', () => {
    expect(filterRecords(records, { decision: 'deny' }).map((r) => r.target)).toEqual(['notes://note/1']);
    expect(filterRecords(records, { outcome: 'protocol_error' }).map((r) => r.target)).toEqual(['notes://note/2']);
    expect(filterRecords(records, { tool: 'notes__*' }).map((r) => r.target)).toEqual(['notes__summarize']);
    const table = formatTable(records);
    expect(table).toMatch(/request  s2 +notes:\/\/note\/1 +resources\/read deny by rule: denied \(resources of notes are denied\)/);
    expect(table).toContain('resources/read allow by rule: protocol_error: no note');
  });
});
