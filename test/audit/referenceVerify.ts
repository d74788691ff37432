/**
 * The test oracle: verify as it was before it streamed (every line of every file in memory, the
 * chain checked over the whole array). The streamed verify must report exactly what this does.
 * Test-only: it needs memory in proportion to the log.
 */
import type { KeyObject } from 'node:crypto';
import { basename } from 'node:path';
import { chainFields, GENESIS, hashLine, type ChainBreak, type ChainLine, type ChainResult } from '../../src/audit/chain.js';
import { verifyCheckpoint } from '../../src/audit/checkpoint.js';
import { chainFiles } from '../../src/audit/files.js';
import { forEachLine } from '../../src/audit/lines.js';
import type { VerifyReport } from '../../src/audit/verify.js';

/** The complete lines of the chain's files in order, and an incomplete last line if any. */
async function readChainLines(files: readonly string[]): Promise<{ lines: ChainLine[]; torn?: ChainLine }> {
  const lines: ChainLine[] = [];
  let torn: ChainLine | undefined;
  for (const [index, file] of files.entries()) {
    const name = basename(file);
    let number = 0;
    await forEachLine(file, (text, complete) => {
      // A line too long to be a record keeps its place (it is not a record) but not its bytes.
      const line = { file: name, line: ++number, text: text ?? '' };
      // Only the newest file may end mid-record; anywhere else it is damage inside the chain.
      if (!complete && index === files.length - 1) torn = line;
      else lines.push(line);
    });
  }
  return torn ? { lines, torn } : { lines };
}

function referenceChain(lines: readonly ChainLine[], torn?: ChainLine): ChainResult {
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

/** Verifies the chain whose active file is `active`; `key` also checks signed checkpoints. */
export async function referenceVerify(active: string, key?: KeyObject): Promise<VerifyReport> {
  const files = await chainFiles(active);
  if (files.length === 0) throw new Error(`no audit log at ${active}`);
  const { lines, torn } = await readChainLines(files);
  const chain = referenceChain(lines, torn);
  const names = files.map((f) => basename(f));
  let checkpoints = 0;
  let verified = 0;
  const intactUpTo = chain.break ? chain.break.seq : Number.POSITIVE_INFINITY;
  for (const line of lines) {
    if (!line.text.includes('"event":"mcpgate.audit.checkpoint"')) continue;
    let record: { seq: number; event?: unknown; checkpoint_seq: number; checkpoint_hash: string; jws: string };
    try {
      record = JSON.parse(line.text) as typeof record;
    } catch {
      break; // not a record: the chain check has already named this line
    }
    if (record.event !== 'mcpgate.audit.checkpoint') continue; // the one change: a nested member is not a checkpoint
    if (!(record.seq < intactUpTo)) break;
    checkpoints++;
    if (!key) continue;
    const problem = await checkCheckpoint(record, key, chain.hashes);
    if (problem) {
      return { files: names, records: chain.records, firstSeq: chain.firstSeq, lastSeq: chain.lastSeq, checkpoints, checkpointsVerified: verified, break: { seq: record.seq, kind: 'signature', file: line.file, line: line.line, detail: problem } };
    }
    verified++;
  }
  return { files: names, records: chain.records, firstSeq: chain.firstSeq, lastSeq: chain.lastSeq, checkpoints, checkpointsVerified: verified, ...(chain.break ? { break: chain.break } : {}) };
}

async function checkCheckpoint(record: { seq: number; checkpoint_seq: number; checkpoint_hash: string; jws: string }, key: KeyObject, hashes: ReadonlyMap<number, string>): Promise<string | undefined> {
  const claim = await verifyCheckpoint(String(record.jws), key);
  if (typeof claim === 'string') return `checkpoint seq ${record.seq}: ${claim}`;
  if (claim.seq !== record.checkpoint_seq || claim.hash !== record.checkpoint_hash) return `checkpoint seq ${record.seq}: its fields differ from what was signed (seq ${claim.seq})`;
  const actual = hashes.get(claim.seq);
  // A head in a file that rotation has since deleted cannot be compared; the signature still held.
  if (actual !== undefined && actual !== claim.hash) return `checkpoint seq ${record.seq}: the signed hash of seq ${claim.seq} does not match the record in the log (edited)`;
  return undefined;
}

