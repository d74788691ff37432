/**
 * Reading audit files line by line, streamed: a log of any size can be verified and queried
 * (reading a whole file into one string fails beyond V8's ~512 MiB string limit), and a
 * damaged "line" of any length (garbage, a hole of NUL bytes) costs no more memory than a chunk.
 */
import { open } from 'node:fs/promises';

/** Longest line kept as text; longer ones are reported without their text (records are far smaller). */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

const CHUNK = 1024 * 1024;

/**
 * Calls `onLine` for every line of `file` in order (without its `\n`). `text` is undefined for a
 * line longer than `maxLineBytes`; `complete` is false for a last line that has no newline.
 */
export async function forEachLine(file: string, onLine: (text: string | undefined, complete: boolean) => void, maxLineBytes = MAX_LINE_BYTES): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let parts: Buffer[] = [];
    let partBytes = 0;
    let overlong = false;
    const take = (piece: Buffer, complete: boolean) => {
      if (overlong || partBytes + piece.length > maxLineBytes) {
        onLine(undefined, complete);
      } else {
        onLine((parts.length === 0 ? piece : Buffer.concat([...parts, piece])).toString('utf8'), complete);
      }
      parts = [];
      partBytes = 0;
      overlong = false;
    };
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      let start = 0;
      for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        take(chunk.subarray(start, nl), true);
        start = nl + 1;
      }
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
    }
    if (partBytes > 0) take(Buffer.alloc(0), false);
  } finally {
    await handle.close();
  }
}
