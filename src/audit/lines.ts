/**
 * Reading audit files line by line, streamed: a log of any size can be verified and queried
 * (reading a whole file into one string fails beyond V8's ~512 MiB string limit), and a
 * damaged "line" of any length (garbage, a hole of NUL bytes) costs no more memory than a chunk.
 */
import { open } from 'node:fs/promises';

/** Longest line kept as text; longer ones are reported without their text (records are far smaller). */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

const CHUNK = 1024 * 1024;

/** What a line callback may answer: `false` stops reading; a promise is awaited before the next line. */
export type LineAnswer = void | boolean | Promise<void | boolean>;

/** One line read: its text (undefined when longer than the limit), whether it ended in `\n`, and where it starts. */
export interface ReadLine {
  readonly text: string | undefined;
  readonly complete: boolean;
  readonly offset: number;
}

/**
 * The lines of `file` from byte `from` (the start of a line) on, in batches: every line completed
 * by one read of the file (a pull-based reader pays one await per batch, not per line). The last
 * line, if it has no newline, comes last with `complete: false`.
 */
export async function* lineBatches(file: string, maxLineBytes = MAX_LINE_BYTES, from = 0): AsyncGenerator<readonly ReadLine[]> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let parts: Buffer[] = [];
    let partBytes = 0;
    let overlong = false;
    let position = from;
    let lineOffset = from;
    const take = (piece: Buffer, complete: boolean): ReadLine => {
      const text = overlong || partBytes + piece.length > maxLineBytes ? undefined : (parts.length === 0 ? piece : Buffer.concat([...parts, piece])).toString('utf8');
      parts = [];
      partBytes = 0;
      overlong = false;
      return { text, complete, offset: lineOffset };
    };
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, position);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      const batch: ReadLine[] = [];
      let start = 0;
      for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        batch.push(take(chunk.subarray(start, nl), true));
        start = nl + 1;
        lineOffset = position + start;
      }
      position += bytesRead;
      if (start < bytesRead) {
        const rest = chunk.subarray(start);
        if (overlong || partBytes + rest.length > maxLineBytes) {
          overlong = true;
          parts = [];
        } else {
          parts.push(Buffer.from(rest)); // the buffer is reused for the next chunk
        }
        partBytes += rest.length;
      }
      if (batch.length > 0) yield batch;
    }
    if (partBytes > 0) yield [take(Buffer.alloc(0), false)];
  } finally {
    await handle.close();
  }
}

/**
 * Calls `onLine` for every line of `file` in order (without its `\n`), from byte `from` (the start
 * of a line) on. `text` is undefined for a line longer than `maxLineBytes`; `complete` is false for
 * a last line that has no newline; `offset` is where the line starts in the file. Returns false
 * when `onLine` stopped the reading (answered `false`), true when the file ended.
 */
export async function forEachLine(
  file: string,
  onLine: (text: string | undefined, complete: boolean, offset: number) => LineAnswer,
  maxLineBytes = MAX_LINE_BYTES,
  from = 0,
): Promise<boolean> {
  for await (const batch of lineBatches(file, maxLineBytes, from)) {
    for (const line of batch) {
      const answer = onLine(line.text, line.complete, line.offset);
      if (answer === false) return false;
      // Only a callback that has something to wait for (rare lines) pays for an await.
      if (answer !== undefined && answer !== true && (await answer) === false) return false;
    }
  }
  return true;
}
