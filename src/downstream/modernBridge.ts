/**
 * Bridging a 2025 upstream's mid-call asks to a 2026-07-28 caller (docs/protocol.md §7.6): the
 * upstream's `elicitation/create`, `sampling/createMessage` or `roots/list` during a modern
 * caller's call ends that request with `input_required` (key `u:<n>`, a sealed state of kind
 * `bridge` naming this process and the parked call), while the upstream call stays open here.
 * The retry carrying the answer resumes it: the answer goes to the upstream, and the next ask or
 * the result answers the retry. A parked call not continued within `approval.timeout` is
 * cancelled upstream. The call lives in this process only: a retry on another gateway process is
 * refused naming this one (bridging a legacy upstream needs sticky routing).
 */
import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ErrorCodes, ProtocolError } from '../errors.js';
import { InputRequired } from '../caller/caller.js';
import { jsonDigest } from '../canonicalJson.js';
import type { RequestState } from '../protocol/requestState.js';
import type { ModernCaller, UpstreamAsk } from './modernCaller.js';
import { bindingOf, inputRequiredResult, type RoundDeps } from './modernRounds.js';
import type { ModernStream } from './modernStream.js';

/** How this gateway process names itself in a bridge state (and in the error a retry elsewhere gets). */
export const REPLICA = `${hostname()}:${process.pid}`;

type Next = { kind: 'done'; result: Result } | { kind: 'error'; error: unknown } | { kind: 'ask'; ask: UpstreamAsk };

/** One modern caller's call whose upstream may ask mid-call. */
export class BridgedCall {
  readonly id = randomBytes(9).toString('base64url');
  private readonly abort = new AbortController();
  private readonly outcome: Promise<Next>;
  private readonly asks: UpstreamAsk[] = [];
  private wake: (() => void) | undefined;
  private pending: UpstreamAsk | undefined;
  private unlink: (() => void) | undefined;
  /** Asks handed to the client so far (the next key is `u:<asked + 1>`). */
  asked = 0;

  constructor(
    readonly caller: ModernCaller,
    start: () => Promise<Result>,
  ) {
    // The call outlives this round's stream: it is cancelled through the bridge (attach, end).
    caller.signal = this.abort.signal;
    caller.bridge = (ask) => {
      this.asks.push(ask);
      this.wake?.();
    };
    this.outcome = start().then(
      (result): Next => ({ kind: 'done', result }),
      (error: unknown): Next => ({ kind: 'error', error }),
    );
    void this.outcome.then(() => {
      caller.bridge = undefined;
      for (const ask of [...this.asks, ...(this.pending ? [this.pending] : [])]) ask.reject(new Error('the call ended before the client answered'));
    });
  }

  /** The call's result, or the upstream's next ask, whichever comes first. */
  async next(): Promise<Next> {
    if (this.asks.length > 0) return { kind: 'ask', ask: this.take() };
    const asked = new Promise<Next>((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve({ kind: 'ask', ask: this.take() });
      };
    });
    const next = await Promise.race([this.outcome, asked]);
    this.wake = undefined;
    return next;
  }

  private take(): UpstreamAsk {
    const ask = this.asks.shift() as UpstreamAsk;
    this.pending = ask;
    this.asked++;
    return ask;
  }

  /** The client's answer to the pending ask goes to the upstream. */
  answer(value: unknown): void {
    this.pending?.resolve(value as Result);
    this.pending = undefined;
  }

  /** The pending ask is asked again (the retry brought no answer to it). */
  reask(): void {
    if (!this.pending) return;
    this.asks.unshift(this.pending);
    this.pending = undefined;
    this.asked--;
  }

  /** This round's stream carries the call now: its notifications, and its closing cancels the call. */
  attach(stream: ModernStream): void {
    this.detach();
    this.caller.stream = stream;
    const cancel = () => this.abort.abort(stream.signal.reason);
    if (stream.signal.aborted) cancel();
    else stream.signal.addEventListener('abort', cancel, { once: true });
    this.unlink = () => stream.signal.removeEventListener('abort', cancel);
  }

  /** The round's response is written: closing it no longer cancels the call. */
  detach(): void {
    this.unlink?.();
    this.unlink = undefined;
  }

  /** Gives up: the pending ask is refused and the upstream call cancelled. */
  end(reason: string): void {
    this.pending?.reject(new Error(reason));
    this.pending = undefined;
    this.abort.abort(reason);
  }
}

