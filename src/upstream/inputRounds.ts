/**
 * A modern upstream's multi round-trip requests (SEP-2322): a `tools/call`, `prompts/get` or
 * `resources/read` may answer `input_required` with `inputRequests` (elicitation, sampling, roots)
 * and an opaque `requestState`. mcpgate fulfils each request (through the call's owner, or itself
 * where it owns the answer) and retries the same request with a new JSON-RPC id, the answers in
 * `inputResponses` and the byte-exact `requestState`, for as many rounds as the upstream asks, at
 * most {@link MAX_INPUT_ROUNDS}. Pure control flow: the I/O comes in as functions.
 */
import type { JSONRPCRequest, Result } from '@modelcontextprotocol/sdk/types.js';
import { CAPABILITY_FOR, type Caller, type InputMethod, type InputRequest } from '../caller/caller.js';
import { MetaKeys } from '../protocol/revisions.js';
import { ErrorCodes, GatewayError } from '../errors.js';
import type { CallOwner, ForwardOptions } from './forwardOptions.js';

/** Rounds one call may take before mcpgate gives up (an upstream asking forever must not hold a call forever). */
export const MAX_INPUT_ROUNDS = 8;

/** True when a result asks for input (`resultType: "input_required"`; absent means complete). */
export function isInputRequired(result: Result): boolean {
  return (result as { resultType?: unknown }).resultType === 'input_required';
}

/** The validated input requests of an InputRequiredResult, by key; throws on a malformed one (fail closed). */
export function inputRequestsOf(result: Result, server: string): Record<string, InputRequest> {
  const raw = (result as { inputRequests?: unknown }).inputRequests;
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw malformed(server, 'inputRequests is not an object');
  const out: Record<string, InputRequest> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const { method, params } = (value ?? {}) as { method?: unknown; params?: unknown };
    if (typeof method !== 'string' || !Object.hasOwn(CAPABILITY_FOR, method)) throw malformed(server, `input request "${key.slice(0, 64)}" names no known method`);
    if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) throw malformed(server, `input request "${key.slice(0, 64)}" has params that are not an object`);
    out[key] = { method: method as InputMethod, ...(params ? { params: params as Record<string, unknown> } : {}) };
  }
  return out;
}

/** An upstream result mcpgate will not use or pass on (fail closed). */
export function malformed(server: string, why: string): GatewayError {
  return new GatewayError(ErrorCodes.UPSTREAM_MESSAGE_REJECTED, `upstream "${server}" sent a result mcpgate cannot use: ${why}`);
}

/** One round of an InputRequiredResult, validated: its requests, its state (a string if any), at least one of them. */
export function inputRoundOf(result: Result, server: string): { requests: Record<string, InputRequest>; requestState?: string } {
  const { requestState } = result as { requestState?: unknown };
  if (requestState !== undefined && typeof requestState !== 'string') throw malformed(server, 'requestState is not a string');
  const requests = inputRequestsOf(result, server);
  if (Object.keys(requests).length === 0 && requestState === undefined) throw malformed(server, 'it has neither inputRequests nor requestState');
  return { requests, ...(requestState === undefined ? {} : { requestState }) };
}

/**
 * The answer mcpgate gives itself when the client cannot: roots → an empty list (mcpgate exposes
 * no roots of its own), elicitation → declined; sampling has no answer a gateway owns: the call
 * fails with MCPGATE_CLIENT_CAPABILITY_MISSING (fail closed).
 */
export function ownedAnswer(request: InputRequest, server: string): Result {
  if (request.method === 'roots/list') return { roots: [] };
  if (request.method === 'elicitation/create') return { action: 'decline' };
  throw new GatewayError(
    ErrorCodes.CLIENT_CAPABILITY_MISSING,
    `upstream "${server}" asked for sampling during the call, and the client did not declare the sampling capability`,
  );
}

/** How a call's rounds reach the world. */
export interface RoundIo {
  /** Sends the request again with these extra params (a new JSON-RPC id each time). */
  retry(extra: { inputResponses: Record<string, Result>; requestState?: string }): Promise<Result>;
  /** Answers one input request (`round` counts from 1, `key` is the upstream's). */
  answer(key: string, request: InputRequest, round: number): Promise<Result>;
}

/** Runs the rounds from the first result to a complete one (or an error). */
export async function fulfilRounds(first: Result, server: string, io: RoundIo): Promise<Result> {
  let result = first;
  for (let round = 1; isInputRequired(result); round++) {
    if (round > MAX_INPUT_ROUNDS) {
      throw new GatewayError(ErrorCodes.UPSTREAM_MESSAGE_REJECTED, `upstream "${server}" asked for input more than ${MAX_INPUT_ROUNDS} times in one call; mcpgate stopped the call`);
    }
    const { requests, requestState } = inputRoundOf(result, server);
    const inputResponses: Record<string, Result> = {};
    for (const [key, request] of Object.entries(requests)) inputResponses[key] = await io.answer(key, request, round);
    result = await io.retry({ inputResponses, ...(requestState === undefined ? {} : { requestState }) });
  }
  return result;
}

/** Routes an upstream's input request to the client of the call that owns it (UpstreamHooks.onRequest). */
export type AskOwner = (request: JSONRPCRequest, signal: AbortSignal, owner: CallOwner) => Promise<Result>;

/**
 * Sends a request to a 2026 upstream and fulfils its input rounds, unless the caller takes them
 * itself (`options.inputRequired: 'return'`: the raw InputRequiredResult is the answer).
 */
export async function requestWithRounds(
  send: (params: Record<string, unknown> | undefined) => Promise<Result>,
  params: Record<string, unknown> | undefined,
  server: string,
  options: ForwardOptions,
  ask: AskOwner,
): Promise<Result> {
  const level = logLevelFor(options.owner?.caller);
  const sent = level === undefined ? params : { ...params, _meta: { ...(params?._meta as Record<string, unknown> | undefined), [MetaKeys.logLevel]: level } };
  const result = await send(sent);
  if (options.inputRequired === 'return' || !isInputRequired(result)) return result;
  return fulfilRounds(result, server, {
    retry: (extra) => send({ ...sent, ...extra }),
    answer: (key, input, round) => answerInput(server, `${round}:${key}`, input, options, ask),
  });
}

/**
 * The `_meta` logLevel asked of a 2026 server for a call (it sends no log messages without one):
 * the caller's level; a 2025 session without one hears everything (debug); a 2026 caller without
 * one, nothing (none asked).
 */
export function logLevelFor(caller: Pick<Caller, 'logLevel' | 'generation'> | undefined): string | undefined {
  if (!caller) return undefined;
  return caller.logLevel ?? (caller.generation === 'legacy' ? 'debug' : undefined);
}

/** One input request of a call: to the call's owner, or mcpgate's own answer where the client lacks the capability. */
async function answerInput(server: string, id: string, input: InputRequest, options: ForwardOptions, ask: AskOwner): Promise<Result> {
  const owner = options.owner;
  if (!owner || owner.caller.closed) {
    throw new GatewayError(ErrorCodes.CLIENT_REQUEST_UNROUTABLE, `upstream "${server}" asked for ${input.method} during a request no client owns`);
  }
  if (owner.caller.capabilities[CAPABILITY_FOR[input.method]] === undefined) return ownedAnswer(input, server);
  const abort = new AbortController();
  const onAbort = () => abort.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await ask({ jsonrpc: '2.0', id, method: input.method, params: input.params ?? {} }, abort.signal, owner);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
