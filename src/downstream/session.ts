/**
 * One client session: the SDK's low-level `Server` bound to one transport. The SDK handles the
 * handshake and ping; every other request goes, unparsed by the SDK, to the gateway's dispatcher
 * (so results are forwarded without being validated and copied once more on the hot path).
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  SetLevelRequestSchema,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type LoggingLevel,
  type Notification,
  type RequestId,
  type Result,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ErrorCodes, GatewayError, toWireError } from '../errors.js';
import { spliceResponse } from '../jsonLines.js';
import { GATEWAY_NAME, GATEWAY_VERSION } from '../version.js';
import { CAPABILITY_FOR, type Caller, type CallerIdentity, type ClientInfo, type Identity, type InputOptions, type InputRequest, type Subscriber } from '../caller/caller.js';
import { CallSignal } from '../caller/cancelSignal.js';
import { SessionCaller, type SessionCallerHost } from './sessionCaller.js';

/** The gateway side of a session: everything a session cannot answer itself. */
export interface SessionDispatcher {
  /** Answers a client request (tools/call, tools/list, resources/read, …) of the request's caller. */
  dispatch(caller: Caller, request: JSONRPCRequest): Promise<Result>;
  /** The client finished initialisation. */
  opened(session: ClientSession): void;
  /** The transport closed. */
  closed(session: ClientSession): void;
}

/** A transport that can hand `tools/call` requests straight to the session. */
export interface FastPathHost {
  /**
   * Returns the response to send (a message, or an already serialised line; undefined: none, the
   * request was cancelled), or undefined to decline the request.
   */
  fastRequest?: (request: JSONRPCRequest) => Promise<JSONRPCMessage | string | undefined> | undefined;
  /** A `notifications/cancelled` for a request id (`reason`: why, e.g. the client disconnected). */
  fastCancel?: (requestId: RequestId, reason?: string) => void;
}

/** A well-formed `tools/call` request (the fast path checks name and arguments itself). */
export function isToolCall(value: unknown): value is JSONRPCRequest {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as { jsonrpc?: unknown; method?: unknown; id?: unknown; params?: unknown };
  return (
    message.jsonrpc === '2.0' &&
    message.method === 'tools/call' &&
    (typeof message.id === 'string' || typeof message.id === 'number') &&
    (message.params === undefined || (typeof message.params === 'object' && message.params !== null && !Array.isArray(message.params)))
  );
}

const PassThroughResult = z.custom<Result>((value) => typeof value === 'object' && value !== null);

/** How long a client request waits by default: a human may be answering it; the caller's signal and timeout bound it. */
const CLIENT_REQUEST_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/** Why a session ended: idle expiry, a client DELETE, the client went away, the gateway stopped. */
export type SessionEndReason = 'idle' | 'deleted' | 'disconnected' | 'shutdown';

/** Server identity advertised to clients. */
export const GATEWAY_SERVER_INFO = { name: GATEWAY_NAME, version: GATEWAY_VERSION } as const;

/**
 * One downstream MCP session (2025-11-25 and earlier). Each of its requests reaches the gateway
 * as a {@link SessionCaller}: the session is the host of those callers and the long-lived
 * subscriber of its `resources/subscribe` URIs.
 */
export class ClientSession implements SessionCallerHost, Subscriber {
  readonly id: string;
  readonly transportKind: 'stdio' | 'http';
  readonly server: Server;
  readonly startedAt = Date.now();
  /** Resource URIs this session subscribed to. */
  readonly subscriptions = new Set<string>();
  /** `tools/call` requests received (recorded in `mcpgate.session.end`). */
  calls = 0;
  /** The authenticated client (verified bearer token), if any. */
  readonly authenticated: Identity | undefined;
  /** Set once the client sent `notifications/initialized`; nothing unsolicited is sent before. */
  initialized = false;
  /** The MCP protocol version negotiated in `initialize` (for telemetry). */
  protocolVersion: string | undefined;
  /** Why the session ended, when the transport knows (recorded in `mcpgate.session.end`). */
  endReason: SessionEndReason | undefined;
  logLevel: LoggingLevel | undefined;
  /** clientInfo of the session's `initialize`, noted when it arrived. */
  private initializeInfo: ClientInfo | undefined;
  /** Built once the client said who it is (every caller of the session shares it). */
  private identityOf: CallerIdentity | undefined;
  /** The last notification handed to the SDK: results must not overtake it. */
  private lastNotification: Promise<void> = Promise.resolve();
  private notifiedSinceDrain = false;
  private closed = false;
  private readonly dispatcher: SessionDispatcher;
  private readonly fastInflight = new Map<RequestId, CallSignal>();

