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

/** The exact line a forwarded result arrived in, and the upstream request id it answered. */
const rawResults = new WeakMap<object, { readonly line: string; readonly id: string }>();

/** Remembers the line a response's result object was parsed from (upstream side). */
export function rememberRawResult(result: object, line: string, id: string): void {
  rawResults.set(result, { line, id });
}

/** The upstream line a result object was parsed from, if it was (lets a scan skip re-serialising it). */
export function rawResultLine(result: object): string | undefined {
  return rawResults.get(result)?.line;
}

/**
 * The response line for `clientId` built from the upstream's own line by rewriting only the
 * trailing id, so a result forwarded unchanged is not serialised a second time. Undefined when
 * the result object did not come from such a line or the line is not shaped `{…,"id":"…"}`
 * (the caller then serialises as usual). Never use it for a result that was modified.
 */
export function spliceResponse(result: object, clientId: string | number): string | undefined {
  const raw = rawResults.get(result);
  if (!raw) return undefined;
  const suffix = `,"id":${JSON.stringify(raw.id)}}`;
  if (!raw.line.endsWith(suffix)) return undefined;
  return `${raw.line.slice(0, raw.line.length - suffix.length)},"id":${JSON.stringify(clientId)}}`;
}
