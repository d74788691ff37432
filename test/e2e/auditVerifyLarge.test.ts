/**
 * `mcpgate audit verify` on a log far larger than its heap: a hundred thousand records (~90 MB) from
 * the real writer, across rotated files, with signed checkpoints, verified by the real CLI under
 * `--max-old-space-size=40` (40 MB of heap for ~90 MB of log). Then the log is broken near its
 * end (a record edited, deleted, moved) and verify must still name the seq, the kind and the
 * file:line under the same limit. (The verify that held every line in memory dies of OOM here.)
 * `audit report` and `audit query` read it under the same limit too.
 */
import { CompactSign } from 'jose';
import { createSecretKey } from 'node:crypto';
import { link, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/auditLog.js';
import type { CheckpointSigner } from '../../src/audit/checkpoint.js';
import { runMcpgate } from '../support/gateway.js';

const RECORDS = 100_000;
const SECRET = 'a-large-log-hs256-secret-of-32-bytes-or-more';
const SMALL_HEAP = { NODE_OPTIONS: '--max-old-space-size=40' };

describe('audit verify streams a log larger than its heap', () => {
  let dir: string;
  let file: string;
  let keyFile: string;
  let active: string[];
  let activeFirstSeq: number;
  let lastSeq: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpgate-biglog-'));
    file = join(dir, 'audit.log');
    keyFile = join(dir, 'audit.key');
    await writeFile(keyFile, SECRET);
    const key = createSecretKey(Buffer.from(SECRET));
    const signer: CheckpointSigner = {
      alg: 'HS256',
      every: 1000,
      intervalMs: 3_600_000,
      sign: (seq, hash) => new CompactSign(new TextEncoder().encode(JSON.stringify({ seq, hash }))).setProtectedHeader({ alg: 'HS256', typ: 'mcpgate-audit-checkpoint' }).sign(key),
    };
    const log = new AuditLog(file, { rotate: { maxBytes: 32 * 1024 * 1024 }, checkpoint: signer });
    const padding = 'x'.repeat(500);
    for (let i = 0; i < RECORDS; i++) {
      log.emit({ event: 'mcpgate.tool.decision', session: 'big-session', call: `c${i}`, server: 'notes', tool: 'add_note', public_name: 'notes__add_note', decision: 'allow', decided_by: 'rule', reason: 'allowed by rule', approval_wait_ms: 0, arguments: { title: `note ${i}`, body: padding } });
      if (i % 2000 === 1999) await new Promise((r) => setImmediate(r));
    }
    await log.close();
    const text = await readFile(file, 'utf8');
    active = text.split('\n');
    active.pop();
    activeFirstSeq = (JSON.parse(active[0]!) as { seq: number }).seq;
    lastSeq = (JSON.parse(active.at(-1)!) as { seq: number }).seq;
  }, 60_000);

  afterAll(() => rm(dir, { recursive: true, force: true }));

  /**
   * A copy of the log in DIR/NAME (its rotated files hard-linked, not copied) whose active file has
   * `change` applied to its lines, verified under the small heap; copies let the runs go at once.
   */
  async function verifyChanged(name: string, change: (lines: string[]) => string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const copy = join(dir, name);
    await mkdir(copy);
    for (const rotated of (await readdir(dir)).filter((n) => /^audit\.log\.\d+$/.test(n))) await link(join(dir, rotated), join(copy, rotated));
    await writeFile(join(copy, 'audit.log'), `${change([...active]).join('\n')}\n`);
    return runMcpgate(['audit', 'verify', '--file', join(copy, 'audit.log')], SMALL_HEAP);
  }

  it('report and query stream the same log with 40 MB of heap (keeping aggregates, not lines)', async () => {
    // A filter that joins records (a session's client) reads the log twice, holding neither pass.
    const [report, query] = await Promise.all([
      runMcpgate(['audit', 'report', '--json', '--file', file], SMALL_HEAP),
      runMcpgate(['audit', 'query', '--json', '--client', 'nobody', '--file', file], SMALL_HEAP),
    ]);
    expect(report.stderr).toBe('');
    expect(report.code).toBe(0);
    const summary = JSON.parse(report.stdout) as { records: number; calls: number; callsPerTool: unknown };
    expect(summary).toMatchObject({ records: lastSeq, calls: RECORDS, callsPerTool: [{ label: 'notes__add_note', count: RECORDS }] });
    expect(query).toEqual({ code: 0, stdout: '', stderr: '' });
  }, 150_000);

  it('verifies every record and checkpoint with 40 MB of heap, and names an edit, a deletion and a move near the end', async () => {
    const files = (await readdir(dir)).filter((n) => n.startsWith('audit.log'));
    let bytes = 0;
    for (const name of files) bytes += (await stat(join(dir, name))).size;
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(bytes).toBeGreaterThan(80 * 1024 * 1024); // twice the heap and more
    expect(lastSeq).toBeGreaterThan(RECORDS); // the records and their checkpoints

    // Break it near the end of the active file: line n holds seq activeFirstSeq + n - 1.
    const n = active.length - 50;
    const seq = activeFirstSeq + n - 1;
    // Four independent verifies (the intact log, and three broken copies): at once, checked in order.
    const [intact, edited, deleted, moved] = await Promise.all([
      runMcpgate(['audit', 'verify', '--file', file, '--key', keyFile], SMALL_HEAP),
      verifyChanged('edited', (lines) => {
        lines[n - 1] = lines[n - 1]!.replace('"note ', '"NOTE ');
        return lines;
      }),
      verifyChanged('deleted', (lines) => lines.filter((_, i) => i !== n - 1)),
      verifyChanged('moved', (lines) => {
        const [line] = lines.splice(n - 1, 1);
        lines.splice(n + 9, 0, line!);
        return lines;
      }),
    ]);
    expect(intact.stderr).toBe('');
    expect(intact.stdout).toMatch(new RegExp(`^intact \\(${lastSeq} records, seq 1\\.\\.${lastSeq}, files: audit\\.log\\.1, audit\\.log\\.\\d+, .*audit\\.log; ${lastSeq - RECORDS} signed checkpoint\\(s\\) verified\\)\\n$`));
    expect(intact.code).toBe(0);

    expect(edited.stdout).toMatch(new RegExp(`^broken at seq ${seq}: edited: seq ${seq} \\(audit\\.log:${n}\\) was changed`));
    expect(edited.stdout).toContain(`${seq - 1} records, seq 1..${seq - 1} verified before it`);
    expect(edited.code).toBe(1);

    expect(deleted.stdout).toMatch(new RegExp(`^broken at seq ${seq}: deleted: seq ${seq} is missing: seq ${seq - 1} is followed by seq ${seq + 1} at audit\\.log:${n}\\n`));
    expect(deleted.code).toBe(1);

    expect(moved.stdout).toMatch(new RegExp(`^broken at seq ${seq}: reordered: seq ${seq} is out of order: found at audit\\.log:${n + 10}, after seq ${seq + 1} at audit\\.log:${n}\\n`));
    expect(moved.code).toBe(1);
  }, 180_000);
});
