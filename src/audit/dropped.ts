/**
 * Records the audit writer gave up on (pending beyond its memory bound while writes failed, or a
 * failed write-ahead write): which seqs, how many, why. The writer appends a
 * `mcpgate.audit.dropped` record with these fields once it can write again, so the gap that
 * `verify` reports is explained inside the log. Buffers here hold complete record lines.
 */

/** A run of consecutive seqs that will never be in the log. */
export interface DroppedRecords {
  readonly first_seq: number;
  readonly last_seq: number;
  readonly records: number;
  readonly reason: string;
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

/** Adds `chunk`'s records to `runs`: extends the last run when its seqs follow it, else starts a new one. */
export function addDropped(runs: DroppedRecords[], chunk: Buffer, reason: string): void {
  const first = firstSeqOf(chunk);
  const records = lineCount(chunk);
  if (records === 0) return;
  const last = runs.at(-1);
  if (last && last.last_seq + 1 === first) runs[runs.length - 1] = { ...last, last_seq: first + records - 1, records: last.records + records };
  else runs.push({ first_seq: first, last_seq: first + records - 1, records, reason });
}

/** `seq 5` or `seqs 5..9`. */
export function seqRange(first: number, last: number): string {
  return first === last ? `seq ${first}` : `seqs ${first}..${last}`;
}
