/**
 * Streamable HTTP for clients: `/mcp` (POST/GET/DELETE), one SDK transport and one gateway session
 * per `Mcp-Session-Id`, plus the probes `/healthz`, `/livez` and `/readyz` (httpProbes.ts). Host and
 * Origin headers are checked before anything else
 * (DNS-rebinding protection): a web page can otherwise reach a loopback server through a
 * hostname it controls.
 *
 * A `tools/call` POST on an initialised session skips the SDK transport (httpFastCall.ts): a
 * fraction of the CPU per call (bench/README.md), one JSON body when answered at once, else the
 * transport's resumable SSE stream; all else goes through the SDK transport.
 *
 * A client that vanishes is noticed: a request whose HTTP response closes before its answer is
 * cancelled as if the client had sent `notifications/cancelled` (exchanges.ts), and a session
 * with nothing in flight for `http.sessionIdleTimeout` is closed as a DELETE would.
 */
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  ErrorCode,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCodes, GatewayError, messageOf } from '../errors.js';
import type { Identity } from '../caller/caller.js';
import type { Logger } from '../telemetry/logger.js';
import type { Probes } from '../health/report.js';
import { isLoopbackHost, METADATA_PATH, type BearerAuth } from './auth.js';
import { CLIENT_DISCONNECTED } from '../caller/cancelSignal.js';
import { BoundedEventStore } from './eventStore.js';
import { RESUME_GRACE_MS, SessionExchanges, type Exchange } from './exchanges.js';
import { NO_BODY, readJson, sendError } from './httpBody.js';
import { FastCalls, fastHeaders, RETRY_MS } from './httpFastCall.js';
import { answerProbe, isProbePath } from './httpProbes.js';
import { isToolCall, type ClientSession, type FastPathHost, type SessionEndReason } from './session.js';
import type { ModernHost } from './modern.js';
import { isModernPost, serveModernPost } from './modernHttp.js';

/** What the HTTP listener needs from the gateway. */
export interface HttpSessionFactory {
  createSession(transportKind: 'http', id: string, identity?: Identity): ClientSession;
  /** Serves 2026-07-28 requests (stateless, chosen per POST by the `_meta` claim). */
  readonly modern: ModernHost;
}

/** Listener options. */
export interface HttpListenOptions {
  readonly host: string;
  readonly port: number;
  readonly allowedHosts?: readonly string[];
  readonly allowedOrigins?: readonly string[];
  readonly logger: Logger;
  /** Bearer-token authentication of every /mcp request; absent: none. */
  readonly auth?: BearerAuth;
  /** Close a session with no request in flight and none for this long; 0 or absent: never. */
  readonly sessionIdleTimeoutMs?: number;
  /** Answer POSTs with one JSON body instead of an SSE stream (the SDK's enableJsonResponse). */
  readonly jsonResponse?: boolean;
  /** `http.statelessSessions: subject`: a verified subject alone makes a 2026-07-28 caller key specific (session approvals). */
  readonly subjectIsSession?: boolean;
  /** What `/healthz` and `/readyz` say; absent: `ok` and ready (a listener embedded without a gateway's health). */
  readonly probes?: Probes;
}

interface HttpSession {
  readonly transport: StreamableHTTPServerTransport;
  readonly session: ClientSession;
  readonly exchanges: SessionExchanges;
  /** `tools/call` POSTs answered past the SDK transport (httpFastCall.ts). */
  readonly fast: FastCalls;
}

/** The exchange a message arrived on, carried through the SDK transport's async work. */
interface CurrentExchange {
  readonly exchanges: SessionExchanges;
  readonly exchange: Exchange;
}

