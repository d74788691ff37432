/**
 * The audit hash chain, pure: how a record line is built and hashed, and how a sequence of lines
 * is checked. Every line is `{"seq":N,"prev":"<hex>","time":"…","event":"…",…}`; `prev` is the
 * SHA-256 (lowercase hex) of the previous record's line as UTF-8 bytes, without its newline; the
 * first record of a chain has seq 1 and `prev` = {@link GENESIS}. No I/O here (see verify.ts).
 */
import { hash } from 'node:crypto';

/** `prev` of the first record of a chain: 64 zeros. */
export const GENESIS = '0'.repeat(64);

/** SHA-256 hex of one record line (without its trailing newline). */
export function hashLine(line: string): string {
  // One-shot crypto.hash: about half the cost of createHash().update().digest() per record.
  return hash('sha256', line, 'hex');
}

/** SHA-256 hex of one record line's UTF-8 bytes (without the trailing newline): `hashLine` of its text. */
export function hashBytes(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'hex');
}

/** The line of a record: chain fields first, then `time`, then the event's own fields. */
export function formatLine(seq: number, prev: string, time: string, eventMembers: string): string {
  // eventMembers is JSON.stringify(event) without its `{` (eventJson.ts): our fields go in front.
  return `{"seq":${seq},"prev":"${prev}","time":"${time}",${eventMembers}`;
}

/** A line read back from a file, with where it came from. */
export interface ChainLine {
  readonly file: string;
  /** 1-based line number in its file. */
  readonly line: number;
  readonly text: string;
}

/** Why a chain is broken. */
export type BreakKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'torn' | 'invalid' | 'signature';

/** The first place a chain breaks. */
export interface ChainBreak {
  readonly seq: number;
  readonly kind: BreakKind;
  readonly file: string;
  readonly line: number;
  readonly detail: string;
}

/** What checking a chain found. */
export interface ChainResult {
  readonly records: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Hash of each record's line by seq (for checkpoint checks). */
  readonly hashes: ReadonlyMap<number, string>;
  readonly break?: ChainBreak;
}

interface Parsed {
  readonly seq: number;
  readonly prev: string;
}

/** The chain fields of a line, or undefined when it is not a chained record. */
export function chainFields(text: string): Parsed | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const record = value as { seq?: unknown; prev?: unknown };
  if (typeof value !== 'object' || value === null || !Number.isSafeInteger(record.seq) || (record.seq as number) < 1) return undefined;
  if (typeof record.prev !== 'string' || !/^[0-9a-f]{64}$/.test(record.prev)) return undefined;
  return { seq: record.seq as number, prev: record.prev };
}

/**
 * Checks complete lines in order. `torn` is an incomplete last line (no newline), reported after
 * everything before it verified. A chain may start after seq 1 (older files rotated away); its
 * first `prev` then cannot be checked.
 */
export function checkChain(lines: readonly ChainLine[], torn?: ChainLine): ChainResult {
  const parsed = lines.map((l) => chainFields(l.text));
  const positions = new Map<number, number[]>();
  parsed.forEach((p, i) => {
    if (!p) return;
    const list = positions.get(p.seq);
    if (list) list.push(i);
    else positions.set(p.seq, [i]);
  });
  const hashes = new Map<number, string>();
  const where = (i: number) => `${lines[i]!.file}:${lines[i]!.line}`;
  const result = (records: number, firstSeq: number, lastSeq: number, broken?: ChainBreak): ChainResult => ({
    records,
    firstSeq,
    lastSeq,
    hashes,
    ...(broken ? { break: broken } : {}),
  });
  let prevSeq = 0;
  let prevHash = GENESIS;
  let firstSeq = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fields = parsed[i];
    const expected = prevSeq + 1;
    const at = { file: line.file, line: line.line };
    if (!fields) {
      return result(i, firstSeq, prevSeq, { seq: expected, kind: 'invalid', ...at, detail: `${where(i)} is not a chained audit record (edited or inserted)` });
    }
    const hash = hashLine(line.text);
    if (i === 0) {
      firstSeq = fields.seq;
      if (fields.seq === 1 && fields.prev !== GENESIS) {
        return result(0, 1, 0, { seq: 1, kind: 'edited', ...at, detail: `seq 1 must chain to the genesis value, its prev is ${fields.prev.slice(0, 12)}…` });
      }
    } else if (fields.seq === expected) {
      if (fields.prev !== prevHash) {
        if ((positions.get(fields.seq)?.length ?? 0) > 1) {
          return result(i, firstSeq, prevSeq, { seq: fields.seq, kind: 'inserted', ...at, detail: `more than one record claims seq ${fields.seq} (${positions.get(fields.seq)!.map(where).join(', ')})` });
        }
        return result(i - 1, firstSeq, prevSeq - 1, {
          seq: prevSeq,
          kind: 'edited',
          file: lines[i - 1]!.file,
          line: lines[i - 1]!.line,
          detail: `seq ${prevSeq} (${where(i - 1)}) was changed: its hash no longer matches the prev of seq ${fields.seq}`,
        });
      }
    } else if (fields.seq > expected) {
      const later = positions.get(expected)?.find((j) => j > i);
      if (later !== undefined) {
        return result(i, firstSeq, prevSeq, { seq: expected, kind: 'reordered', ...at, detail: `seq ${expected} is out of order: found at ${where(later)}, after seq ${fields.seq} at ${where(i)}` });
      }
      const missing = fields.seq - expected === 1 ? `seq ${expected} is` : `seqs ${expected}..${fields.seq - 1} are`;
      return result(i, firstSeq, prevSeq, { seq: expected, kind: 'deleted', ...at, detail: `${missing} missing: seq ${prevSeq} is followed by seq ${fields.seq} at ${where(i)}` });
    } else {
      const all = positions.get(fields.seq) ?? [];
      if (all.length > 1) {
        return result(i, firstSeq, prevSeq, { seq: fields.seq, kind: 'inserted', ...at, detail: `more than one record claims seq ${fields.seq} (${all.map(where).join(', ')})` });
      }
      return result(i, firstSeq, prevSeq, { seq: fields.seq, kind: 'reordered', ...at, detail: `seq ${fields.seq} at ${where(i)} comes after seq ${prevSeq}` });
    }
    hashes.set(fields.seq, hash);
    prevSeq = fields.seq;
    prevHash = hash;
  }
  if (torn) {
    return result(lines.length, firstSeq, prevSeq, {
      seq: prevSeq + 1,
      kind: 'torn',
      file: torn.file,
      line: torn.line,
      detail: `the last line (${torn.file}:${torn.line}, ${Buffer.byteLength(torn.text)} bytes) is incomplete: the writer stopped mid-record; the ${lines.length} records before it verify (the gateway repairs this on its next start)`,
    });
  }
  return result(lines.length, firstSeq, prevSeq);
}
