/**
 * Where the messages of one modern (2026-07-28) request go: its HTTP response (one JSON body,
 * switched to an SSE stream the moment a notification must leave before the result) or its
 * stdio lines. A modern request's notifications go only to its own stream; nothing is resumable
 * (the 2026 revision removed `Last-Event-ID`), so nothing is stored.
 */
import type { ServerResponse } from 'node:http';
import { CLIENT_DISCONNECTED } from '../caller/cancelSignal.js';

/** The channel back to the client of one modern request. */
export interface ModernStream {
  /** Writes a notification belonging to this request (progress, a log message, a listen frame). */
  notify(message: object): void;
  /** Writes the response (result or error) and ends the exchange; `status` is its HTTP status. */
  finish(response: object, status: number): void;
  /** Starts streaming now (a listen stream, a held request that sends keep-alives). */
  stream(): void;
  /** Writes a keep-alive (an SSE comment on HTTP; nothing on stdio). */
  keepAlive(): void;
  /** Aborted when the client goes away or cancels the request. */
  readonly signal: AbortSignal;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' } as const;

/** A modern request answered over one HTTP response. */
export class HttpModernStream implements ModernStream {
  private readonly controller = new AbortController();
  private sse = false;
  private done = false;

  constructor(private readonly res: ServerResponse) {
    // A response that closes before the answer is written is the client cancelling the request.
    res.once('close', () => {
      if (!this.done) this.controller.abort(CLIENT_DISCONNECTED);
    });
    res.socket?.setNoDelay(true);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  stream(): void {
    if (this.sse || this.done || this.res.headersSent) return;
    this.sse = true;
    this.res.writeHead(200, SSE_HEADERS);
    this.res.flushHeaders();
  }

  notify(message: object): void {
    if (this.done || this.res.writableEnded) return;
    this.stream();
    this.res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  keepAlive(): void {
    if (this.done || this.res.writableEnded) return;
    this.stream();
    this.res.write(': keep-alive\n\n');
  }

  finish(response: object, status: number): void {
    if (this.done) return;
    this.done = true;
    if (this.res.writableEnded) return;
    const text = JSON.stringify(response);
    if (this.sse) {
      this.res.end(`event: message\ndata: ${text}\n\n`);
      return;
    }
    this.res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }
}

/** A modern request answered on the stdio lines it arrived on. */
export class LineModernStream implements ModernStream {
  private readonly controller = new AbortController();
  private done = false;

  constructor(private readonly write: (line: string) => void) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The client sent `notifications/cancelled` for this request (or the pipe closed). */
  cancel(reason: string): void {
    if (!this.done) this.controller.abort(reason);
  }

  stream(): void {}

  keepAlive(): void {}

  notify(message: object): void {
    if (!this.done) this.write(JSON.stringify(message));
  }

  finish(response: object): void {
    if (this.done) return;
    this.done = true;
    this.write(JSON.stringify(response));
  }
}
