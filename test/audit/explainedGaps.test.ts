/**
 * verify across a gap the writer explained, on real logs from the real writer: writes fail for
 * real (the active file is reached through a symlinked directory; removing the link makes the
 * rotation's rename and every reopen fail with ENOENT, restoring it lets the writer go on), the
 * oldest waiting records are dropped beyond the memory bound, and the writer appends a
 * mcpgate.audit.dropped record with last_hash. verify then goes on across the gap (checkpoints
 * after it too), and still finds what is wrong after it; a forged, older or unverified
 * explanation, or a gap nothing explains, is a break.
 */
import { CompactSign } from 'jose';
import { createSecretKey } from 'node:crypto';
import { mkdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/auditLog.js';
import { hashLine } from '../../src/audit/chain.js';
import type { CheckpointSigner } from '../../src/audit/checkpoint.js';
import { chainFiles } from '../../src/audit/files.js';
import { describeVerify, verifyAudit } from '../../src/audit/verify.js';
import { breakableLogDir } from '../support/breakableDir.js';
import { runMcpgate, waitFor } from '../support/gateway.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const key = createSecretKey(Buffer.from('a-test-hs256-secret-of-at-least-32-bytes'));
const sign = (seq: number, hash: string) => new CompactSign(new TextEncoder().encode(JSON.stringify({ seq, hash }))).setProtectedHeader({ alg: 'HS256', typ: 'mcpgate-audit-checkpoint' }).sign(key);
const signer: CheckpointSigner = { alg: 'HS256', every: 5, intervalMs: 3_600_000, sign };

type Rec = Record<string, unknown> & { seq: number; prev: string; event: string };

/** Every line of the chain's files, in order, with its file. */
interface Line {
  readonly path: string;
  text: string;
}

async function linesOf(active: string): Promise<Line[]> {
  const out: Line[] = [];
  for (const path of await chainFiles(active)) for (const text of (await readFile(path, 'utf8')).split('\n').slice(0, -1)) out.push({ path, text });
  return out;
}

/** Writes the lines back to their files; a file left without lines is removed. */
async function writeLines(active: string, lines: readonly Line[]): Promise<void> {
  const byFile = new Map<string, string>();
  for (const l of lines) byFile.set(l.path, `${byFile.get(l.path) ?? ''}${l.text}\n`);
  for (const path of await chainFiles(active)) if (!byFile.has(path)) await unlink(path);
  for (const [path, text] of byFile) await writeFile(path, text);
}

const rec = (line: Line) => JSON.parse(line.text) as Rec;

/** Changes the record at `index`; `rechain` also rewrites every prev after it (a forger who rewrites the tail). */
function change(lines: Line[], index: number, edit: (r: Rec) => void, rechain: boolean): void {
  const r = rec(lines[index]!);
  edit(r);
  lines[index]!.text = JSON.stringify(r);
  if (!rechain) return;
  for (let i = index + 1; i < lines.length; i++) {
    const next = rec(lines[i]!);
    next.prev = hashLine(lines[i - 1]!.text);
    lines[i]!.text = JSON.stringify(next);
  }
}

describe('verify across gaps the writer explained', () => {
  const logs = breakableLogDir('mcpgate-gaps-');

  /**
   * A real log with one explained gap: 2 records, then writes fail while 28 more are emitted
   * (the oldest dropped beyond 600 bytes), then they work again: the dropped record, and `after`
   * more records. Returns the lines and the dropped record's index.
   */
  async function gappedLog(options: { checkpoint?: CheckpointSigner; outages?: number } = {}): Promise<{ lines: Line[]; drop: number }> {
    const log = new AuditLog(logs.active, { rotate: { maxBytes: 400 }, maxPendingBytes: 600, onError: () => undefined, ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}) });
    for (let i = 0; i < 2; i++) log.emit({ event: 'mcpgate.upstream.state', server: `s${i}`, state: 'ready' });
    log.flush();
    await waitFor(async () => (await readFile(logs.active, 'utf8').catch(() => '')).split('\n').length >= 3);
    const drops = async () => (await linesOf(logs.active)).filter((l) => l.text.includes('"event":"mcpgate.audit.dropped"')).length;
    for (let outage = 1; outage <= (options.outages ?? 1); outage++) {
      await logs.cut();
      for (let i = 2; i < 30; i++) {
        log.emit({ event: 'mcpgate.upstream.state', server: `s${outage}-${i}`, state: 'ready' });
        await sleep(10);
      }
      await logs.mend();
      await waitFor(async () => (await drops()) === outage, 10_000, () => `dropped record ${outage}`);
      for (let i = 0; i < 8; i++) {
        log.emit({ event: 'mcpgate.upstream.state', server: `after${outage}-${i}`, state: 'ready' });
        await sleep(10);
      }
    }
    await log.close();
    const lines = await linesOf(logs.active);
    return { lines, drop: lines.findIndex((l) => rec(l).event === 'mcpgate.audit.dropped') };
  }

  it('the dropped record links across the gap, and verify goes on to the end (checkpoints after it too); the CLI exits 3', async () => {
    const { lines, drop } = await gappedLog({ checkpoint: signer });
    const d = rec(lines[drop]!);
    const seqs = lines.map((l) => rec(l).seq);
    const after = seqs.indexOf(Number(d.last_seq) + 1);
    // The writer's link: last_hash is the prev of the first record after the gap.
    expect(d).toMatchObject({ first_seq: 3, records: Number(d.last_seq) - 2, last_hash: rec(lines[after]!).prev });
    expect(seqs.slice(0, after)).not.toContain(3);

    const report = await verifyAudit(logs.active, key);
    expect(report.break).toBeUndefined();
    expect(report).toMatchObject({ records: lines.length, firstSeq: 1, lastSeq: seqs.at(-1) });
    expect(report.gaps).toEqual({ count: 1, listed: [{ firstSeq: 3, lastSeq: d.last_seq, droppedAt: [d.seq], reason: expect.stringMatching(/more than 600 bytes/) }] });
    // Checkpoints signed after the gap were checked against the records they sign.
    const checkpoints = lines.map(rec).filter((r) => r.event === 'mcpgate.audit.checkpoint');
    expect(checkpoints.some((c) => Number(c.checkpoint_seq) > Number(d.seq))).toBe(true);
    expect(report.checkpointsVerified).toBe(report.checkpoints);
    expect(report.checkpoints).toBe(checkpoints.length);
    const text = describeVerify(report);
    expect(text).toMatch(/^intact except 1 explained gap: the chain verifies to the end/);
    expect(text).toContain(`gap: seqs 3..${String(d.last_seq)} (mcpgate.audit.dropped at seq ${String(d.seq)}: more than 600 bytes`);

    // A (validly signed) checkpoint after the gap that signs a wrong hash is still found.
    const at = lines.map(rec).findIndex((r) => r.event === 'mcpgate.audit.checkpoint' && Number(r.checkpoint_seq) > Number(d.seq));
    const signed = rec(lines[at]!);
    const wrong = 'ab'.repeat(32);
    const jws = await sign(Number(signed.checkpoint_seq), wrong);
    change(lines, at, (r) => Object.assign(r, { checkpoint_hash: wrong, jws }), true);
    await writeLines(logs.active, lines);
    const forged = await verifyAudit(logs.active, key);
    expect(forged.break).toMatchObject({ kind: 'signature', seq: signed.seq });
    expect(forged.gaps?.count).toBe(1);

    // The CLI on a fresh log: exit 3, distinct from intact (0) and broken (1).
    await gappedLogAgain();
    const cli = await runMcpgate(['audit', 'verify', '--file', logs.active]);
    expect(cli.stdout).toMatch(/^intact except 1 explained gap/);
    expect(cli.code).toBe(3);
  });

  /** A fresh gapped log in a fresh directory (the first one was tampered with). */
  async function gappedLogAgain(): Promise<{ lines: Line[]; drop: number }> {
    await rm(logs.real, { recursive: true, force: true });
    await mkdir(logs.real);
    return gappedLog();
  }

  it('goes on across every explained gap (two outages), and counts what the gaps skipped when it looks back', async () => {
    const { lines } = await gappedLog({ checkpoint: signer, outages: 2 });
    const drops = lines.map(rec).filter((r) => r.event === 'mcpgate.audit.dropped');
    expect(drops).toHaveLength(2);
    const report = await verifyAudit(logs.active, key, { window: 3 });
    expect(report.break).toBeUndefined();
    expect(report.gaps).toMatchObject({ count: 2, listed: drops.map((d) => ({ firstSeq: d.first_seq, lastSeq: d.last_seq, droppedAt: [d.seq] })) });
    expect(report.records).toBe(lines.length);
    expect(report.checkpointsVerified).toBe(report.checkpoints);
    expect(report.checkpoints).toBeGreaterThan(3);
    expect(describeVerify(report)).toMatch(/^intact except 2 explained gaps: [^\n]*\n  gap: seqs 3\.\.[^\n]*\n  gap: seqs \d+\.\./);
  });

  it('finds and names an edit after the gap', async () => {
    const { lines, drop } = await gappedLog();
    const target = drop + 3;
    const seq = rec(lines[target]!).seq;
    change(lines, target, (r) => (r.server = 'forged'), false);
    await writeLines(logs.active, lines);
    const report = await verifyAudit(logs.active);
    expect(report.break).toMatchObject({ kind: 'edited', seq, file: basename(lines[target]!.path) });
    expect(report.gaps?.count).toBe(1);
    expect(report.lastSeq).toBe(seq - 1);
    expect(describeVerify(report)).toMatch(new RegExp(`^broken at seq ${seq}: edited: [\\s\\S]*verified before it, across 1 explained gap[\\s\\S]*\\n  gap: seqs 3\\.\\.`));
  });

  it('names a copied record after the gap where it first occurs (seqs skipped by the gap are counted)', async () => {
    const { lines, drop } = await gappedLog();
    const copied = lines[drop + 2]!;
    lines.push({ path: lines.at(-1)!.path, text: copied.text });
    await writeLines(logs.active, lines);
    const report = await verifyAudit(logs.active, undefined, { window: 2 });
    const lineNo = (i: number) => lines.slice(0, i + 1).filter((l) => l.path === lines[i]!.path).length;
    expect(report.break).toMatchObject({ kind: 'inserted', seq: rec(copied).seq });
    expect(report.break?.detail).toContain(`${basename(copied.path)}:${lineNo(drop + 2)}, ${basename(lines.at(-1)!.path)}:${lineNo(lines.length - 1)}`);
  });

  it('a gap whose dropped record is not in the verified chain (an edit between them) is the break', async () => {
    const { lines, drop } = await gappedLog();
    const first = lines.findIndex((l, i) => i > 1 && rec(l).seq > 3);
    expect(first).toBeLessThan(drop);
    change(lines, first, (r) => (r.server = 'forged'), false);
    await writeLines(logs.active, lines);
    const report = await verifyAudit(logs.active);
    expect(report.break).toMatchObject({ kind: 'deleted', seq: 3 });
    expect(report.break?.detail).toContain(`the mcpgate.audit.dropped record at seq ${rec(lines[drop]!).seq} that would explain it is not in the verified chain`);
    expect(report).toMatchObject({ records: 2, lastSeq: 2 });
    expect(report.gaps).toBeUndefined();
  });

  it('a forged dropped record (wrong last_hash, or a range that does not fit the gap) is a break, even with the tail rechained', async () => {
    const { lines, drop } = await gappedLog();
    const original = lines.map((l) => ({ ...l }));
    const d = rec(lines[drop]!);

    change(lines, drop, (r) => (r.last_hash = 'cd'.repeat(32)), true);
    await writeLines(logs.active, lines);
    let report = await verifyAudit(logs.active);
    expect(report.break).toMatchObject({ kind: 'deleted', seq: 3 });
    expect(report.explained).toMatch(/but its last_hash is not the prev of seq \d+: the link across the gap does not check$/);
    expect(describeVerify(report)).toMatch(/^broken at seq 3: deleted: /);

    for (const range of [
      { first_seq: 4, records: Number(d.records) - 1 }, // leaves seq 3 unexplained
      { first_seq: 2, records: Number(d.records) + 1 }, // claims a seq that is in the log
      { last_seq: Number(d.last_seq) - 1, records: Number(d.records) - 1 }, // does not reach the record after the gap
    ]) {
      const forged = original.map((l) => ({ ...l }));
      change(forged, drop, (r) => Object.assign(r, range), true);
      await writeLines(logs.active, forged);
      report = await verifyAudit(logs.active);
      expect(report.break, JSON.stringify(range)).toMatchObject({ kind: 'deleted', seq: 3 });
      expect(report.gaps).toBeUndefined();
    }

    // A dropped record without last_hash (an older writer): the gap is a break, explained as before.
    const older = original.map((l) => ({ ...l }));
    change(older, drop, (r) => delete r.last_hash, true);
    await writeLines(logs.active, older);
    report = await verifyAudit(logs.active);
    expect(report.break).toMatchObject({ kind: 'deleted', seq: 3 });
    expect(describeVerify(report)).toContain(`the gap is explained in the log: the writer recorded dropping seqs 3..${String(d.last_seq)} (mcpgate.audit.dropped at seq ${String(d.seq)}: `);
    expect(report.explained).toMatch(/it has no last_hash \(an older writer\): the link across the gap cannot be checked$/);
  });

  it('with --key, records deleted from a signed log and a made-up dropped record appended after the last checkpoint are a break, not an explained gap', async () => {
    // An intact, signed log (no outage): checkpoints every 5 records and one at close.
    const log = new AuditLog(logs.active, { checkpoint: signer, onError: () => undefined });
    for (let i = 0; i < 20; i++) log.emit({ event: 'mcpgate.upstream.state', server: `s${i}`, state: 'ready' });
    await log.close();
    const lines = await linesOf(logs.active);
    expect((await verifyAudit(logs.active, key)).break).toBeUndefined();
    // The forger deletes seqs 5..7 and appends, after the last (signed) checkpoint, a dropped
    // record that "explains" them: nothing signed is rewritten.
    const at = (seq: number) => lines.findIndex((l) => rec(l).seq === seq);
    const lastHash = hashLine(lines[at(7)]!.text);
    lines.splice(at(5), 3);
    const last = rec(lines.at(-1)!);
    const forged = { seq: last.seq + 1, prev: hashLine(lines.at(-1)!.text), time: last.time, event: 'mcpgate.audit.dropped', first_seq: 5, last_seq: 7, records: 3, reason: 'forged', last_hash: lastHash };
    lines.push({ path: lines.at(-1)!.path, text: JSON.stringify(forged) });
    await writeLines(logs.active, lines);
    // Without a key the hash chain alone cannot tell (anyone can append a chained line).
    expect((await verifyAudit(logs.active)).gaps?.count).toBe(1);
    const report = await verifyAudit(logs.active, key);
    expect(report.gaps).toBeUndefined();
    expect(report.break).toMatchObject({ kind: 'deleted', seq: 5 });
    expect(report.break?.detail).toContain(`the mcpgate.audit.dropped record at seq ${forged.seq} that would explain it is not covered by a signed checkpoint`);
    const cli = await runMcpgate(['audit', 'verify', '--file', logs.active, '--key', '${env:MCPGATE_TEST_GAP_KEY}'], { MCPGATE_TEST_GAP_KEY: 'a-test-hs256-secret-of-at-least-32-bytes' });
    expect(cli.stdout).toMatch(/^broken at seq 5: deleted: /);
    expect(cli.code).toBe(1);
  });

  it('an unexplained gap is a break as before, also after an explained one', async () => {
    const { lines, drop } = await gappedLog();
    const gone = rec(lines[drop + 3]!).seq;
    lines.splice(drop + 3, 1);
    await writeLines(logs.active, lines);
    const report = await verifyAudit(logs.active);
    expect(report.break).toMatchObject({ kind: 'deleted', seq: gone, detail: expect.stringMatching(new RegExp(`^seq ${gone} is missing`)) });
    expect(report.gaps?.count).toBe(1);
    expect(report.lastSeq).toBe(gone - 1);

    // The gap the writer explained, with the record after it deleted as well: not explained.
    const again = await gappedLogAgain();
    const d = rec(again.lines[again.drop]!);
    const afterGap = again.lines.findIndex((l) => rec(l).seq === Number(d.last_seq) + 1);
    again.lines.splice(afterGap, 1);
    await writeLines(logs.active, again.lines);
    const broken = await verifyAudit(logs.active);
    expect(broken.break).toMatchObject({ kind: 'deleted', seq: 3 });
    expect(broken.gaps).toBeUndefined();
  });
});
