/**
 * Newline-delimited JSON-RPC over stdin/stdout for the client-facing side. Unlike the SDK's stdio
 * server transport, a malformed line is answered with a JSON-RPC error (-32700 parse error,
 * -32600 invalid request) instead of being dropped silently, so a client learns what went wrong.
 * `tools/call` requests can take a fast path past the SDK's generic request handling (see
 * `ClientSession.enableFastPath`): the hot path of a gateway is one tool call after another.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { isToolCall, type FastPathHost } from './session.js';
import { serveModern, type ModernHost } from './modern.js';
import { LineModernStream } from './modernStream.js';
import { hasModernClaim } from '../protocol/revisions.js';
import { ErrorCodes } from '../errors.js';
import { LineSplitter, overflowId, type Overflow } from '../jsonLines.js';
import type { Readable, Writable } from 'node:stream';

/**
 * The longest message (line) a client may send over stdio: 4 MiB, what the SDK's Streamable HTTP
 * transport accepts as a request body, so both transports refuse the same requests.
 */
export const MAX_CLIENT_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * How long requests still in flight when the client closes stdin may take to be answered before
 * the gateway stops anyway (`printf '…' | mcpgate serve` gets its answers; a hung call does not
 * keep the process alive).
 */
export const STDIN_EOF_GRACE_MS = 10_000;

/** The stdio transport of `mcpgate serve`. */
export class StdioServerLineTransport implements Transport, FastPathHost {
  onmessage?: (message: JSONRPCMessage) => void;
  fastRequest?: FastPathHost['fastRequest'];
  fastCancel?: FastPathHost['fastCancel'];
  onerror?: (error: Error) => void;
  onclose?: () => void;
  private closed = false;
  /** Ids of client requests not answered yet (counted only to drain them when stdin ends). */
  private readonly unanswered = new Set<string | number>();
  private inputEnded = false;
  /** Serves lines that claim the 2026-07-28 envelope (absent: every line is a 2025 session's). */
  modern: ModernHost | undefined;
  /** Modern requests in flight, by id: a `notifications/cancelled` naming one cancels it. */
  private readonly modernInflight = new Map<string | number, LineModernStream>();
  private readonly lines = new LineSplitter(
    (line) => this.receive(line),
    (overflow) => this.tooLarge(overflow),
    MAX_CLIENT_MESSAGE_BYTES,
  );

  constructor(
    private readonly input: Readable = process.stdin,
    private readonly output: Writable = process.stdout,
    private readonly graceMs: number = STDIN_EOF_GRACE_MS,
  ) {}

  async start(): Promise<void> {
    this.input.on('data', (chunk: Buffer) => this.lines.push(chunk));
    this.input.on('end', () => this.endOfInput());
    this.input.on('close', () => this.endOfInput());
    this.input.on('error', (error: Error) => this.onerror?.(error));
    this.output.on('error', (error: Error) => this.onerror?.(error));
  }

  /** The client closed stdin: answer what is in flight (bounded), then close. */
  private endOfInput(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    if (this.unanswered.size === 0) {
      void this.close();
      return;
    }
    setTimeout(() => void this.close(), this.graceMs).unref();
  }

  /** A response to the client left: once stdin has ended and nothing is left unanswered, close. */
  private answered(id: unknown): void {
    if ((typeof id === 'string' || typeof id === 'number') && this.unanswered.delete(id) && this.inputEnded && this.unanswered.size === 0) {
      // After the write of this response has been handed to stdout (writes of one tick share a batch).
      void this.batch?.then(() => this.close());
    }
  }

