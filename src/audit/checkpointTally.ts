/**
 * The signed checkpoints of an audit chain as `mcpgate audit verify` meets them (verify.ts walks
 * the chain): which lines are checkpoints, and each one's signature checked against the record
 * it signs, counted up to the first that fails.
 */
import type { KeyObject } from 'node:crypto';
import type { ChainBreak, ChainPosition } from './chain.js';
import { verifyCheckpoint } from './checkpoint.js';

/** The event of a checkpoint record. */
export const CHECKPOINT_EVENT = 'mcpgate.audit.checkpoint';
/** Cheap test before parsing a line as a checkpoint. */
const CHECKPOINT_MARK = `"event":"${CHECKPOINT_EVENT}"`;

/** A checkpoint record as verify reads it. */
export interface CheckpointRecord {
  readonly seq: number;
  readonly event?: unknown;
  readonly checkpoint_seq: number;
  readonly checkpoint_hash: string;
  readonly jws: string;
}

/** A checkpoint that failed, with the counts verify reports at that point. */
export interface CheckpointFailure {
  readonly seq: number;
  readonly break: ChainBreak;
  readonly checkpoints: number;
  readonly verified: number;
}

/** A line that is a checkpoint record, or undefined; `stop` when it is not a record at all. */
export function checkpointOf(text: string): CheckpointRecord | 'stop' | undefined {
  if (!text.includes(CHECKPOINT_MARK)) return undefined;
  let record: CheckpointRecord;
  try {
    record = JSON.parse(text) as CheckpointRecord;
  } catch {
    return 'stop'; // not a record: the chain check has already named this line
  }
  // The mark can also be a tool argument's member: only the record's own event makes it a checkpoint.
  return typeof record === 'object' && record !== null && record.event === CHECKPOINT_EVENT ? record : undefined;
}

/**
 * Checkpoints in chain order, counted up to the first that fails (as verify reports them). While
 * the chain is being walked, a checkpoint may sign a seq not reached yet: it fails if the chain
 * reaches it (a record signed before it existed cannot match), which is known at the end.
 */
export class CheckpointTally {
  checkpoints = 0;
  verified = 0;
  /** Seq of the last checkpoint counted. */
  lastSeq = 0;
  failure: CheckpointFailure | undefined;
  /** Checkpoints that signed a seq beyond the chain walked so far; only those signing a lower seq than every earlier one can be the first to fail. */
  private readonly ahead: Array<{ readonly signed: number; readonly failure: CheckpointFailure }> = [];

  constructor(private readonly key: KeyObject | undefined) {}

  /** Counts and (with a key) checks a checkpoint; `hashes` gives the hash of a verified record, `reached` the last seq walked; `signs` hears of a verified record it signs. */
  async add(record: CheckpointRecord, at: ChainPosition, hashes: { get(seq: number): Promise<string | undefined> }, reached: number, signs?: (seq: number) => void): Promise<void> {
    if (this.failure) return;
    this.checkpoints++;
    this.lastSeq = record.seq;
    if (!this.key) return;
    const problem = await signedProblem(record, this.key);
    if (typeof problem === 'string') return this.fail(record, at, problem);
    if (problem.seq > reached) {
      const failure = this.failureAt(record, at, edited(record, problem.seq));
      if (this.ahead.every((a) => problem.seq < a.signed)) this.ahead.push({ signed: problem.seq, failure });
    } else {
      const actual = await hashes.get(problem.seq);
      // A head in a file that rotation has since deleted cannot be compared; the signature still held.
      if (actual !== undefined && actual !== problem.hash) return this.fail(record, at, edited(record, problem.seq));
      if (actual !== undefined) signs?.(problem.seq);
    }
    this.verified++;
  }

  /** The first failure among checkpoints before seq `before`, the chain verified up to seq `reached`. */
  firstFailure(before: number, reached: number): CheckpointFailure | undefined {
    const ahead = this.ahead.find((a) => a.signed <= reached && a.failure.seq < before)?.failure;
    return ahead ?? (this.failure && this.failure.seq < before ? this.failure : undefined);
  }

  private failureAt(record: CheckpointRecord, at: ChainPosition, detail: string): CheckpointFailure {
    return { seq: record.seq, break: { seq: record.seq, kind: 'signature', file: at.file, line: at.line, detail }, checkpoints: this.checkpoints, verified: this.verified };
  }

  private fail(record: CheckpointRecord, at: ChainPosition, detail: string): void {
    this.failure = this.failureAt(record, at, detail);
  }
}

const edited = (record: CheckpointRecord, seq: number) => `checkpoint seq ${record.seq}: the signed hash of seq ${seq} does not match the record in the log (edited)`;

/** The signed claim of a checkpoint, or what is wrong with its signature. */
async function signedProblem(record: CheckpointRecord, key: KeyObject): Promise<{ seq: number; hash: string } | string> {
  const claim = await verifyCheckpoint(String(record.jws), key);
  if (typeof claim === 'string') return `checkpoint seq ${record.seq}: ${claim}`;
  if (claim.seq !== record.checkpoint_seq || claim.hash !== record.checkpoint_hash) return `checkpoint seq ${record.seq}: its fields differ from what was signed (seq ${claim.seq})`;
  return claim;
}
