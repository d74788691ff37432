/**
 * Writing whole chunks of audit lines to a descriptor (appender.ts decides when and what): the
 * batch mode's asynchronous writev(2) whose rare short write continues from where it stopped, and
 * `fsync: always`'s synchronous write and fdatasync. Each says how far it got when it fails, so the
 * appender can cut the file back to the last complete line.
 */
import { fdatasyncSync, write as writeAsync, writeSync, writev as writevAsync } from 'node:fs';

/** How an asynchronous write ended: all `written` bytes, or failed after `offset` bytes of `failed[0]`. */
export type ChunksWritten = { readonly written: number } | { readonly failed: Buffer[]; readonly offset: number; readonly error: Error };

/**
 * Writes `chunks` at the end of `fd` with one writev(2) (one write(2) for a single chunk); a short
 * write continues from their concatenation. `late` is asked at every step: true when the file was
 * closed meanwhile (nothing more is written and `done` is not called).
 */
export function writeChunks(fd: number, chunks: Buffer[], late: () => boolean, done: (result: ChunksWritten) => void): void {
  if (chunks.length === 1) {
    writeFrom(fd, chunks[0] as Buffer, 0, late, done);
    return;
  }
  writevAsync(fd, chunks, (error, written) => {
    if (late()) return;
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    if (error) done({ failed: chunks, offset: 0, error });
    else if (written < total) writeFrom(fd, Buffer.concat(chunks, total), written, late, done);
    else done({ written: total });
  });
}

function writeFrom(fd: number, buffer: Buffer, offset: number, late: () => boolean, done: (result: ChunksWritten) => void): void {
  writeAsync(fd, buffer, offset, buffer.length - offset, null, (error, written) => {
    if (late()) return;
    if (error) done({ failed: [buffer], offset, error });
    else if (offset + written < buffer.length) writeFrom(fd, buffer, offset + written, late, done);
    else done({ written: buffer.length });
  });
}

/** Writes all of `buffer` at the end of `fd`, then fdatasyncs it; on failure, which step failed. */
export function writeWholeSync(fd: number, buffer: Buffer): { readonly failed?: undefined } | { readonly failed: 'write' | 'sync'; readonly error: Error } {
  let offset = 0;
  try {
    while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
  } catch (error) {
    return { failed: 'write', error: error as Error };
  }
  try {
    fdatasyncSync(fd);
  } catch (error) {
    return { failed: 'sync', error: error as Error };
  }
  return {};
}