/** Parked calls of this process, each until its retry comes or `approval.timeout` passes. */
export class ParkedCalls {
  private readonly parked = new Map<string, { call: BridgedCall; timer: NodeJS.Timeout }>();

  /** Parks a call waiting for the client's answer. */
  hold(call: BridgedCall, ttlMs: number): void {
    const timer = setTimeout(() => {
      this.parked.delete(call.id);
      call.end('the client did not continue the call within approval.timeout');
    }, ttlMs);
    timer.unref();
    this.parked.set(call.id, { call, timer });
  }

  /** Takes a parked call back (undefined: not here, or it expired). */
  take(id: string): BridgedCall | undefined {
    const entry = this.parked.get(id);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.parked.delete(id);
    return entry.call;
  }

  /** Cancels every parked call (shutdown). */
  closeAll(): void {
    for (const id of [...this.parked.keys()]) this.take(id)?.end('the gateway is shutting down');
  }
}

/** Runs (or resumes) a bridged call until it has a result or asks the client something. */
export async function settle(rounds: RoundDeps, parked: ParkedCalls, call: BridgedCall, method: string, params: Record<string, unknown>, stream: ModernStream, previous?: RequestState): Promise<Record<string, unknown>> {
  call.attach(stream);
  const next = await call.next();
  call.detach();
  if (next.kind === 'done') return next.result as Record<string, unknown>;
  if (next.kind === 'error') {
    if (next.error instanceof InputRequired) return inputRequiredResult(rounds, method, params, call.caller, next.error);
    throw call.caller.failure ?? next.error;
  }
  parked.hold(call, rounds.stateTtlMs);
  const key = `u:${call.asked}`;
  const request = next.ask.request;
  const requestState = await rounds.states.seal(
    {
      ...bindingOf(method, params, call.caller, rounds.policyVersion),
      call: call.id,
      kind: 'bridge',
      asked: { [key]: jsonDigest(request) },
      round: Math.min(64, (previous?.round ?? 0) + 1),
      hold: { replica: REPLICA, id: call.id },
    },
    rounds.stateTtlMs,
  );
  return { resultType: 'input_required', inputRequests: { [key]: { method: request.method, params: request.params ?? {} } }, requestState };
}

/** The retry of a bridge round: hands the client's answer to the parked call and runs it on. */
export async function resumeBridge(rounds: RoundDeps, parked: ParkedCalls, state: RequestState, method: string, params: Record<string, unknown>, stream: ModernStream): Promise<Record<string, unknown>> {
  const hold = state.hold;
  const call = hold && hold.replica === REPLICA ? parked.take(hold.id) : undefined;
  if (!hold || !call) {
    const where = hold && hold.replica !== REPLICA ? `another gateway process (${hold.replica}): bridging a 2025 upstream needs sticky routing` : 'this gateway, and it has ended (approval.timeout) or was continued already';
    throw new ProtocolError(ErrorCodes.CALL_HELD_ELSEWHERE, -32602, `requestState rejected: the call it continues is held by ${where}; start the call again`);
  }
  const responses = (typeof params.inputResponses === 'object' && params.inputResponses !== null ? params.inputResponses : {}) as Record<string, unknown>;
  const key = Object.keys(state.asked)[0] as string;
  // No answer: the same question again (basic/patterns/mrtr § Error Handling), the upstream still waiting.
  if (Object.hasOwn(responses, key)) call.answer(responses[key]);
  else call.reask();
  return settle(rounds, parked, call, method, params, stream, state);
}
