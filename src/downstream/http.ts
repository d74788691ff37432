/**
 * Streamable HTTP for clients: `/mcp` (POST/GET/DELETE), one SDK transport and one gateway session
 * per `Mcp-Session-Id`, plus `/healthz`. Host and Origin headers are checked before anything else
 * (DNS-rebinding protection): a web page can otherwise reach a loopback server through a
 * hostname it controls.
 */
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCodes, GatewayError, messageOf } from '../errors.js';
import type { Identity } from '../policy/clients.js';
import type { Logger } from '../telemetry/logger.js';
import { METADATA_PATH, type BearerAuth } from './auth.js';
import { BoundedEventStore } from './eventStore.js';
import type { ClientSession } from './session.js';

/** What the HTTP listener needs from the gateway. */
export interface HttpSessionFactory {
  createSession(transportKind: 'http', id: string, identity?: Identity): ClientSession;
  health(): Record<string, unknown>;
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
}

interface HttpSession {
  readonly transport: StreamableHTTPServerTransport;
  readonly session: ClientSession;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** A running HTTP listener. */
export class HttpListener {
  private readonly sessions = new Map<string, HttpSession>();
  private server: Server | undefined;
  private allowedHosts = new Set<string>();
  private allowedOrigins = new Set<string>();
  private checkHost = true;

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
    return address;
  }

  /** Closes every session and the listener. */
  async close(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map((entry) => entry.transport.close().catch(() => undefined)));
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private configureAllowLists(port: number): void {
    const hosts = ['127.0.0.1', 'localhost', '[::1]'];
    this.allowedHosts = new Set([...hosts.flatMap((h) => [h, `${h}:${port}`]), ...(this.options.allowedHosts ?? [])]);
    this.allowedOrigins = new Set([...hosts.map((h) => `http://${h}:${port}`), ...(this.options.allowedOrigins ?? [])]);
    // Bound to a non-loopback address (e.g. in a container) the Host is whatever name clients use:
    // only checked when the admin lists the accepted names.
    this.checkHost = LOOPBACK.has(this.options.host) || (this.options.allowedHosts?.length ?? 0) > 0;
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
    if (path === '/healthz' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.factory.health()));
      return;
    }
    const auth = this.options.auth;
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
      if (auth && entry.session.identity?.subject !== identity?.subject) {
        sendError(res, 403, -32001, 'Forbidden: this session belongs to another subject');
        return;
      }
      // Its `clients:` rules were chosen from the groups of the token that opened it: a token
      // with other groups (a user added to or removed from one) must open a new session.
      if (auth && !sameGroups(entry.session.identity, identity)) {
        sendError(res, 403, -32001, "Forbidden: the token's groups differ from those this session was opened with; start a new session");
        return;
      }
      await entry.transport.handleRequest(req, res);
      return;
    }
    if (req.method !== 'POST') {
      sendError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      return;
    }
    await this.startSession(req, res, identity);
  }

  /** A POST without a session id: must be `initialize`; the SDK transport rejects anything else. */
  private async startSession(req: IncomingMessage, res: ServerResponse, identity: Identity | undefined): Promise<void> {
    const id = randomUUID();
    const session = this.factory.createSession('http', id, identity);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: new BoundedEventStore(),
      retryInterval: 1000,
      onsessioninitialized: (sid) => {
        this.sessions.set(sid, { transport, session });
      },
      onsessionclosed: (sid) => {
        this.sessions.delete(sid);
      },
    });
    transport.onclose = () => {
      this.sessions.delete(id);
    };
    await session.connect(transport);
    await transport.handleRequest(req, res);
    if (!this.sessions.has(id)) await session.close();
  }
}

function sameGroups(a: Identity | undefined, b: Identity | undefined): boolean {
  if (a === b) return true; // the token cache hands out one identity object per token
  const left = a?.groups ?? [];
  const right = new Set(b?.groups ?? []);
  return left.length === right.size && left.every((group) => right.has(group));
}

function sendError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
