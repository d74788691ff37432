/**
 * Newline-delimited framing shared by the stdio transports (client side and upstream side):
 * splits byte chunks into lines without the per-line overhead of `readline`, in time linear in
 * the input (each chunk is searched once; a line's chunks are joined once, at its end), and
 * bounds the size of a line: the rest of a longer one is read and dropped, not buffered.
 */
import { Buffer } from 'node:buffer';

/** What a line that went past the limit looked like (it was dropped). */
export interface Overflow {
  /** Its full length in bytes (without the newline). */
  readonly bytes: number;
  /** Its first and last bytes (up to {@link OVERFLOW_EDGE} each), to tell what message it was. */
  readonly head: string;
  readonly tail: string;
}

/** Bytes kept from each end of a line that is too long. */
export const OVERFLOW_EDGE = 512;

const NEWLINE = 0x0a;
const CR = 0x0d;
const OPEN_BRACE = 0x7b;

/** Feeds byte chunks in; calls `onLine` for every complete, non-blank line of at most `maxBytes`. */
export class LineSplitter {
  /** Chunks (or parts) of the line being read, while it fits. */
  private parts: Buffer[] = [];
  private length = 0;
  /** Set while the line being read is past the limit: only its edges are kept. */
  private overflow: { head: Buffer; tail: Buffer } | undefined;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: (overflow: Overflow) => void,
    private readonly maxBytes: number,
  ) {}

  /** Adds a chunk. */
  push(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
      if (this.length === 0 && newline - start <= this.maxBytes) {
        this.emit(chunk, start, newline); // the whole line is in this chunk (the usual case): no copy
      } else {
        this.append(chunk.subarray(start, newline));
        this.endLine();
      }
      start = newline + 1;
    }
    if (start < chunk.length) this.append(start === 0 ? chunk : chunk.subarray(start));
  }

  /** Hands on the line `bytes[start, end)` unless it is blank; a trailing \r (of \r\n) is dropped. */
  private emit(bytes: Buffer, start: number, end: number): void {
    if (end > start && bytes[end - 1] === CR) end--;
    if (end === start) return;
    const text = bytes.toString('utf8', start, end);
    if (bytes[start] === OPEN_BRACE || text.trim() !== '') this.onLine(text);
  }

  private append(part: Buffer): void {
    if (part.length === 0) return;
    this.length += part.length;
    if (this.overflow) {
      this.overflow.tail = keepTail(this.overflow.tail, part);
      return;
    }
    this.parts.push(part);
    if (this.length > this.maxBytes) {
      const line = Buffer.concat(this.parts);
      this.overflow = { head: line.subarray(0, OVERFLOW_EDGE), tail: Buffer.from(line.subarray(-OVERFLOW_EDGE)) };
      this.parts = [];
    }
  }

  private endLine(): void {
    const overflow = this.overflow;
    const length = this.length;
    const parts = this.parts;
    this.parts = [];
    this.length = 0;
    this.overflow = undefined;
    if (overflow) {
      this.onOverflow({ bytes: length, head: overflow.head.toString('utf8'), tail: overflow.tail.toString('utf8') });
      return;
    }
    if (length === 0) return;
    const line = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length);
    this.emit(line, 0, line.length);
  }
}

/** The last {@link OVERFLOW_EDGE} bytes of `tail` followed by `part`. */
function keepTail(tail: Buffer, part: Buffer): Buffer {
  if (part.length >= OVERFLOW_EDGE) return Buffer.from(part.subarray(-OVERFLOW_EDGE));
  return Buffer.concat([tail, part]).subarray(-OVERFLOW_EDGE);
}

/**
 * The JSON-RPC id of a message that was too long to parse, read from its edges: the last `"id"`
 * member in its tail (where the SDK writes it), else the first in its head. A guess (a nested
 * `"id"` can fool it), used only to fail the request it names sooner than its timeout.
 */
export function overflowId(overflow: Overflow): string | number | undefined {
  const member = /"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)/g;
  const last = [...overflow.tail.matchAll(member)].at(-1) ?? [...overflow.head.matchAll(member)][0];
  if (!last) return undefined;
  try {
    return JSON.parse(last[1] as string) as string | number;
  } catch {
    return undefined;
  }
}

/** The exact line a forwarded result arrived in, and the upstream request id it answered. */
const rawResults = new WeakMap<object, { readonly line: string; readonly id: string }>();

/** Remembers the line a response's result object was parsed from (upstream side). */
export function rememberRawResult(result: object, line: string, id: string): void {
  rawResults.set(result, { line, id });
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
