/**
 * Newline-delimited framing shared by the stdio transports (client side and upstream side):
 * splits text chunks into lines without the per-line overhead of `readline`, and bounds how much
 * an unterminated line may buffer.
 */

/** A line longer than this cannot be a message we use; dropping it bounds memory. */
export const MAX_LINE_CHARS = 64 * 1024 * 1024;

/** Feeds text chunks in; calls `onLine` for every complete, non-blank line. */
export class LineSplitter {
  private buffer = '';

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: () => void,
  ) {}

  /** Adds a chunk of text. */
  push(chunk: string): void {
    this.buffer += chunk;
    let start = 0;
    let newline = this.buffer.indexOf('\n', start);
    while (newline !== -1) {
      let end = newline;
      if (end > start && this.buffer.charCodeAt(end - 1) === 13) end--; // \r\n
      if (end > start) {
        const line = this.buffer.slice(start, end);
        if (line.trim() !== '') this.onLine(line);
      }
      start = newline + 1;
      newline = this.buffer.indexOf('\n', start);
    }
    this.buffer = start === 0 ? this.buffer : this.buffer.slice(start);
    if (this.buffer.length > MAX_LINE_CHARS) {
      this.buffer = '';
      this.onOverflow();
    }
  }
}
