/**
 * Forwards requests on one upstream connection under gateway-owned string ids, settling them
 * from the responses it intercepts before the SDK client sees them. This skips the SDK's generic
 * request machinery (timers and abort listeners per request, result schema parsing), which
 * costs more than the forwarding itself, and handles progress in wire order (the SDK defers
 * notifications, so a result could overtake the progress sent before it). Timeout and
 * cancellation send `notifications/cancelled` upstream, as the SDK would. Deadlines are checked
 * by one sweep timer per connection rather than a timer per request.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, type JSONRPCMessage, type Progress, type Result } from '@modelcontextprotocol/sdk/types.js';
import { ErrorCodes, GatewayRpcCodes } from '../errors.js';
import { depthExceeds, MAX_JSON_DEPTH } from '../jsonDepth.js';
import type { CancelSignal } from '../caller/cancelSignal.js';

interface RawResponse {
  readonly result?: unknown;
  readonly error?: { readonly code: number; readonly message: string; readonly data?: unknown };
}

/**
 * What requests still waiting fail with when the connection goes away. Its own class: an upstream
 * may answer with an error whose code is ConnectionClosed's -32000 (the usual "server error"),
 * which must not be taken for a crash.
 */
export class ConnectionClosedError extends McpError {
  constructor() {
    super(ErrorCode.ConnectionClosed, 'Connection closed');
  }
}

/** How often deadlines are checked: a timeout fires at most this much late. */
const SWEEP_MS = 50;

/** One request waiting for its response. */
class Pending {
  constructor(
    readonly forwarder: Forwarder,
    readonly id: string,
    readonly deadline: number,
    readonly timeoutMs: number,
    readonly resolve: (result: Result) => void,
    readonly reject: (error: unknown) => void,
    readonly signal: CancelSignal | undefined,
  ) {}

  /** Bound once per request: the abort listener. */
  readonly onAbort = (): void => {
    this.forwarder.finish(this);
    this.forwarder.cancelUpstream(this.id, String(this.signal?.reason ?? 'cancelled by the client'));
    this.reject(this.signal?.reason);
  };
}

/** The forwarding side of one upstream connection. */
export class Forwarder {
  private readonly pending = new Map<string, Pending>();
  private readonly progress = new Map<string, (progress: Progress) => void>();
  private next = 0;
  private sweeper: NodeJS.Timeout | undefined;

  /**
   * Takes over the transport's responses to forwarded requests; everything else reaches the SDK.
   * A message nested deeper than {@link MAX_JSON_DEPTH} reaches neither (see {@link refuseDeep}).
   */
  constructor(
    private readonly transport: Transport,
    private readonly server: string,
    /** Rewrites every request's params before it leaves (a modern upstream's `_meta` envelope); absent for 2025 upstreams. */
    private readonly prepare?: (params: Record<string, unknown> | undefined) => Record<string, unknown>,
  ) {
    const sdkOnMessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      const usable = depthExceeds(message, MAX_JSON_DEPTH) ? (this.refuseDeep(message) as typeof message | undefined) : message;
      if (usable && !this.intercept(usable)) sdkOnMessage?.(usable, extra);
    };
  }

  /**
   * What stands in for a message too deeply nested to be used safely further on: for a response,
   * an error response for the same request (its call fails now, with the reason); a request from
   * the upstream is answered with an error, and a notification dropped (both reported).
   */
  private refuseDeep(message: JSONRPCMessage): JSONRPCMessage | undefined {
    const { id, method } = message as { id?: unknown; method?: unknown };
    const reason = `upstream "${this.server}" sent a message nested deeper than ${MAX_JSON_DEPTH} levels; it was dropped`;
    const error = { code: GatewayRpcCodes.upstreamMessageRejected, message: reason, data: { code: ErrorCodes.UPSTREAM_MESSAGE_REJECTED } };
    const usableId = typeof id === 'string' || typeof id === 'number' ? id : undefined;
    if (method === undefined && usableId !== undefined) return { jsonrpc: '2.0', id: usableId, error } as JSONRPCMessage;
    if (usableId !== undefined) this.transport.send({ jsonrpc: '2.0', id: usableId, error } as JSONRPCMessage).catch(() => undefined);
    this.transport.onerror?.(new Error(reason));
    return undefined;
  }

  /** Sends `method` with `params`, resolving with the upstream's result or rejecting with its error. */
  request(
    method: string,
    params: Record<string, unknown> | undefined,
    timeoutMs: number,
    signal?: CancelSignal,
    onprogress?: (progress: Progress) => void,
  ): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const id = `mcpgate-${this.next++}`;
      let sent = params;
      if (onprogress) {
        this.progress.set(id, onprogress);
        sent = { ...params, _meta: { ...(params?._meta as Record<string, unknown> | undefined), progressToken: id } };
      }
      if (this.prepare) sent = this.prepare(sent);
      const pending = new Pending(this, id, Date.now() + timeoutMs, timeoutMs, resolve, reject, signal);
      this.pending.set(id, pending);
      signal?.addEventListener('abort', pending.onAbort, { once: true });
      this.sweeper ??= setInterval(this.sweep, SWEEP_MS).unref();
      this.transport.send({ jsonrpc: '2.0', id, method, params: sent } as JSONRPCMessage).catch((error: unknown) => {
        if (this.pending.get(id) !== pending) return;
        this.finish(pending);
        reject(error);
      });
    });
  }

  /** Fails every request still waiting (the connection is gone) and stops the sweep. */
  failAll(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    const error = new ConnectionClosedError();
    for (const pending of [...this.pending.values()]) {
      this.finish(pending);
      pending.reject(error);
    }
  }

  /** Forgets a request (answered, timed out, cancelled or failed). */
  finish(pending: Pending): void {
    this.pending.delete(pending.id);
    this.progress.delete(pending.id);
    pending.signal?.removeEventListener('abort', pending.onAbort);
  }

  /** Tells the upstream to stop working on a request. */
  cancelUpstream(id: string, reason: string): void {
    this.transport.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } }).catch(() => undefined);
  }

  private readonly sweep = (): void => {
    if (this.pending.size === 0) return;
    const now = Date.now();
    for (const pending of [...this.pending.values()]) {
      if (pending.deadline > now) continue;
      this.finish(pending);
      this.cancelUpstream(pending.id, 'timeout');
      pending.reject(new McpError(ErrorCode.RequestTimeout, 'Request timed out', { timeout: pending.timeoutMs }));
    }
  };

  /** Handles a response or progress notification that belongs to a forwarded request. */
  private intercept(message: JSONRPCMessage): boolean {
    const raw = message as { id?: unknown; method?: unknown; params?: Record<string, unknown> };
    if (typeof raw.id === 'string' && raw.method === undefined) {
      const pending = this.pending.get(raw.id);
      if (!pending) return false;
      this.finish(pending);
      const response = message as RawResponse;
      if (response.error) pending.reject(new McpError(response.error.code, response.error.message, response.error.data));
      else pending.resolve(response.result as Result);
      return true;
    }
    if (raw.method === 'notifications/progress') {
      const { progressToken, ...progress } = (raw.params ?? {}) as Progress & { progressToken?: unknown };
      const callback = this.progress.get(String(progressToken));
      if (!callback) return false;
      callback(progress);
      return true;
    }
    return false;
  }
}
