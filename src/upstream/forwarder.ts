/**
 * Forwards requests on one upstream connection under gateway-owned string ids, settling them
 * from the responses it intercepts before the SDK client sees them. This skips the SDK's generic
 * request machinery (timers and abort listeners per request, result schema parsing), which
 * costs more than the forwarding itself, and handles progress in wire order (the SDK defers
 * notifications, so a result could overtake the progress sent before it). Timeout and
 * cancellation send `notifications/cancelled` upstream, as the SDK would.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, type JSONRPCMessage, type Progress, type Result } from '@modelcontextprotocol/sdk/types.js';
import type { CancelSignal } from './cancelSignal.js';

interface RawResponse {
  readonly result?: unknown;
  readonly error?: { readonly code: number; readonly message: string; readonly data?: unknown };
}

interface Pending {
  settle(message: RawResponse): void;
  fail(error: unknown): void;
}

/** Options of one forwarded request. */
export interface ForwardRequestOptions {
  readonly timeoutMs: number;
  readonly signal?: CancelSignal;
  readonly onprogress?: (progress: Progress) => void;
}

/** The forwarding side of one upstream connection. */
export class Forwarder {
  private readonly pending = new Map<string, Pending>();
  private readonly progress = new Map<string, (progress: Progress) => void>();
  private next = 0;

  /** Takes over the transport's responses to forwarded requests; everything else reaches the SDK. */
  constructor(private readonly transport: Transport) {
    const sdkOnMessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if (!this.intercept(message)) sdkOnMessage?.(message, extra);
    };
  }

  /** Sends `method` with `params`, resolving with the upstream's result or rejecting with its error. */
  request(method: string, params: Record<string, unknown> | undefined, options: ForwardRequestOptions): Promise<Result> {
    const { signal, timeoutMs } = options;
    return new Promise<Result>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const id = `mcpgate-${this.next++}`;
      let sent = params;
      if (options.onprogress) {
        this.progress.set(id, options.onprogress);
        sent = { ...params, _meta: { ...(params?._meta as Record<string, unknown> | undefined), progressToken: id } };
      }
      const cancelUpstream = (reason: string) => {
        this.transport.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } }).catch(() => undefined);
      };
      const onAbort = () => {
        finish();
        cancelUpstream(String(signal?.reason ?? 'cancelled by the client'));
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        finish();
        cancelUpstream('timeout');
        reject(new McpError(ErrorCode.RequestTimeout, 'Request timed out', { timeout: timeoutMs }));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        this.progress.delete(id);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        settle: (message) => {
          finish();
          if (message.error) reject(new McpError(message.error.code, message.error.message, message.error.data));
          else resolve(message.result as Result);
        },
        fail: (error) => {
          finish();
          reject(error);
        },
      });
      this.transport.send({ jsonrpc: '2.0', id, method, params: sent } as JSONRPCMessage).catch((error: unknown) => {
        this.pending.get(id)?.fail(error);
      });
    });
  }

  /** Fails every request still waiting (the connection is gone). */
  failAll(): void {
    const error = new McpError(ErrorCode.ConnectionClosed, 'Connection closed');
    for (const pending of [...this.pending.values()]) pending.fail(error);
  }

  /** Handles a response or progress notification that belongs to a forwarded request. */
  private intercept(message: JSONRPCMessage): boolean {
    const raw = message as { id?: unknown; method?: unknown; params?: Record<string, unknown> };
    if (typeof raw.id === 'string' && raw.method === undefined) {
      const pending = this.pending.get(raw.id);
      if (!pending) return false;
      pending.settle(message as RawResponse);
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
