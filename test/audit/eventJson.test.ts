/**
 * The hand-built members of the two per-call records must be exactly what JSON.stringify writes
 * for the same event (built in the order of its type): every optional field present and absent,
 * strings that need escaping, non-finite numbers, and the quote cache across many values.
 */
import { describe, expect, it } from 'vitest';
import { hashBytes, hashLine } from '../../src/audit/chain.js';
import { eventMembers } from '../../src/audit/eventJson.js';
import type { ToolDecisionEvent, ToolResultEvent } from '../../src/telemetry/events.js';

const viaStringify = (event: object) => JSON.stringify(event).slice(1);

const decision = (extra: Partial<ToolDecisionEvent> = {}): ToolDecisionEvent => ({
  event: 'mcpgate.tool.decision',
  session: 's-1',
  call: 'c-1',
  server: 'files',
  tool: 'read_file',
  public_name: 'files__read_file',
  decision: 'allow',
  decided_by: 'rule',
  rule: undefined,
  reason: 'allowed by servers.d/files.yaml tools.allow[0] (read_*)',
  scope: undefined,
  approval_wait_ms: 0,
  approval_channel: undefined,
  arguments: undefined,
  arguments_sha256: undefined,
  arguments_truncated: undefined,
  subject: undefined,
  unconfined: undefined,
  ...extra,
});

const result = (extra: Partial<ToolResultEvent> = {}): ToolResultEvent => ({
  event: 'mcpgate.tool.result',
  session: 's-1',
  call: 'c-1',
  server: 'files',
  tool: 'read_file',
  public_name: 'files__read_file',
  duration_ms: 1.234,
  outcome: 'ok',
  result_size: 12,
  error: undefined,
  subject: undefined,
  ...extra,
});

describe('audit event members', () => {
  it('writes a decision exactly as JSON.stringify does, with and without each optional field', () => {
    const variants: ToolDecisionEvent[] = [
      decision(),
      decision({ rule: 'servers.d/files.yaml tools.allow[0] (read_*)', arguments: { path: '/tmp/a', n: 3, nested: { ok: true, list: [1, 'two', null] } } }),
      decision({ decision: 'deny', decided_by: 'timeout', scope: 'once', approval_wait_ms: 120000, approval_channel: 'queue', arguments_sha256: 'ab'.repeat(32), subject: 'alice@example.com' }),
      decision({ arguments: '[unrecordable arguments]', arguments_truncated: true }),
      decision({ arguments_truncated: false, approval_wait_ms: 12.5 }),
      decision({ server: 'quote"and\\backslash', tool: 'line\nbreak', reason: 'tab\there \u0001 \u2028 é 日本 😀', session: '</script>' }),
      decision({ approval_wait_ms: Number.NaN }),
      decision({ subject: 'carol', unconfined: true }),
      decision({ session: 'k_abcdefghijklmnop', protocol_version: '2026-07-28' }),
    ];
    for (const event of variants) expect(eventMembers(event)).toBe(viaStringify(event));
  });

  it('writes a result exactly as JSON.stringify does, errors and subjects included', () => {
    const variants: ToolResultEvent[] = [
      result(),
      result({ outcome: 'protocol_error', error: 'MCP error -32000: "Connection closed"\nat upstream', subject: 'bob' }),
      result({ outcome: 'timeout', duration_ms: Number.POSITIVE_INFINITY, result_size: 0 }),
      result({ duration_ms: -0, result_size: 1e21 }),
      result({ session: 'k_abcdefghijklmnop', protocol_version: '2026-07-28' }),
    ];
    for (const event of variants) expect(eventMembers(event)).toBe(viaStringify(event));
  });

  it('keeps writing the right values past the bound of its quote cache', () => {
    for (let i = 0; i < 10_000; i++) {
      const event = decision({ session: `session-${i}`, call: `c-${i}`, reason: `reason "${i}"` });
      expect(eventMembers(event)).toBe(viaStringify(event));
    }
  });

  it('leaves every other event to JSON.stringify', () => {
    const event = { event: 'mcpgate.upstream.state', server: 'a', state: 'failed', error: 'boom "x"', attempt: 2 } as const;
    expect(eventMembers(event)).toBe(viaStringify(event));
  });

  it('hashes the UTF-8 bytes of a line as hashLine hashes its text', () => {
    const line = '{"seq":1,"prev":"0","reason":"é 日本 😀"}';
    expect(hashBytes(Buffer.from(line, 'utf8'))).toBe(hashLine(line));
  });
});
