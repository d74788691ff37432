/**
 * Appends audit lines to the active file, in order, and rotates it between records.
 * - `batch`: chunks (buffers of complete lines) are handed to the kernel with one asynchronous
 *   write(2) as soon as the previous write finished, at most one every WRITE_GAP_MS (chunks queued
 *   meanwhile go out together in one writev(2)), and the file is fdatasync'ed every
 *   `fsyncIntervalMs` when something was written.
 * - `always`: each chunk is written and fdatasync'ed synchronously before `write` returns.
 * Rotation and the `keep` clean-up are rare and done synchronously between two writes.
 *
 * When a write fails (full disk, quota, file-size limit, I/O error) the file never keeps a partial
 * record: it is cut back to the end of the last complete line written (`size`). In batch mode the
 * records that did not make it wait, in order, and are retried with a backoff (their seq and prev
 * are assigned, so a retry that succeeds leaves an intact chain); beyond `maxPendingBytes` the
 * oldest are dropped, and once the file can be written again the caller is told (`onDropped`) so
 * the gap is explained inside the log. Failures are reported rate-limited (writeErrors.ts).
 */
import { closeSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, openSync, renameSync, truncateSync } from 'node:fs';
import { addDropped, dropOldest, queuedRecords, seqRange, unwrittenMessages, type DroppedRecords } from './dropped.js';
import { pruneRotated, rotatedName } from './files.js';
import { writeChunks, writeWholeSync } from './writeAll.js';
import { plural, WriteErrors } from './writeErrors.js';

/** How the appender makes records durable. */
export interface AppenderOptions {
  readonly fsync: 'always' | 'batch';
  readonly fsyncIntervalMs: number;
  /** Rotated files to keep (unset: all). */
  readonly keep?: number;
  /** Reports a failed write or fsync, rate-limited (the appender keeps going). */
  readonly onError: (error: Error) => void;
  /** Records given up for good, told once the file can be written again (to append a `mcpgate.audit.dropped` record). */
  readonly onDropped?: (dropped: DroppedRecords) => void;
  /** Most bytes of records kept waiting while writes fail (default 64 MiB); beyond it the oldest are dropped. */
  readonly maxPendingBytes?: number;
}

/** Least time between the starts of two writes (batch mode): at most ~50 writes a second (docs/audit.md). */
const WRITE_GAP_MS = 20;
/** Backoff between retries after a failed write: doubles from the first to the last. */
const RETRY_FIRST_MS = 100;
const RETRY_LAST_MS = 5000;
const MIB = 1024 * 1024;
const MAX_PENDING_BYTES = 64 * MIB;

interface Rotation {
  readonly to: string;
}

/** An ordered, rotating appender for one active file. */
export class Appender {
  private fd: number;
  private readonly queue: Array<Buffer | Rotation> = [];
  private writing = false;
  private dirty = false;
  private syncing = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private idle: (() => void) | undefined;
  private closed = false;
  private closing = false;
  private lastWrite = 0;
  private gapTimer: NodeJS.Timeout | undefined;
  private syncFailed = false;
  /** Bytes of complete records in the active file: a failed write is cut back to here. */
  private size: number;
  /** Where to cut the file when it is opened again (cutting it through the descriptor failed). */
  private truncateTo: number | undefined;
  /** Backoff before the next retry; 0 while writes succeed. */
  private retryMs = 0;
  /** Bytes of records queued while writes fail (counted only then). */
  private pendingBytes = 0;
  private inFlight = false;
  /** The descriptor close() left open under a hung write (closed when that write returns). */
  private lingering = -1;
  private lastError: Error | undefined;
  /** Records dropped and not yet told to `onDropped`. */
  private dropped: DroppedRecords[] = [];
  private readonly errors: WriteErrors;

  constructor(
    private readonly file: string,
    private readonly options: AppenderOptions,
  ) {
    this.fd = openSync(file, 'a');
    this.size = fstatSync(this.fd).size;
    this.errors = new WriteErrors(options.onError, () => queuedRecords(this.queue));
    if (options.fsync === 'batch') {
      this.timer = setInterval(() => this.sync(), options.fsyncIntervalMs);
      this.timer.unref();
    }
  }

  /** `fsync: always`: the last write (and its fdatasync) failed, so the record is not durably on disk. */
  get lastSyncWriteFailed(): boolean {
    return this.syncFailed;
  }

  /** Appends a chunk of complete lines (the appender keeps the buffer: do not change it afterwards). */
  write(chunk: Buffer): void {
    if (this.options.fsync === 'always') {
      this.writeAllSync(chunk);
      return;
    }
    if (this.retryMs !== 0) {
      // Writes are failing: the chunk waits for the next retry, within the memory bound. A small
      // chunk is a slice of a larger (often pooled, 8 KiB) buffer: keep a copy of its own size, so
      // what waits holds about maxPendingBytes and not many times more.
      const own = Buffer.allocUnsafeSlow(chunk.length);
      chunk.copy(own);
      this.queue.push(own);
      this.pendingBytes += own.length;
      if (!this.inFlight) this.bound();
      return;
    }
    this.queue.push(chunk);
    if (!this.writing && this.gapTimer === undefined) this.pump();
  }