  constructor(options: { transportKind: 'stdio' | 'http'; dispatcher: SessionDispatcher; id?: string; instructions?: string; identity?: Identity }) {
    this.id = options.id ?? randomUUID();
    this.authenticated = options.identity;
    this.transportKind = options.transportKind;
    const dispatcher = options.dispatcher;
    this.dispatcher = dispatcher;
    this.server = new Server(GATEWAY_SERVER_INFO, {
      capabilities: {
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: { listChanged: true, subscribe: true },
        logging: {},
        completions: {},
      },
      ...(options.instructions ? { instructions: options.instructions } : {}),
    });
    // Logging level is per session: the upstreams are shared, so it is applied here when forwarding.
    this.server.setRequestHandler(SetLevelRequestSchema, async (request) => {
      this.logLevel = request.params.level;
      return {};
    });
    this.server.fallbackRequestHandler = (request, extra) => {
      if (request.method === 'tools/call') this.calls++;
      return dispatcher.dispatch(new SessionCaller(this, extra.requestId, extra.signal), request);
    };
    // The SDK keeps the negotiated protocol version to itself: note it from the initialize result.
    const sdk = this.server as unknown as { _oninitialize?: (request: unknown) => Promise<{ protocolVersion?: string }> };
    const oninitialize = sdk._oninitialize;
    if (typeof oninitialize === 'function') {
      sdk._oninitialize = async (request) => {
        const result = await oninitialize.call(this.server, request);
        this.protocolVersion = result.protocolVersion;
        return result;
      };
    }
    this.server.oninitialized = () => {
      this.initialized = true;
      dispatcher.opened(this);
    };
    this.server.onclose = () => {
      if (this.closed) return;
      this.closed = true;
      dispatcher.closed(this);
    };
  }