  private receive(line: string): void {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.reply(null, -32700, 'Parse error: the line is not valid JSON');
      return;
    }
    const requestId = requestIdOf(value);
    if (requestId !== undefined) this.unanswered.add(requestId);
    if (this.modern && hasModernClaim(value) && this.serveModernLine(value)) return;
    if (this.fastRequest && isToolCall(value)) {
      const pending = this.fastRequest(value);
      if (pending) {
        pending.then((response) => {
          if (typeof response === 'string') void this.write(response);
          else if (response) void this.send(response);
          this.answered(requestId);
        });
        return;
      }
    }
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (!parsed.success) {
      const id = typeof value === 'object' && value !== null && 'id' in value ? (value as { id: unknown }).id : null;
      const usableId = typeof id === 'string' || typeof id === 'number' ? id : null;
      this.reply(usableId, -32600, 'Invalid Request: not a JSON-RPC 2.0 request, notification or response');
      return;
    }
    const message = parsed.data as { method?: unknown; params?: { requestId?: unknown } };
    if (message.method === 'notifications/cancelled') {
      const id = message.params?.requestId;
      const modern = typeof id === 'string' || typeof id === 'number' ? this.modernInflight.get(id) : undefined;
      if (modern) {
        modern.cancel('cancelled by the client');
        return;
      }
      if ((typeof id === 'string' || typeof id === 'number') && this.fastCancel) this.fastCancel(id);
    }
    this.onmessage?.(parsed.data);
  }

  /**
   * A modern request line: served statelessly beside the legacy session's lines, its response and
   * notifications written as lines. Returns false for a claimed notification or response (the
   * legacy path handles those as it always did).
   */
  private serveModernLine(value: unknown): boolean {
    const message = value as { id?: unknown; method?: unknown };
    if (typeof message.method !== 'string') return false;
    const id = message.id;
    if (typeof id !== 'string' && typeof id !== 'number') return false;
    const stream = new LineModernStream((line) => void this.write(line));
    this.modernInflight.set(id, stream);
    void serveModern(this.modern as ModernHost, value as JSONRPCMessage as never, { transportKind: 'stdio', identity: undefined, subjectIsSession: false }, stream).finally(() => {
      if (this.modernInflight.get(id) === stream) this.modernInflight.delete(id);
      this.answered(id);
    });
    return true;
  }

  /** A request longer than the limit was dropped unread: its id (read from its edges, if any) gets an error. */
  private tooLarge(overflow: Overflow): void {
    const message = `Invalid Request: the message is ${overflow.bytes} bytes, more than the ${MAX_CLIENT_MESSAGE_BYTES} the gateway accepts; it was dropped`;
    this.reply(overflowId(overflow) ?? null, -32600, message, { code: ErrorCodes.REQUEST_REJECTED });
  }

  private reply(id: string | number | null, code: number, message: string, data?: unknown): void {
    void this.send({ jsonrpc: '2.0', id, error: { code, message, ...(data === undefined ? {} : { data }) } } as unknown as JSONRPCMessage);
  }

  send(message: JSONRPCMessage): Promise<void> {
    const written = this.write(JSON.stringify(message));
    if (!('method' in message) && 'id' in message) this.answered(message.id);
    return written;
  }

  /**
   * Writes one serialised message as a line. Lines written in the same tick are joined and leave
   * in one write (one stream write and one syscall rather than one each); the promise, shared by
   * the tick's lines, settles once they are handed to the stream (or, under backpressure, drained).
   */
  private write(line: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.batch === undefined) {
      this.pending = `${line}\n`;
      this.batch = new Promise((resolve) => (this.settleBatch = resolve));
      process.nextTick(this.flush);
    } else {
      this.pending += `${line}\n`;
    }
    return this.batch;
  }

  private pending = '';
  private batch: Promise<void> | undefined;
  private settleBatch: () => void = () => undefined;
  private readonly flush = (): void => {
    const text = this.pending;
    const settle = this.settleBatch;
    this.pending = '';
    this.batch = undefined;
    if (this.output.write(text)) settle();
    else this.output.once('drain', settle);
  };

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.modernInflight.values()) stream.cancel('the client closed stdin');
    this.input.pause();
    this.onclose?.();
  }
}

/** The id of a client request (a message with a method and a usable id), else undefined. */
function requestIdOf(value: unknown): string | number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as { id?: unknown; method?: unknown };
  if (typeof message.method !== 'string') return undefined;
  return typeof message.id === 'string' || typeof message.id === 'number' ? message.id : undefined;
}
