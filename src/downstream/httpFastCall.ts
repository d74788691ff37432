/**
 * The HTTP fast path: a `tools/call` POST on an initialised Streamable HTTP session goes straight
 * to the session (`ClientSession.enableFastPath`, as on stdio), past the SDK transport's
 * per-request work: converting the Node request to a web `Request` and the answer back from a web
 * `Response` and `ReadableStream`, a JSON-RPC schema parse (zod), an AsyncLocalStorage context.
 * Profiles of `npm run bench -- --http` put that work at about a fifth of the gateway's busy time
 * per call; the gateway's CPU per call fell to about a third without it (bench/README.md).
 *
 * A call answered within {@link PRIMING_DELAY_MS} gets one `application/json` body (one write; the
 * client parses no SSE). One that takes longer, or sends a notification or request first, is
 * switched to the SDK transport's SSE stream at that moment: resumable (priming event, stored
 * events, replay on `Last-Event-ID`) for clients of 2025-11-25 and later, from the priming event on.
 */
import { SUPPORTED_PROTOCOL_VERSIONS, isJSONRPCErrorResponse, isJSONRPCResultResponse, type JSONRPCMessage, type JSONRPCRequest, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BoundedEventStore } from './eventStore.js';
import type { FastPathHost } from './session.js';

/** The SSE retry hint of a resumable stream (what the listener gives the SDK transport). */
export const RETRY_MS = 1000;

/**
 * How long a fast call may run before its answer becomes an SSE stream with a priming event (so a
 * client that loses the connection can resume it). A call answered sooner gets one JSON body: a
 * client has nothing to resume in that time anyway (it holds no event id before the priming event).
 */
export const PRIMING_DELAY_MS = 50;

/**
 * Whether the headers are ones the SDK transport would accept for a request on an established
 * session; anything else is left to it, so it answers with its own errors (406, 415, 400).
 */
export function fastHeaders(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  const type = req.headers['content-type'] ?? '';
  const version = req.headers['mcp-protocol-version'];
  return (
    accept.includes('application/json') &&
    accept.includes('text/event-stream') &&
    /^application\/json\s*(;|$)/i.test(type) &&
    (version === undefined || (typeof version === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(version)))
  );
}

/** Where a resumable fast call keeps its events (the session's event store) and under which stream. */
interface Resumable {
  readonly events: BoundedEventStore;
  readonly stream: string;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' } as const;

/**
 * One fast call's response: one JSON body if the answer comes first; else, as the SDK transport
 * writes it, an SSE stream opened by the first message or by the priming timer (a priming event,
 * stored with an id and a retry hint, for clients that can resume: 2025-11-25 and later), each
 * message an event, stored first when resumable, so a client that lost the stream and resumes
 * with `Last-Event-ID` is replayed what it missed (`attach`).
 */
class FastResponse {
  private done = false;
  private sse = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private res: ServerResponse,
    private readonly sessionId: string,
    readonly resumable: Resumable | undefined,
    /** Called once the priming event was written: from then on the client can resume the stream. */
    private readonly primed: () => void,
  ) {
    this.timer = setTimeout(() => this.stream(), PRIMING_DELAY_MS);
  }

