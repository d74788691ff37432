/**
 * Appends audit lines to the active file, in order, and rotates it between records.
 * - `batch`: chunks (buffers of complete lines) are handed to the kernel with one asynchronous
 *   write(2) as soon as the previous write finished, at most one every WRITE_GAP_MS (chunks queued
 *   meanwhile go out together in one writev(2)), and the file is fdatasync'ed every
 *   `fsyncIntervalMs` when something was written.
 * - `always`: each chunk is written and fdatasync'ed synchronously before `write` returns.
 * Rotation and the `keep` clean-up are rare and done synchronously between two writes.
 */
import { closeSync, fdatasync, fdatasyncSync, openSync, renameSync, unlinkSync, write as writeAsync, writeSync, writev as writevAsync } from 'node:fs';
import { chainFilesSync, rotatedName } from './files.js';

/** How the appender makes records durable. */
export interface AppenderOptions {
  readonly fsync: 'always' | 'batch';
  readonly fsyncIntervalMs: number;
  /** Rotated files to keep (unset: all). */
  readonly keep?: number;
  /** Reports a failed write or fsync (the appender keeps going). */
  readonly onError: (error: Error) => void;
}

/** Least time between the starts of two writes (batch mode): at most ~50 writes a second (docs/audit.md). */
const WRITE_GAP_MS = 20;

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

  constructor(
    private readonly file: string,
    private readonly options: AppenderOptions,
  ) {
    this.fd = openSync(file, 'a');
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

  /** Waits for queued writes, fdatasyncs and closes the file. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.closing = true;
    if (this.gapTimer) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
      this.writing = false;
      this.pump();
    }
    // Bounded: a hung file system must not hold the gateway's shutdown forever.
    if (this.writing) await new Promise<void>((resolve) => {
      this.idle = resolve;
      setTimeout(resolve, 5000).unref();
    });
    this.closed = true;
    if (this.fd < 0) return;
    this.attempt(() => fdatasyncSync(this.fd));
    this.attempt(() => closeSync(this.fd));
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
      this.writing = true;
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        this.lastWrite = 0;
        this.pump();
      }, wait);
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
    if (!this.reopen()) {
      this.pump();
      return;
    }
    if (chunks.length === 1) this.writeFrom(chunks[0] as Buffer, 0);
    else this.writeChunks(chunks);
  }

  /** Writes the chunks queued meanwhile with one writev(2); the rare short write continues from their concatenation. */
  private writeChunks(chunks: Buffer[]): void {
    writevAsync(this.fd, chunks, (error, written) => {
      const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
      if (error) {
        this.options.onError(error);
      } else if (written < total) {
        this.writeFrom(Buffer.concat(chunks, total), written);
        return;
      }
      this.dirty = true;
      this.pump();
    });
  }

  private writeFrom(buffer: Buffer, offset: number): void {
    writeAsync(this.fd, buffer, offset, buffer.length - offset, null, (error, written) => {
      if (error) {
        // Dropped: the chain shows the gap (verify names the missing seqs).
        this.options.onError(error);
      } else if (offset + written < buffer.length) {
        this.writeFrom(buffer, offset + written);
        return;
      }
      this.dirty = true;
      this.pump();
    });
  }

  private writeAllSync(buffer: Buffer): void {
    this.syncFailed = true;
    if (!this.reopen()) return;
    try {
      for (let offset = 0; offset < buffer.length; ) offset += writeSync(this.fd, buffer, offset, buffer.length - offset);
      fdatasyncSync(this.fd);
      this.syncFailed = false;
    } catch (error) {
      this.options.onError(error as Error);
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
      if (error && fd === this.fd && !this.closed) this.options.onError(error);
    });
  }

  private rotateNow(rotation: Rotation): void {
    if (this.fd >= 0) {
      this.attempt(() => fdatasyncSync(this.fd));
      this.attempt(() => closeSync(this.fd));
      this.fd = -1;
    }
    this.attempt(() => renameSync(this.file, rotation.to));
    this.dirty = false;
    if (this.reopen() && this.options.keep !== undefined) this.prune(this.options.keep);
  }

  /**
   * Opens the active file again after a rotation, or after one that failed (its directory was
   * removed, no descriptors left…); false while it cannot be opened: what is written meanwhile
   * is reported and dropped (the chain shows the gap), and the next write tries again.
   */
  private reopen(): boolean {
    if (this.fd >= 0) return true;
    try {
      this.fd = openSync(this.file, 'a');
      return true;
    } catch (error) {
      this.options.onError(error as Error);
      return false;
    }
  }

  private attempt(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.options.onError(error as Error);
    }
  }

  private prune(keep: number): void {
    const rotated = chainFilesSync(this.file).filter((f) => f !== this.file);
    for (const old of rotated.slice(0, Math.max(0, rotated.length - keep))) {
      try {
        unlinkSync(old);
      } catch (error) {
        this.options.onError(error as Error);
      }
    }
  }
}