  /** Renames the active file to `rotatedName(file, firstSeq)` once everything before is written. */
  rotate(firstSeq: number): void {
    const rotation = { to: rotatedName(this.file, firstSeq) };
    if (this.options.fsync === 'always') {
      this.rotateNow(rotation);
      return;
    }
    this.queue.push(rotation);
    if (!this.writing) this.pump();
  }

  /**
   * Writes what is queued without waiting for the write gap or a retry's backoff (records waiting
   * after failed writes get one more try), and waits for it (at most 5 s: a hung file system must
   * not hold the gateway's shutdown forever). Later writes go out at once too (shutdown).
   */
  async settle(): Promise<void> {
    this.closing = true;
    if (this.gapTimer) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
      this.writing = false;
    }
    if (!this.writing) this.pump();
    if (this.writing) await new Promise<void>((resolve) => {
      this.idle = resolve;
      setTimeout(resolve, 5000).unref();
    });
  }

  /** Waits for queued writes (one last try for records waiting after failures), reports what could not be written, fdatasyncs and closes the file. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.settle();
    this.closed = true;
    this.errors.stop();
    this.reportUnwritten();
    if (this.fd >= 0 && this.inFlight) {
      // A write hung past the wait: its descriptor stays open until that write returns (then
      // `late` closes it), so the number cannot be reused by another file under the write.
      this.lingering = this.fd;
    } else if (this.fd >= 0) {
      this.attempt(() => fdatasyncSync(this.fd));
      this.attempt(() => closeSync(this.fd));
    }
    this.fd = -1;
  }

  /** A write's callback after close(): nothing more is written; its descriptor is closed now. True when closed. */
  private late(): boolean {
    if (!this.closed) return false;
    const fd = this.lingering;
    this.lingering = -1;
    if (fd >= 0) this.attempt(() => closeSync(fd));
    return true;
  }

  private pump(): void {
    const head = this.queue[0];
    if (head === undefined) {
      this.writing = false;
      this.idle?.();
      this.idle = undefined;
      return;
    }
    // Under load, gather what arrives within WRITE_GAP_MS into one write: each write(2) on the
    // thread pool costs more CPU than formatting a record, and one per event-loop turn doubled
    // the audit log's cost per call.
    const wait = this.lastWrite + WRITE_GAP_MS - performance.now();
    if (wait > 0 && !this.closing) {
      this.wait(wait);
      return;
    }
    this.lastWrite = performance.now();
    this.writing = true;
    if (!Buffer.isBuffer(head)) {
      this.queue.shift();
      this.rotateNow(head);
      this.pump();
      return;
    }
    const chunks: Buffer[] = [];
    while (Buffer.isBuffer(this.queue[0])) chunks.push(this.queue.shift() as Buffer);
    const error = this.reopen();
    if (error) {
      this.failed(chunks, 0, error);
      return;
    }
    this.inFlight = true;
    writeChunks(this.fd, chunks, () => this.late(), (result) => ('written' in result ? this.written(result.written) : this.failed(result.failed, result.offset, result.error)));
  }

  private wait(ms: number): void {
    this.writing = true;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      this.lastWrite = 0;
      this.pump();
    }, ms);
  }

  private written(bytes: number): void {
    this.inFlight = false;
    this.size += bytes;
    this.dirty = true;
    if (this.retryMs !== 0) this.recovered();
    this.pump();
  }

  /**
   * A write failed after `offset` bytes of `chunks[0]` reached the file: keep the complete lines
   * among them, cut the rest off, and queue what is left in front for a retry after the backoff.
   */
  private failed(chunks: Buffer[], offset: number, error: Error): void {
    this.inFlight = false;
    this.lastError = error;
    let rest = chunks;
    const kept = offset > 0 ? (chunks[0] as Buffer).lastIndexOf(0x0a, offset - 1) + 1 : 0;
    this.truncate(this.size + kept);
    if (kept > 0) {
      this.size += kept;
      this.dirty = true;
      rest = [(chunks[0] as Buffer).subarray(kept)];
    }
    this.queue.unshift(...rest);
    this.pendingBytes = 0;
    for (const item of this.queue) if (Buffer.isBuffer(item)) this.pendingBytes += item.length;
    this.bound();
    this.errors.failed(error, this.closing ? '' : '; the records are kept and retried');
    // Some records made it: the log can hold the explanation of an earlier drop.
    if (kept > 0) this.reportDropped();
    this.retryMs = kept > 0 || this.retryMs === 0 ? RETRY_FIRST_MS : Math.min(RETRY_LAST_MS, this.retryMs * 2);
    if (this.closing) {
      // Shutdown: that was the last try (close() reports what is left).
      this.writing = false;
      this.idle?.();
      this.idle = undefined;
      return;
    }
    this.wait(this.retryMs);
  }

  private recovered(): void {
    this.retryMs = 0;
    this.errors.recovered('');
    this.reportDropped();
  }

  /** Drops the oldest waiting records while more than `maxPendingBytes` wait (rotations keep their place). */
  private bound(): void {
    const max = this.options.maxPendingBytes ?? MAX_PENDING_BYTES;
    if (this.pendingBytes <= max) return;
    const bound = max % MIB === 0 ? `${max / MIB} MiB` : plural(max, 'byte');
    const reason = `more than ${bound} of records waited while writes failed (${this.lastError?.message ?? 'unknown error'})`;
    this.pendingBytes = dropOldest(this.queue, this.pendingBytes, max, reason, this.dropped);
  }

  private reportDropped(): void {
    if (this.dropped.length === 0) return;
    const runs = this.dropped;
    this.dropped = [];
    for (const run of runs) {
      this.options.onError(new Error(`dropped ${plural(run.records, 'record')} (${seqRange(run.first_seq, run.last_seq)}): ${run.reason}`));
      this.options.onDropped?.(run);
    }
  }

  private reportUnwritten(): void {
    for (const message of unwrittenMessages(this.queue, this.dropped, this.lastError)) this.options.onError(new Error(message));
    this.dropped = [];
  }

  private writeAllSync(buffer: Buffer): void {
    this.syncFailed = true;
    const error = this.reopen();
    if (error) {
      this.syncWriteFailed(buffer, error);
      return;
    }
    const outcome = writeWholeSync(this.fd, buffer);
    if (outcome.failed === 'write') {
      // Write-ahead: what did not make it whole is cut off and not retried (the call is refused).
      this.truncate(this.size);
      this.syncWriteFailed(buffer, outcome.error);
      return;
    }
    this.size += buffer.length;
    if (outcome.failed === 'sync') return this.errors.failed(outcome.error);
    this.syncFailed = false;
    if (this.errors.inOutage) this.errors.recovered('');
    if (this.dropped.length !== 0) this.reportDropped();
  }

  private syncWriteFailed(buffer: Buffer, error: Error): void {
    this.lastError = error;
    addDropped(this.dropped, buffer, `the write failed (${error.message}); with fsync: always a failed record is not retried (a call whose decision record failed was refused)`);
    this.errors.failed(error);
  }

  /** Cuts a failed write's bytes off the file (or, when that fails, before the file is written again). */
  private truncate(to: number): void {
    if (this.fd < 0) return;
    try {
      ftruncateSync(this.fd, to);
    } catch (error) {
      this.errors.failed(error as Error);
      this.attempt(() => closeSync(this.fd));
      this.fd = -1;
      this.truncateTo = to;
    }
  }

  private sync(): void {
    if (!this.dirty || this.syncing || this.fd < 0) return;
    this.dirty = false;
    this.syncing = true;
    const fd = this.fd;
    fdatasync(fd, (error) => {
      this.syncing = false;
      // A rotation or close may have closed this descriptor meanwhile (and synced it itself).
      if (error && fd === this.fd && !this.closed) this.errors.failed(error);
      else if (!error && this.retryMs === 0 && this.errors.inOutage) this.errors.recovered('');
    });
  }

  private rotateNow(rotation: Rotation): void {
    if (this.fd >= 0) {
      this.attempt(() => fdatasyncSync(this.fd));
      this.attempt(() => closeSync(this.fd));
      this.fd = -1;
    }
    const cut = this.truncateTo;
    if (cut !== undefined) this.attempt(() => truncateSync(this.file, cut));
    this.truncateTo = undefined;
    this.attempt(() => renameSync(this.file, rotation.to));
    this.dirty = false;
    // A file that cannot be opened now is opened (and the failure reported) by the next write.
    if (this.reopen() === undefined && this.options.keep !== undefined) pruneRotated(this.file, this.options.keep, (error) => this.errors.failed(error));
  }

  /**
   * Opens the active file again after a rotation, or after one that failed (its directory was
   * removed, no descriptors left…), cutting off a failed write first if that is still due.
   * Returns the error while it cannot be opened: the caller keeps the records for a retry.
   */
  private reopen(): Error | undefined {
    if (this.fd >= 0) return undefined;
    try {
      const fd = openSync(this.file, 'a');
      try {
        if (this.truncateTo !== undefined) ftruncateSync(fd, this.truncateTo);
        this.size = fstatSync(fd).size;
      } catch (error) {
        closeSync(fd);
        throw error;
      }
      this.truncateTo = undefined;
      this.fd = fd;
      return undefined;
    } catch (error) {
      return error as Error;
    }
  }

  private attempt(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.errors.failed(error as Error);
    }
  }
}
