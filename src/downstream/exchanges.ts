/**
 * The HTTP exchanges of one Streamable HTTP session and the requests each is to answer. A client
 * that vanishes (its connection drops, no DELETE, no `notifications/cancelled`) is noticed here:
 * when the response of a POST closes before it was written, its requests still in flight are
 * cancelled through the session's ordinary cancellation path, as if the client had sent
 * `notifications/cancelled`. An SSE response the client can resume (it holds an event id: the
 * transport wrote a priming event) is given a grace period first, and a resume (a GET with
 * `Last-Event-ID`) keeps its requests running.
 */
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** One HTTP request/response pair on a session. */
export interface Exchange {
  readonly res: ServerResponse;
  /** The client is one that can resume a response stream (2025-11-25 and later, SSE answers). */
  readonly canResume: boolean;
  /** The client can resume this response stream after a disconnect (it was sent an event id, or will be at once). */
  resumable: boolean;
  /** The SSE stream this response carries (set when its priming event is stored); a resume names it. */
  stream?: string;
}

/** First protocol version whose clients receive a priming event id (and so can resume a POST stream). */
const RESUMABLE_FROM = '2025-11-25';

/** How long a resumable stream that closed early waits for its client to resume it (the client is told to retry after 1 s). */
export const RESUME_GRACE_MS = 3000;

/** The exchanges and in-flight requests of one HTTP session. */
export class SessionExchanges {
  /** Open HTTP exchanges (POST responses, GET streams) on this session. */
  private open = 0;
  /** When the last exchange opened or closed. */
  private lastActive = Date.now();
  /** Requests in flight → the exchange that is to carry the response. */
  private readonly inflight = new Map<RequestId, Exchange>();
  /** Requests whose stream closed, waiting for a resume until their timer fires. */
  private readonly orphans = new Map<RequestId, NodeJS.Timeout>();

  constructor(
    /** Cancels a request through the session's cancellation path. */
    private readonly cancel: (requestId: RequestId) => void,
    private readonly graceMs = RESUME_GRACE_MS,
    /** The stream an event id belongs to (the session's event store); undefined for an unknown id. */
    private readonly streamOfEvent: (eventId: string) => string | undefined = () => undefined,
  ) {}

  /**
   * Starts an exchange: counted until its response closes; resolved requests are cancelled if it
   * closes unfinished. `primeLater`: its priming event may come later or never (a fast call,
   * httpFastCall.ts), so it is resumable only from {@link primed} on.
   */
  begin(req: IncomingMessage, res: ServerResponse, jsonResponse: boolean, primeLater = false): Exchange {
    const version = headerOf(req, 'mcp-protocol-version');
    const lastEventId = req.method === 'GET' ? headerOf(req, 'last-event-id') : undefined;
    const resume = lastEventId !== undefined;
    const canResume = resume || (!jsonResponse && req.method === 'POST' && version !== undefined && version >= RESUMABLE_FROM);
    const exchange: Exchange = { res, canResume, resumable: canResume && !primeLater };
    this.lastActive = Date.now();
    if (lastEventId !== undefined) this.resumed(exchange, this.streamOfEvent(lastEventId));
    // Closed already (the client left while the gateway authenticated it): 'close' will not come
    // again, so it is not counted as open; its requests are dropped as they arrive (request()).
    if (res.destroyed) return exchange;
    this.open++;
    res.once('close', () => {
      this.open--;
      this.lastActive = Date.now();
      if (!res.writableFinished) this.closedEarly(exchange);
    });
    return exchange;
  }

  /** A request arrived on `exchange`. */
  request(requestId: RequestId, exchange: Exchange): void {
    this.inflight.set(requestId, exchange);
    // The response may already have closed while the body was read.
    if (exchange.res.destroyed && !exchange.res.writableFinished) this.orphan(requestId, exchange.resumable);
  }

  /** The response of a request was handed to the transport (or the client cancelled it). */
  answered(requestId: RequestId): void {
    this.inflight.delete(requestId);
    const timer = this.orphans.get(requestId);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.orphans.delete(requestId);
    }
  }

  /** The priming event of `stream` was stored while `exchange` was handled: that exchange carries it (and can be resumed). */
  primed(exchange: Exchange, stream: string): void {
    exchange.stream ??= stream;
    exchange.resumable = exchange.canResume;
  }

  /** No exchange open and no request in flight since `ms` ago. */
  idleFor(ms: number, now = Date.now()): boolean {
    return this.open === 0 && this.inflight.size === 0 && now - this.lastActive >= ms;
  }

  /** Stops the grace timers (the session is closing). */
  dispose(): void {
    for (const timer of this.orphans.values()) clearTimeout(timer);
    this.orphans.clear();
    this.inflight.clear();
  }

  private closedEarly(exchange: Exchange): void {
    for (const [requestId, owner] of this.inflight) if (owner === exchange) this.orphan(requestId, exchange.resumable);
  }

  private orphan(requestId: RequestId, resumable: boolean): void {
    if (!resumable) {
      this.drop(requestId);
      return;
    }
    if (this.orphans.has(requestId)) return;
    const timer = setTimeout(() => {
      this.orphans.delete(requestId);
      this.drop(requestId);
    }, this.graceMs);
    timer.unref();
    this.orphans.set(requestId, timer);
  }

  /**
   * A GET with Last-Event-ID resumes `stream`: the requests of that stream waiting for a resume now
   * ride on this exchange. Those of other streams keep waiting (and are cancelled if theirs is not
   * resumed); an unknown event id resumes nothing.
   */
  private resumed(exchange: Exchange, stream: string | undefined): void {
    if (stream === undefined) return;
    exchange.stream = stream;
    for (const [requestId, timer] of this.orphans) {
      const owner = this.inflight.get(requestId);
      if (owner?.stream !== stream) continue;
      clearTimeout(timer);
      this.orphans.delete(requestId);
      // The request rides on this stream now: if it closes early, it waits for a resume again.
      this.inflight.set(requestId, exchange);
    }
  }

  private drop(requestId: RequestId): void {
    if (!this.inflight.delete(requestId)) return;
    this.cancel(requestId);
  }
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
