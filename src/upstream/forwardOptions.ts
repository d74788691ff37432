/** How one request is forwarded to an upstream, and whose it is (upstream-initiated requests are routed back to it). */
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import type { Caller } from '../caller/caller.js';
import type { CancelSignal } from '../caller/cancelSignal.js';

/** Who a forwarded request belongs to, so upstream-initiated requests can be routed back. */
export interface CallOwner {
  /** The downstream request being served: routed requests and messages go to it. */
  readonly caller: Caller;
  /** The call id and public tool name of a forwarded `tools/call` (named in network asks and records). */
  readonly call?: string;
  readonly tool?: string;
}

/** Options of one forwarded request. */
export interface ForwardOptions {
  readonly owner?: CallOwner;
  readonly signal?: CancelSignal;
  readonly onprogress?: (progress: Progress) => void;
  /** Overrides the server's configured timeout. */
  readonly timeoutMs?: number;
  /**
   * What a 2026 upstream's `input_required` result does (2025 upstreams never send one):
   * `fulfil` (default): mcpgate answers its input requests through `owner` (src/upstream/inputRounds.ts)
   * and retries until the result is complete; `return`: the raw InputRequiredResult is the
   * result (a 2026 caller passes it through and sends the retry itself).
   */
  readonly inputRequired?: 'fulfil' | 'return';
}
