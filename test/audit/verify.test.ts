/**
 * The streamed verify against the oracle (the in-memory verify it replaced, referenceVerify.ts):
 * real logs from the real writer, across rotated files, with signed checkpoints (and forged ones
 * that sign an old, a wrong or a future record), tampered at random (edits, deletions, copies,
 * moves, garbage, a torn tail, CRLF, a file removed), verified with and without the key and with
 * a window of only a few records so that every look back is a read again. Both must report the
 * same thing, field for field.
 */
import { CompactSign } from 'jose';
import { createSecretKey, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/auditLog.js';
import { hashLine } from '../../src/audit/chain.js';
import type { CheckpointSigner } from '../../src/audit/checkpoint.js';
import { chainFiles } from '../../src/audit/files.js';
import { describeVerify, verifyAudit } from '../../src/audit/verify.js';
import type { GatewayEvent } from '../../src/telemetry/events.js';
import { referenceVerify } from './referenceVerify.js';

const SECRET = 'a-test-hs256-secret-of-at-least-32-bytes';
const key: KeyObject = createSecretKey(Buffer.from(SECRET));
const sign = (seq: number, hash: string) => new CompactSign(new TextEncoder().encode(JSON.stringify({ seq, hash }))).setProtectedHeader({ alg: 'HS256', typ: 'mcpgate-audit-checkpoint' }).sign(key);
const signer: CheckpointSigner = { alg: 'HS256', every: 6, intervalMs: 3_600_000, sign };

/** A mulberry32 generator: the same tampering on every run. */
function random(seed: number): (n: number) => number {
  let a = seed;
  return (n) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

function event(i: number): GatewayEvent {
  if (i % 9 !== 4) return { event: 'mcpgate.upstream.state', server: `s${i}`, state: 'ready' };
  // A tool argument that looks like a checkpoint's event member: not a checkpoint.
  return { event: 'mcpgate.tool.decision', session: 'sess', call: `c${i}`, server: 'notes', tool: 'add', public_name: 'notes__add', decision: 'allow', decided_by: 'rule', reason: 'allowed', approval_wait_ms: 0, arguments: { event: 'mcpgate.audit.checkpoint', n: i } };
}

async function emit(file: string, from: number, count: number, extra?: (lines: string[]) => Promise<GatewayEvent | Parameters<AuditLog['emit']>[0]>): Promise<void> {
  const log = new AuditLog(file, { rotate: { maxBytes: 4096 }, checkpoint: signer });
  for (let i = from; i < from + count; i++) {
    log.emit(event(i));
    // A moment after each record lets the checkpoint signed after every 6th one be written in its place.
    await new Promise((r) => setTimeout(r, 1));
  }
  await log.close();
  if (!extra) return;
  const lines: string[] = [];
  for (const path of await chainFiles(file)) lines.push(...(await readFile(path, 'utf8')).split('\n').filter(Boolean));
  const more = new AuditLog(file, { rotate: { maxBytes: 4096 } });
  more.emit(await extra(lines));
  // A few records after it, so that a checkpoint signing a later seq is reached.
  for (let i = 0; i < 5; i++) more.emit(event(from + count + i));
  await more.close();
}

/** A forged (but validly signed) checkpoint over record `seq` with hash `hash`. */
async function checkpoint(seq: number, hash: string) {
  return { event: 'mcpgate.audit.checkpoint' as const, checkpoint_seq: seq, checkpoint_hash: hash, alg: 'HS256', jws: await sign(seq, hash) };
}

type Files = Array<{ name: string; lines: string[]; newline: boolean }>;

async function load(dir: string): Promise<Files> {
  const files: Files = [];
  for (const path of await chainFiles(join(dir, 'audit.log'))) {
    const text = await readFile(path, 'utf8');
    const lines = text.split('\n');
    const newline = text.endsWith('\n');
    if (newline) lines.pop();
    files.push({ name: path.slice(dir.length + 1), lines, newline });
  }
  return files;
}

/** One random change to the files; returns what it did. */
function tamper(files: Files, pick: (n: number) => number): string {
  const file = files[pick(files.length)]!;
  const at = pick(Math.max(1, file.lines.length));
  const other = files[pick(files.length)]!;
  const to = pick(other.lines.length + 1);
  const checkpoints = files.flatMap((f) => f.lines.map((l, i) => ({ f, i, l }))).filter((e) => e.l.includes('"event":"mcpgate.audit.checkpoint"'));
  switch (pick(11)) {
    case 0:
      file.lines[at] = (file.lines[at] ?? '').replace(/"server":"s(\d+)"/, '"server":"x$1"').replace(/"n":(\d+)/, '"n":9$1');
      return `edit ${file.name}:${at + 1}`;
    case 1:
      file.lines.splice(at, 1);
      return `delete ${file.name}:${at + 1}`;
    case 2:
      other.lines.splice(to, 0, file.lines[at] ?? '');
      return `copy ${file.name}:${at + 1} to ${other.name}@${to}`;
    case 3: {
      const [line] = file.lines.splice(at, 1);
      other.lines.splice(Math.min(to, other.lines.length), 0, line ?? '');
      return `move ${file.name}:${at + 1} to ${other.name}@${to}`;
    }
    case 4:
      [file.lines[at], file.lines[at + 1]] = [file.lines[at + 1] ?? '', file.lines[at] ?? ''];
      return `swap ${file.name}:${at + 1}`;
    case 5:
      other.lines.splice(to, 0, ['not json', '', '{"seq":3}', '{"seq":7,"prev":"00"}'][pick(4)]!);
      return `garbage in ${other.name}@${to}`;
    case 6: {
      const last = files.at(-1)!;
      const line = last.lines.at(-1) ?? '';
      last.lines[last.lines.length - 1] = line.slice(0, 1 + pick(line.length));
      last.newline = false;
      return 'torn';
    }
    case 7:
      file.lines = file.lines.map((l) => `${l}\r`);
      return `crlf ${file.name}`;
    case 8:
      files.splice(files.indexOf(file), files.length > 1 ? 1 : 0);
      return `remove ${file.name}`;
    case 9: {
      const c = checkpoints[pick(checkpoints.length)];
      if (!c) return 'none';
      c.f.lines[c.i] = c.l.replace(/"jws":"(.)/, (_m, ch: string) => `"jws":"${ch === 'e' ? 'f' : 'e'}`);
      return `jws ${c.f.name}:${c.i + 1}`;
    }
    default: {
      // An old checkpoint copied later on (after a break it is still checked).
      const c = checkpoints[pick(checkpoints.length)];
      if (!c) return 'none';
      other.lines.splice(to, 0, c.l);
      return `copy checkpoint ${c.f.name}:${c.i + 1} to ${other.name}@${to}`;
    }
  }
}

async function save(dir: string, files: Files): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const f of files) await writeFile(join(dir, f.name), f.lines.join('\n') + (f.newline && f.lines.length > 0 ? '\n' : ''));
}

describe('streamed verify reports what the in-memory verify did', () => {
  let root: string;
  const bases: Record<string, string> = {};

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mcpgate-verify-'));
    await sign(0, '0'.repeat(64)); // the first signature loads jose: not while the writer waits for it
    const make = async (name: string, extra?: (lines: string[]) => Promise<Parameters<AuditLog['emit']>[0]>) => {
      const dir = join(root, name);
      await emit(join(dir, 'audit.log'), 0, 90, extra);
      bases[name] = dir;
    };
    await make('plain');
    // Signed by the key, but over an old record (read again with a small window), a wrong hash, or a record not written yet.
    await make('old-claim', (lines) => checkpoint(3, hashLine(lines[2]!)));
    await make('wrong-claim', (lines) => checkpoint(5, hashLine(lines[6]!)));
    await make('future-claim', async (lines) => checkpoint(lines.length + 40, 'ab'.repeat(32)));
    await make('future-claim-reached', async (lines) => checkpoint(lines.length + 3, 'ab'.repeat(32)));
  }, 30_000);

  afterAll(() => rm(root, { recursive: true, force: true }));

  it('the untouched logs: intact (or a signature break) the same way, with any window', async () => {
    for (const [name, dir] of Object.entries(bases)) {
      const file = join(dir, 'audit.log');
      const expected = await referenceVerify(file, key);
      for (const window of [1, 4, 65_536]) expect({ name, window, report: await verifyAudit(file, key, { window }) }).toEqual({ name, window, report: expected });
      expect(await verifyAudit(file)).toEqual(await referenceVerify(file));
    }
    expect(describeVerify(await verifyAudit(join(bases.plain!, 'audit.log'), key))).toMatch(/^intact \(\d+ records, seq 1\.\.\d+, files: audit\.log\.1, .*; \d+ signed checkpoint\(s\) verified\)$/);
    expect((await verifyAudit(join(bases['wrong-claim']!, 'audit.log'), key)).break).toMatchObject({ kind: 'signature' });
    expect((await verifyAudit(join(bases['future-claim']!, 'audit.log'), key)).break).toBeUndefined();
    // Signed before the record it names existed: it cannot match once the chain reaches it.
    expect((await verifyAudit(join(bases['future-claim-reached']!, 'audit.log'), key)).break).toMatchObject({ kind: 'signature', detail: expect.stringMatching(/the signed hash of seq \d+ does not match/) });
  });

  it('after a break, a copy of an older checkpoint is still checked: counted when genuine, named when forged', async () => {
    const files = await load(bases.plain!);
    const isCheckpoint = (l: string) => (JSON.parse(l) as { event: string }).event === 'mcpgate.audit.checkpoint';
    const old = files.flatMap((f) => f.lines).find(isCheckpoint)!;
    const forged = old.replace(/"jws":"(.)/, (_m, ch: string) => `"jws":"${ch === 'e' ? 'f' : 'e'}`);
    // In the newest file with room: a record k to delete, followed by one that is not a checkpoint.
    const target = files.findLastIndex((f) => f.lines.length >= 6);
    // The copy must be of a checkpoint older than the deleted record (the writer put several in the log).
    expect(files.slice(0, target).some((f) => f.lines.includes(old))).toBe(true);
    const k = files[target]!.lines.findIndex((l, i) => i >= 2 && !isCheckpoint(l) && !isCheckpoint(files[target]!.lines[i + 1] ?? '{}'));
    expect(k).toBeGreaterThan(0);
    for (const [name, copy, kind] of [['genuine', old, 'deleted'], ['forged', forged, 'signature']] as const) {
      const changed = structuredClone(files);
      const lines = changed[target]!.lines;
      // Delete record k, and put the copy right after the record that follows the gap.
      lines.splice(k, 1);
      lines.splice(k + 1, 0, copy);
      const dir = join(root, `after-break-${name}`);
      await save(dir, changed);
      const file = join(dir, 'audit.log');
      const expected = await referenceVerify(file, key);
      expect(expected.break?.kind).toBe(kind);
      for (const window of [1, 65_536]) expect(await verifyAudit(file, key, { window })).toEqual(expected);
    }
  });

  it('160 tampered copies: the same break (seq, kind, file:line, detail) and counts', async () => {
    const pick = random(20261125);
    const kinds = new Set<string>();
    const loaded = await Promise.all(Object.values(bases).map(load));
    for (let round = 0; round < 160; round++) {
      const files = structuredClone(loaded[round % loaded.length]!);
      const dir = join(root, `round-${round}`);
      const did = [tamper(files, pick), ...(pick(3) === 0 ? [tamper(files, pick)] : [])];
      await save(dir, files);
      const file = join(dir, 'audit.log');
      if ((await chainFiles(file)).length === 0) continue;
      const expected = await referenceVerify(file, key);
      const window = [1, 3, 65_536][round % 3]!;
      expect({ did, report: await verifyAudit(file, key, { window }) }).toEqual({ did, report: expected });
      expect({ did, report: await verifyAudit(file, undefined, { window }) }).toEqual({ did, report: await referenceVerify(file) });
      kinds.add(expected.break?.kind ?? 'intact');
    }
    // The rounds reached every kind of break.
    expect([...kinds].sort()).toEqual(['deleted', 'edited', 'inserted', 'intact', 'invalid', 'reordered', 'signature', 'torn']);
  }, 120_000);
});
