/**
 * What the forwarding path needs of a cancellation signal. The SDK's AbortSignal satisfies it;
 * the stdio fast path uses the lighter `CallSignal`, because an AbortController per call was a
 * measurable share of the gateway's CPU per forwarded call.
 */

/** The part of AbortSignal that forwarding uses. */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** A one-shot cancellation signal for one call. */
export class CallSignal implements CancelSignal {
  aborted = false;
  reason: unknown;
  private listeners: Array<() => void> | undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const index = this.listeners?.indexOf(listener) ?? -1;
    if (index !== -1) this.listeners?.splice(index, 1);
  }

  /** Cancels the call: every listener runs once. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners ?? [];
    this.listeners = undefined;
    for (const listener of listeners) listener();
  }
}

/**
 * The cancellation reason of a request whose client vanished (its HTTP response closed before
 * the answer was written): the approval broker records such a call as a disconnect.
 */
export const CLIENT_DISCONNECTED = 'the client disconnected (its HTTP response closed before the answer)';