/** An address as a Host header names it (IPv6 in brackets). */
function hostName(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/** A running HTTP listener. */
export class HttpListener {
  private readonly sessions = new Map<string, HttpSession>();
  private server: Server | undefined;
  private allowedHosts = new Set<string>();
  private allowedOrigins = new Set<string>();
  private checkHost = true;
  private readonly current = new AsyncLocalStorage<CurrentExchange>();
  /** SDK-transport POSTs in flight (see `within`). */
  private sdkPosts = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly factory: HttpSessionFactory,
    private readonly options: HttpListenOptions,
  ) {}

  /** Binds the port; resolves with the address actually bound. */
  async listen(): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.options.logger.error({ err: messageOf(error) }, 'http request failed');
        if (!res.headersSent) sendError(res, 500, -32603, 'Internal error');
        else res.end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) =>
        reject(new GatewayError(ErrorCodes.LISTEN_FAILED, `cannot listen on ${this.options.host}:${this.options.port}: ${error.message}`)),
      );
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    this.configureAllowLists(address.port);
    const idleMs = this.options.sessionIdleTimeoutMs ?? 0;
    if (idleMs > 0) {
      this.sweeper = setInterval(() => this.expireIdle(idleMs), Math.min(Math.max(Math.floor(idleMs / 4), 100), 60_000));
      this.sweeper.unref();
    }
    return address;
  }

  /** Closes every session and the listener. */
  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const entry of sessions) entry.session.endReason ??= 'shutdown';
    await Promise.all(sessions.map((entry) => entry.transport.close().catch(() => undefined)));
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private configureAllowLists(port: number): void {
    // The loopback names, and the address bound when it is another one (127.0.0.2 …).
    const bound = isLoopbackHost(this.options.host) ? [hostName(this.options.host)] : [];
    const hosts = [...new Set(['127.0.0.1', 'localhost', '[::1]', ...bound])];
    this.allowedHosts = new Set([...hosts.flatMap((h) => [h, `${h}:${port}`]), ...(this.options.allowedHosts ?? [])]);
    this.allowedOrigins = new Set([...hosts.map((h) => `http://${h}:${port}`), ...(this.options.allowedOrigins ?? [])]);
    // Bound to a non-loopback address (e.g. in a container) the Host is whatever name clients use:
    // only checked when the admin lists the accepted names.
    // Every loopback address (127.0.0.0/8, ::1) is reachable by a page a local browser loads.
    this.checkHost = isLoopbackHost(this.options.host) || (this.options.allowedHosts?.length ?? 0) > 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host ?? '';
    if (this.checkHost && !this.allowedHosts.has(host)) {
      sendError(res, 403, -32000, `Forbidden: Host "${host}" is not allowed (DNS-rebinding protection; see listen.allowedHosts)`);
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.allowedOrigins.has(origin)) {
      sendError(res, 403, -32000, `Forbidden: Origin "${origin}" is not allowed (DNS-rebinding protection; see listen.allowedOrigins)`);
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    const auth = this.options.auth;
    if (req.method === 'GET' && isProbePath(path)) {
      await answerProbe(path, req, res, this.options.probes, auth);
      return;
    }
    if (auth && (path === METADATA_PATH || path === `${METADATA_PATH}/mcp`) && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(auth.metadata(req)));
      return;
    }
    if (path !== '/mcp') {
      sendError(res, 404, -32000, `Not found: the MCP endpoint is /mcp`);
      return;
    }
    let identity: Identity | undefined;
    if (auth) {
      const result = await auth.authenticate(req);
      if (!result.ok) {
        res
          .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': auth.challenge(req, result) })
          .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: `Unauthorized: ${result.description}`, data: { code: ErrorCodes.UNAUTHENTICATED } }, id: null }));
        return;
      }
      identity = result.identity;
    }
    const header = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(header) ? header[0] : header;
    if (sessionId !== undefined) {
      const entry = this.sessions.get(sessionId);
      if (!entry) {
        sendError(res, 404, -32001, 'Session not found: it ended or never existed; start a new one with initialize');
        return;
      }
      // A session belongs to the subject that opened it: another valid token cannot take it over.
      if (auth && entry.session.authenticated?.subject !== identity?.subject) {
        sendError(res, 403, -32001, 'Forbidden: this session belongs to another subject');
        return;
      }
      // Its `clients:` rules were chosen from the groups of the token that opened it: a token
      // with other groups (a user added to or removed from one) must open a new session.
      if (auth && !sameGroups(entry.session.authenticated, identity)) {
        sendError(res, 403, -32001, "Forbidden: the token's groups differ from those this session was opened with; start a new session");
        return;
      }
      if (req.method === 'POST') await this.post(entry, req, res);
      else await this.exchange(entry.exchanges, req, res, () => this.get(entry, req, res));
      return;
    }
    if (req.method !== 'POST') {
      sendError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      return;
    }
    await this.sessionless(req, res, identity);
  }

  /** A POST without a session id: a modern (2026-07-28) request (modernHttp.ts), else a 2025 `initialize`. */
  private async sessionless(req: IncomingMessage, res: ServerResponse, identity: Identity | undefined): Promise<void> {
    const value = await readJson(req, res);
    if (value === NO_BODY) return;
    if (!isModernPost(value, req)) {
      await this.startSession(req, res, identity, value);
      return;
    }
    await serveModernPost(this.factory.modern, value, req, res, { transportKind: 'http', identity, subjectIsSession: this.options.subjectIsSession === true });
  }

  /**
   * A POST on a session: a `tools/call` takes the fast path (httpFastCall.ts); anything else, or
   * headers the SDK transport would refuse, goes to the SDK transport (with the body parsed here).
   */
  private async post(entry: HttpSession, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!fastHeaders(req)) {
      await this.exchange(entry.exchanges, req, res, () => entry.transport.handleRequest(req, res));
      return;
    }
    const value = await readJson(req, res);
    if (value === NO_BODY) return;
    if (!this.options.jsonResponse && isToolCall(value) && entry.session.initialized) {
      // No AsyncLocalStorage context: nothing of a fast call goes through the SDK transport.
      const request = value;
      const exchange = entry.exchanges.begin(req, res, false, true);
      const running = entry.fast.run(request, res, exchange.canResume, (stream) => entry.exchanges.primed(exchange, stream));
      if (running) {
        entry.exchanges.request(request.id, exchange);
        await running;
        entry.exchanges.answered(request.id);
      } else {
        await this.within({ exchanges: entry.exchanges, exchange }, () => entry.transport.handleRequest(req, res, request));
      }
      return;
    }
    await this.exchange(entry.exchanges, req, res, () => entry.transport.handleRequest(req, res, value));
  }

  /** A GET or DELETE on a session: a resume of a fast call's stream is answered here, the rest by the SDK transport. */
  private async get(entry: HttpSession, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const header = req.headers['last-event-id'];
    const lastEventId = Array.isArray(header) ? header[0] : header;
    const resumed = req.method === 'GET' && lastEventId !== undefined ? entry.fast.resume(lastEventId, res) : undefined;
    await (resumed ?? entry.transport.handleRequest(req, res));
  }

  /** A POST without a session id: must be `initialize`; the SDK transport rejects anything else. */
  private async startSession(req: IncomingMessage, res: ServerResponse, identity: Identity | undefined, body: unknown): Promise<void> {
    const id = randomUUID();
    const session = this.factory.createSession('http', id, identity);
    const events = new BoundedEventStore();
    // A POST's priming event (`{}`, no jsonrpc) is stored while that POST is handled: it tells which
    // exchange carries which stream, so a resume (Last-Event-ID) rescues only that stream's requests.
    const storeEvent = events.storeEvent.bind(events);
    events.storeEvent = (stream, message) => {
      if (!('jsonrpc' in message)) {
        const current = this.current.getStore();
        if (current?.exchanges === exchanges) exchanges.primed(current.exchange, stream);
      }
      return storeEvent(stream, message);
    };
    const host: FastPathHost = {};
    session.enableFastPath(host);
    const fast = new FastCalls(id, host, events);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: events,
      retryInterval: RETRY_MS,
      ...(this.options.jsonResponse ? { enableJsonResponse: true } : {}),
      onsessioninitialized: (sid) => {
        this.sessions.set(sid, { transport, session, exchanges, fast });
      },
      onsessionclosed: (sid) => {
        session.endReason ??= 'deleted';
        this.sessions.delete(sid);
      },
    });
    // A request whose response closed unanswered takes the path a client's notifications/cancelled takes.
    const exchanges = new SessionExchanges(
      (requestId) => {
        fast.cancel(requestId, CLIENT_DISCONNECTED);
        transport.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason: CLIENT_DISCONNECTED } });
        // The cancelled request gets no answer from the session; this one releases the transport's
        // state for it, and a client that resumes too late finds it in the replay.
        const error = { code: ErrorCode.ConnectionClosed, message: `mcpgate: request cancelled: ${CLIENT_DISCONNECTED}`, data: { code: ErrorCodes.CLIENT_DISCONNECTED } };
        transport.send({ jsonrpc: '2.0', id: requestId, error }).catch(() => undefined);
      },
      RESUME_GRACE_MS,
      (eventId) => events.streamOf(eventId),
    );
    transport.onclose = () => {
      this.sessions.delete(id);
      exchanges.dispose();
    };
    await session.connect(transport);
    this.track(transport, exchanges, fast);
    await this.exchange(exchanges, req, res, () => transport.handleRequest(req, res, body));
    if (!this.sessions.has(id)) await session.close();
  }

  /** Notes which exchange each request arrived on and when its answer leaves. */
  private track(transport: StreamableHTTPServerTransport, exchanges: SessionExchanges, fast: FastCalls): void {
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      const current = this.current.getStore();
      if (current?.exchanges === exchanges && isJSONRPCRequest(message)) exchanges.request(message.id, current.exchange);
      // A request the client cancelled gets no answer: it is no longer in flight.
      else if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled') {
        const requestId = (message.params as { requestId: RequestId }).requestId;
        exchanges.answered(requestId);
        fast.cancel(requestId);
      }
      deliver?.(message, extra);
    };
    const send = transport.send.bind(transport);
    transport.send = (message: JSONRPCMessage, options) => {
      if ((isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && message.id !== undefined) exchanges.answered(message.id);
      if (fast.route(message, options?.relatedRequestId)) return Promise.resolve();
      return send(message, options);
    };
  }

  /**
   * Runs one HTTP exchange of a session through the SDK transport; a POST's messages learn which
   * exchange they came on (a GET or DELETE carries no client request).
   */
  private exchange(exchanges: SessionExchanges, req: IncomingMessage, res: ServerResponse, handle: () => Promise<void>): Promise<void> {
    const exchange = exchanges.begin(req, res, this.options.jsonResponse === true);
    return req.method === 'POST' ? this.within({ exchanges, exchange }, handle) : handle();
  }

  /**
   * Runs `handle` in the exchange's AsyncLocalStorage context. On Node 20 an enabled
   * AsyncLocalStorage runs promise hooks for every promise of the process, fast calls included
   * (about 2% of the gateway's busy time in `npm run bench -- --http`): it is disabled whenever no
   * SDK-transport POST is in flight, and `run` enables it again.
   */
  private async within(current: CurrentExchange, handle: () => Promise<void>): Promise<void> {
    this.sdkPosts++;
    try {
      await this.current.run(current, handle);
    } finally {
      if (--this.sdkPosts === 0) this.current.disable();
    }
  }

  /** Closes the sessions idle for `idleMs` (nothing in flight, no request), as a DELETE would. */
  private expireIdle(idleMs: number): void {
    const now = Date.now();
    for (const [id, entry] of this.sessions) {
      if (!entry.exchanges.idleFor(idleMs, now)) continue;
      this.expire(id, entry, 'idle');
    }
  }

  private expire(id: string, entry: HttpSession, reason: SessionEndReason): void {
    this.sessions.delete(id);
    entry.session.endReason ??= reason;
    this.options.logger.info({ session: id, reason }, 'http session closed');
    entry.transport.close().catch((error: unknown) => this.options.logger.warn({ session: id, err: messageOf(error) }, 'closing an http session failed'));
  }
}

function sameGroups(a: Identity | undefined, b: Identity | undefined): boolean {
  if (a === b) return true; // the token cache hands out one identity object per token
  const left = a?.groups ?? [];
  const right = new Set(b?.groups ?? []);
  return left.length === right.size && left.every((group) => right.has(group));
}
