/**
 * `mcpgate audit verify`: reads every file of the chain in order, checks the hash chain
 * (chain.ts) and, given a key, every signed checkpoint.
 */
import type { KeyObject } from 'node:crypto';
import { basename } from 'node:path';
import { ErrorCodes, GatewayError } from '../errors.js';
import { chainFields, checkChain, type ChainBreak, type ChainLine } from './chain.js';
import { verifyCheckpoint } from './checkpoint.js';
import { seqRange } from './dropped.js';
import { chainFiles } from './files.js';
import { forEachLine } from './lines.js';

/** What verification found. */
export interface VerifyReport {
  readonly files: readonly string[];
  readonly records: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly checkpoints: number;
  /** Checkpoints whose signature was checked (0 without a key). */
  readonly checkpointsVerified: number;
  readonly break?: ChainBreak;
  /** For a `deleted` break: the mcpgate.audit.dropped record(s) in the log that account for the missing seqs. */
  readonly explained?: string;
}

/** The complete lines of the chain's files in order, and an incomplete last line if any. */
export async function readChainLines(files: readonly string[]): Promise<{ lines: ChainLine[]; torn?: ChainLine }> {
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

/** Verifies the chain whose active file is `active`; `key` also checks signed checkpoints. */
export async function verifyAudit(active: string, key?: KeyObject): Promise<VerifyReport> {
  const files = await chainFiles(active);
  if (files.length === 0) throw new GatewayError(ErrorCodes.AUDIT_NOT_FOUND, `no audit log at ${active}`, { remedy: 'give the audit file with --file PATH, or the config dir whose gateway.yaml names it with --config DIR' });
  const { lines, torn } = await readChainLines(files);
  const chain = checkChain(lines, torn);
  const names = files.map((f) => basename(f));
  let checkpoints = 0;
  let verified = 0;
  const intactUpTo = chain.break ? chain.break.seq : Number.POSITIVE_INFINITY;
  for (const line of lines) {
    if (!line.text.includes('"event":"mcpgate.audit.checkpoint"')) continue;
    let record: { seq: number; checkpoint_seq: number; checkpoint_hash: string; jws: string };
    try {
      record = JSON.parse(line.text) as typeof record;
    } catch {
      break; // not a record: the chain check has already named this line
    }
    if (!(record.seq < intactUpTo)) break;
    checkpoints++;
    if (!key) continue;
    const problem = await checkCheckpoint(record, key, chain.hashes);
    if (problem) {
      return { files: names, records: chain.records, firstSeq: chain.firstSeq, lastSeq: chain.lastSeq, checkpoints, checkpointsVerified: verified, break: { seq: record.seq, kind: 'signature', file: line.file, line: line.line, detail: problem } };
    }
    verified++;
  }
  const explained = chain.break?.kind === 'deleted' ? explainGap(lines, chain.break) : undefined;
  return { files: names, records: chain.records, firstSeq: chain.firstSeq, lastSeq: chain.lastSeq, checkpoints, checkpointsVerified: verified, ...(chain.break ? { break: chain.break } : {}), ...(explained ? { explained } : {}) };
}

/**
 * The writer's own account of a gap: the mcpgate.audit.dropped records (anywhere in the log)
 * whose seq ranges together cover every missing seq. It explains the gap; it does not close it.
 */
function explainGap(lines: readonly ChainLine[], gap: ChainBreak): string | undefined {
  const after = lines.find((l) => l.file === gap.file && l.line === gap.line);
  const next = after ? chainFields(after.text)?.seq : undefined;
  if (next === undefined) return undefined;
  const runs: Array<{ seq: number; first_seq: number; last_seq: number; reason: string }> = [];
  for (const line of lines) {
    if (!line.text.includes('"event":"mcpgate.audit.dropped"')) continue;
    try {
      const r = JSON.parse(line.text) as { seq: number; first_seq: number; last_seq: number; reason: string };
      if (Number.isSafeInteger(r.first_seq) && Number.isSafeInteger(r.last_seq)) runs.push(r);
    } catch {
      // not a record: the chain check names it
    }
  }
  const covering = runs.filter((r) => r.last_seq >= gap.seq && r.first_seq < next);
  for (let seq = gap.seq; seq < next; ) {
    const run = covering.find((r) => r.first_seq <= seq && r.last_seq >= seq);
    if (!run) return undefined;
    seq = run.last_seq + 1;
  }
  return covering.map((r) => `the writer recorded dropping ${seqRange(r.first_seq, r.last_seq)} (mcpgate.audit.dropped at seq ${r.seq}: ${r.reason})`).join('; ');
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

/** One-line summary for the CLI. */
export function describeVerify(report: VerifyReport): string {
  const range = report.records === 0 ? 'no records' : `${report.records} records, seq ${report.firstSeq}..${report.lastSeq}`;
  const start = report.firstSeq > 1 ? `; the chain starts at seq ${report.firstSeq} (older files were rotated away)` : '';
  const signed =
    report.checkpoints === 0 ? '' : report.checkpointsVerified === report.checkpoints ? `; ${report.checkpoints} signed checkpoint(s) verified` : `; ${report.checkpoints} checkpoint(s) not checked (no --key)`;
  if (!report.break) return `intact (${range}, files: ${report.files.join(', ')}${start}${signed})`;
  const b = report.break;
  const why = report.explained ? `\nthe gap is explained in the log: ${report.explained}` : '';
  return `broken at seq ${b.seq}: ${b.kind}: ${b.detail}${why}\n${range} verified before it (files: ${report.files.join(', ')})`;
}