  /** Switches the answer to SSE (headers, and the priming event when resumable). */
  private stream(): void {
    if (this.sse || this.done) return;
    this.sse = true;
    clearTimeout(this.timer);
    if (this.res.destroyed) return; // the client left before anything was sent: nothing to resume
    this.res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.sessionId });
    if (!this.resumable) return void this.res.flushHeaders();
    // The client learns that its call is under way and how to resume it.
    this.res.write(`id: ${this.resumable.events.store(this.resumable.stream, {} as JSONRPCMessage)}\nretry: ${RETRY_MS}\ndata: \n\n`);
    this.primed();
  }

  /** A message for the client (a related notification or request, or the response when `last`). */
  write(message: JSONRPCMessage | string, last: boolean): void {
    if (this.done) return;
    const data = typeof message === 'string' ? message : JSON.stringify(message);
    if (last && !this.sse) {
      this.done = true;
      clearTimeout(this.timer);
      if (!this.res.destroyed) this.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), 'mcp-session-id': this.sessionId }).end(data);
      return;
    }
    this.stream();
    this.done = last;
    const id = this.resumable ? this.resumable.events.store(this.resumable.stream, typeof message === 'string' ? (JSON.parse(message) as JSONRPCMessage) : message) : undefined;
    if (this.res.destroyed) return;
    const event = `event: message\n${id === undefined ? '' : `id: ${id}\n`}data: ${data}\n\n`;
    if (last) this.res.end(event);
    else this.res.write(event);
  }

  /** The call was cancelled: it gets no response (an empty event stream). */
  end(): void {
    clearTimeout(this.timer);
    if (this.done) return;
    this.done = true;
    if (this.res.destroyed) return;
    if (!this.sse) this.res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.sessionId });
    this.res.end();
  }

  /** A client resumed this stream (GET with `Last-Event-ID`): replays what it missed, then goes on there. */
  async attach(res: ServerResponse, lastEventId: string): Promise<void> {
    this.res = res;
    res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.sessionId });
    await this.resumable?.events.replayEventsAfter(lastEventId, {
      send: async (id, message) => void (res.destroyed || res.write(`event: message\nid: ${id}\ndata: ${JSON.stringify(message)}\n\n`)),
    });
    if (this.done && !res.destroyed) res.end();
  }
}

/** The fast calls in flight on one HTTP session. */
export class FastCalls {
  private readonly calls = new Map<RequestId, FastResponse>();
  private readonly streams = new Map<string, FastResponse>();

  constructor(
    private readonly sessionId: string,
    private readonly host: FastPathHost,
    private readonly events: BoundedEventStore,
  ) {}

  /**
   * Runs `request` on the fast path, answering on `res`; resolves once answered. `primed` is told
   * the stream id once the client can resume the answer (only when `resumable`: the client is one
   * that can). Undefined when the session declines it (not initialised): the caller uses the SDK path.
   */
  run(request: JSONRPCRequest, res: ServerResponse, resumable: boolean, primed: (stream: string) => void): Promise<void> | undefined {
    const pending = this.host.fastRequest?.(request);
    if (!pending) return undefined;
    const stream = resumable ? randomUUID() : undefined;
    const call = new FastResponse(res, this.sessionId, stream ? { events: this.events, stream } : undefined, () => primed(stream as string));
    this.calls.set(request.id, call);
    if (stream) this.streams.set(stream, call);
    const settle = (response: JSONRPCMessage | string | undefined) => {
      this.calls.delete(request.id);
      if (stream) this.streams.delete(stream);
      if (response === undefined) call.end();
      else call.write(response, true);
    };
    // fastRequest answers failures itself; a rejection is a bug, reported as the SDK would.
    return pending.then(settle, (error: unknown) => settle({ jsonrpc: '2.0', id: request.id, error: { code: -32603, message: `Internal error: ${String(error)}` } } as JSONRPCMessage));
  }

  /**
   * Delivers a message the session sent for a fast call (a notification or request related to
   * it, or a response to it); false when it belongs to no fast call (the SDK transport sends it).
   */
  route(message: JSONRPCMessage, relatedRequestId: RequestId | undefined): boolean {
    const response = isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message);
    const id = response ? message.id : relatedRequestId;
    const call = id === undefined ? undefined : this.calls.get(id);
    if (!call) return false;
    call.write(message, response);
    return true;
  }

  /** The client cancelled a request (or went away: `reason`): stops it if it is a fast call. */
  cancel(requestId: RequestId, reason?: string): void {
    if (this.calls.has(requestId)) this.host.fastCancel?.(requestId, reason);
  }

  /** A GET with `Last-Event-ID` naming a fast call's stream still in flight: it continues on `res`. False otherwise (the SDK transport replays). */
  resume(lastEventId: string, res: ServerResponse): Promise<void> | undefined {
    const stream = this.events.streamOf(lastEventId);
    const call = stream === undefined ? undefined : this.streams.get(stream);
    return call?.attach(res, lastEventId);
  }
}