  /** Binds the session to its transport and starts it. */
  async connect(transport: Transport): Promise<void> {
    await this.server.connect(transport);
    // The SDK runs a request's handler two microtasks after it arrives and a notification's one:
    // an `initialize` and `notifications/initialized` read together would open the session
    // before the SDK has read clientInfo. What initialize said is noted as it arrives instead.
    const sdkOnMessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      const request = message as { method?: unknown; params?: { clientInfo?: { name?: unknown; version?: unknown } } };
      if (request.method === 'initialize' && this.initializeInfo === undefined) {
        const info = request.params?.clientInfo;
        this.initializeInfo = {
          ...(typeof info?.name === 'string' && info.name !== '' ? { name: capped(info.name) } : {}),
          ...(typeof info?.version === 'string' && info.version !== '' ? { version: capped(info.version) } : {}),
        };
        this.identityOf = undefined;
      }
      sdkOnMessage?.(message, extra);
    };
  }

  /**
   * Lets the transport hand `tools/call` requests of an initialised session straight to the
   * dispatcher, skipping the SDK's per-request machinery; the answer is the same JSON-RPC
   * response the SDK would write, and cancellation works the same way.
   */
  enableFastPath(host: FastPathHost): void {
    host.fastRequest = (request) => (this.initialized && request.method === 'tools/call' ? this.fastCall(request) : undefined);
    host.fastCancel = (requestId, reason = 'cancelled by the client') => this.fastInflight.get(requestId)?.abort(reason);
  }

  private async fastCall(request: JSONRPCRequest): Promise<JSONRPCMessage | string | undefined> {
    const signal = new CallSignal();
    this.fastInflight.set(request.id, signal);
    this.calls++;
    try {
      const result = await this.dispatcher.dispatch(new SessionCaller(this, request.id, signal), request);
      return spliceResponse(result, request.id) ?? ({ jsonrpc: '2.0', id: request.id, result } as JSONRPCMessage);
    } catch (error) {
      if (signal.aborted) return undefined; // cancelled requests get no response (as in the SDK)
      const wire = toWireError(error);
      return {
        jsonrpc: '2.0',
        id: request.id,
        error: { code: wire.code, message: wire.message, ...(wire.data === undefined ? {} : { data: wire.data }) },
      } as JSONRPCMessage;
    } finally {
      this.fastInflight.delete(request.id);
    }
  }

  /** Closes the session's transport. */
  async close(): Promise<void> {
    await this.server.close().catch(() => undefined);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Who this session's client is (the identity every one of its callers carries). */
  get identity(): CallerIdentity {
    return (this.identityOf ??= Object.freeze({ authenticated: this.authenticated, clientInfo: this.clientInfo, key: this.id }));
  }

  /** The client's self-description, each field capped (it lands in audit records, prompts and approved-rules entries). */
  get clientInfo(): ClientInfo {
    if (this.initializeInfo) return this.initializeInfo;
    const info = this.server.getClientVersion();
    if (!info) return {};
    return { ...(info.name ? { name: capped(info.name) } : {}), ...(info.version ? { version: capped(info.version) } : {}) };
  }

  get clientCapabilities(): Record<string, unknown> {
    return (this.server.getClientCapabilities() ?? {}) as Record<string, unknown>;
  }

  /** Sends a notification, tied to a client request when given (Streamable HTTP routes it onto that request's stream). */
  notify(notification: Notification, relatedRequestId?: RequestId): void {
    if (this.closed || (!this.initialized && relatedRequestId === undefined)) return;
    const options = relatedRequestId === undefined ? undefined : { relatedRequestId };
    this.notifiedSinceDrain = true;
    this.lastNotification = this.server
      .notification(notification as ServerNotification, options)
      .catch(() => undefined);
  }

  /**
   * Waits until every notification sent so far is written. A forwarded result awaits this, so a
   * progress or log notification the upstream sent before its result also reaches the client
   * before the result (the SDK sends notifications asynchronously). Free when nothing is pending.
   */
  drain(): Promise<void> | undefined {
    if (!this.notifiedSinceDrain) return undefined;
    this.notifiedSinceDrain = false;
    // Also let the notification leave in an earlier write than the result: the SDK client handles
    // notifications a microtask late, so one read holding both would drop the notification.
    return this.lastNotification.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  }

  /**
   * Sends a request for input (sampling, elicitation, roots) to this client, related to one of
   * its requests, if the client declared the capability it needs.
   */
  request(request: InputRequest, relatedRequestId: RequestId, options: InputOptions = {}): Promise<Result> {
    const needed = CAPABILITY_FOR[request.method];
    if (this.clientCapabilities[needed] === undefined) {
      return Promise.reject(
        new GatewayError(ErrorCodes.CLIENT_CAPABILITY_MISSING, `the client of this gateway session does not support ${request.method} (no "${needed}" capability)`),
      );
    }
    return this.server.request({ method: request.method, params: request.params } as ServerRequest, PassThroughResult, {
      timeout: options.timeoutMs ?? CLIENT_REQUEST_TIMEOUT_MS,
      relatedRequestId,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
}

/** Longest client name or version kept (a client may send megabytes). */
const CLIENT_INFO_MAX = 200;

function capped(text: string): string {
  return text.length <= CLIENT_INFO_MAX ? text : `${text.slice(0, CLIENT_INFO_MAX)}… (${text.length - CLIENT_INFO_MAX} more characters)`;
}
