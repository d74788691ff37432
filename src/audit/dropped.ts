/**
 * Records the audit writer gave up on (pending beyond its memory bound while writes failed, or a
 * failed write-ahead write): which seqs, how many, why. The writer appends a
 * `mcpgate.audit.dropped` record with these fields once it can write again, so the gap that
 * `verify` reports is explained inside the log, and linked across: `last_hash` is the hash of the
 * last dropped line, the `prev` of the record after the gap. It is taken here, when a chunk is
 * dropped (from the chunk's last line), so the write path pays nothing for it. Buffers here hold
 * complete record lines.
 */
import { hashBytes } from './chain.js';
import { plural } from './writeErrors.js';

/** A run of consecutive seqs that will never be in the log. */
export interface DroppedRecords {
  readonly first_seq: number;
  readonly last_seq: number;
  readonly records: number;
  readonly reason: string;
  /** SHA-256 of the line of seq `last_seq`: the `prev` of the record that follows the gap. */
  readonly last_hash: string;
}

const SEQ_AT = '{"seq":'.length;

/** Seq of the first record line in `chunk` (every line starts `{"seq":N,`); 0 when there is none. */
export function firstSeqOf(chunk: Buffer): number {
  let seq = 0;
  for (let i = SEQ_AT; i < chunk.length; i++) {
    const digit = chunk[i]! - 0x30;
    if (digit < 0 || digit > 9) break;
    seq = seq * 10 + digit;
  }
  return seq;
}

/** Complete lines in `chunk`. */
export function lineCount(chunk: Buffer): number {
  let n = 0;
  for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** SHA-256 of the last complete line of `chunk` (without its newline); the chunk ends in a newline. */
export function lastLineHash(chunk: Buffer): string {
  const end = chunk.length - 1;
  return hashBytes(chunk.subarray(chunk.lastIndexOf(0x0a, end - 1) + 1, end));
}

/** Adds `chunk`'s records to `runs`: extends the last run when its seqs follow it, else starts a new one. */
export function addDropped(runs: DroppedRecords[], chunk: Buffer, reason: string): void {
  const first = firstSeqOf(chunk);
  const records = lineCount(chunk);
  if (records === 0) return;
  const last = runs.at(-1);
  const last_hash = lastLineHash(chunk);
  if (last && last.last_seq + 1 === first) runs[runs.length - 1] = { ...last, last_seq: first + records - 1, records: last.records + records, last_hash };
  else runs.push({ first_seq: first, last_seq: first + records - 1, records, reason, last_hash });
}

/** `seq 5` or `seqs 5..9`. */
export function seqRange(first: number, last: number): string {
  return first === last ? `seq ${first}` : `seqs ${first}..${last}`;
}

/** Records in the queued chunks (rotation markers skipped). */
export function queuedRecords(queue: ReadonlyArray<Buffer | object>): number {
  let n = 0;
  for (const item of queue) if (Buffer.isBuffer(item)) n += lineCount(item);
  return n;
}

/**
 * Drops the oldest queued chunks while more than `max` bytes wait (rotation markers keep their
 * place), noting each in `dropped`; returns the bytes still waiting.
 */
export function dropOldest(queue: Array<Buffer | object>, pendingBytes: number, max: number, reason: string, dropped: DroppedRecords[]): number {
  for (let i = 0; i < queue.length && pendingBytes > max; ) {
    const item = queue[i];
    if (!Buffer.isBuffer(item)) {
      i++;
      continue;
    }
    queue.splice(i, 1);
    pendingBytes -= item.length;
    addDropped(dropped, item, reason);
  }
  return pendingBytes;
}

/** What shutting down reports of records that never reached the file: those still queued, and those dropped earlier. */
export function unwrittenMessages(queue: ReadonlyArray<Buffer | object>, dropped: readonly DroppedRecords[], lastError: Error | undefined): string[] {
  const messages: string[] = [];
  const waiting = queue.filter((item): item is Buffer => Buffer.isBuffer(item) && item.length > 0);
  const why = lastError ? ` (${lastError.message})` : '';
  if (waiting.length > 0) {
    const first = firstSeqOf(waiting[0] as Buffer);
    const records = waiting.reduce((n, chunk) => n + lineCount(chunk), 0);
    messages.push(`shutting down with ${plural(records, 'record')} (${seqRange(first, first + records - 1)}) not written${why}: they are not in the log`);
  }
  for (const run of dropped) messages.push(`dropped ${plural(run.records, 'record')} (${seqRange(run.first_seq, run.last_seq)}): ${run.reason}; they are not in the log`);
  return messages;
}
