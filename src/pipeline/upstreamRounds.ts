/**
 * A modern upstream's own multi-round-trip rounds (SEP-2322), passed through to a stateless
 * caller: the upstream's `input_required` result ends this request with the upstream's own
 * `inputRequests` keys, its `requestState` travelling sealed inside mcpgate's state (the caller
 * can neither read nor change it); the retry sends the caller's answers and that state back to
 * the same upstream. mcpgate's own round params never reach an upstream. Pure: no I/O.
 */
import type { Result } from '@modelcontextprotocol/sdk/types.js';
import type { AnsweredVia, ApprovalAnswer } from '../approval/answer.js';
import { CAPABILITY_FOR, InputRequired, type Caller, type InputRequest, type PriorApproval } from '../caller/caller.js';
import { inputRoundOf, malformed } from '../upstream/inputRounds.js';
import { upstreamElicitation } from '../approval/upstreamElicitation.js';
import { ErrorCodes, wireError } from '../errors.js';
import { inputResponsesOf, missingCapability } from '../protocol/envelope.js';
import { MetaKeys } from '../protocol/revisions.js';
import { declaresTasks, TASKS_EXTENSION } from '../protocol/taskId.js';
import type { DecidedBy } from '../telemetry/events.js';

/** Keys of mcpgate's own questions (approval, review, bridged asks): an upstream using one could pass its question off as the gateway's. */
const RESERVED_KEY = /^(mcpgate:|u:)/;

/**
 * The params that go upstream: never mcpgate's sealed state nor the answers to mcpgate's own
 * questions; on the retry of this upstream's round, the answers to the keys it asked and its own
 * state; answers sent without any state (an upstream's stateless round) minus mcpgate's keys.
 * A 2026 caller's declared capabilities replace mcpgate's in what the upstream is told.
 */
export function paramsForUpstream(params: Record<string, unknown>, caller: Caller, server: string): Record<string, unknown> {
  if (caller.generation === 'modern') params = { ...params, _meta: { ...(params._meta as Record<string, unknown> | undefined), [MetaKeys.clientCapabilities]: relayable(caller.capabilities) } };
  else if ((params._meta as Record<string, unknown> | undefined)?.[MetaKeys.clientCapabilities] !== undefined) {
    // a session's client does not set what a 2026 upstream is told (mcpgate answers for it)
    const { [MetaKeys.clientCapabilities]: _claimed, ...meta } = params._meta as Record<string, unknown>;
    params = { ...params, _meta: meta };
  }
  if (params.requestState === undefined && params.inputResponses === undefined) return params;
  const { inputResponses: answers, requestState: _state, ...rest } = params;
  if (params.requestState === undefined) {
    // Answers without any state: for the upstream's stateless rounds (it asked, kept nothing, and
    // takes answers on a fresh request), minus the keys of mcpgate's own questions.
    const own = Object.entries(inputResponsesOf(answers)).filter(([key]) => !RESERVED_KEY.test(key));
    return own.length === 0 ? rest : { ...rest, inputResponses: Object.fromEntries(own) };
  }
  const retry = caller.upstreamRetry(server);
  if (!retry) return rest;
  return { ...rest, inputResponses: retry.inputResponses, ...(retry.requestState === undefined ? {} : { requestState: retry.requestState }) };
}

/**
 * What a 2026 upstream is told a 2026 caller declared: the capabilities whose requests pass
 * through (elicitation, sampling, roots) and the tasks extension; nothing mcpgate cannot relay.
 */
function relayable(declared: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const capability of ['elicitation', 'sampling', 'roots']) if (declared[capability] !== undefined) out[capability] = declared[capability];
  if (declaresTasks(declared)) out.extensions = { [TASKS_EXTENSION]: (declared.extensions as Record<string, unknown>)[TASKS_EXTENSION] };
  return out;
}

/**
 * The caller's round for an upstream's `input_required` result (already redacted): its requests
 * under the upstream's own keys, its state and the approval this call already has carried into
 * the next state. Fail closed on anything malformed, on a key of mcpgate's own, and on a request
 * the caller did not declare the capability for (-32021: the upstream was told what it declared).
 */
export function upstreamInputRequired(result: Result, server: string, caller: Caller, approved: PriorApproval | undefined): InputRequired {
  const { requests, requestState } = inputRoundOf(result, server);
  return new InputRequired(checkedForCaller(requests, server, caller), { upstream: { server, ...(requestState === undefined ? {} : { state: requestState }) }, ...(approved ? { approved } : {}) });
}

/**
 * An upstream's validated `inputRequests` (of an input_required result, or of a task waiting for
 * input) as they may reach the caller: under a key that is not mcpgate's, for a capability the
 * caller declared (-32021 otherwise); an elicitation marked with its server and refused when it
 * imitates mcpgate's approval prompt, as for a 2025 upstream's (src/approval/upstreamElicitation.ts).
 */
export function checkedForCaller(requests: Record<string, InputRequest>, server: string, caller: Caller): Record<string, InputRequest> {
  for (const [key, request] of Object.entries(requests)) {
    if (RESERVED_KEY.test(key)) throw malformed(server, `input request key "${key.slice(0, 64)}" is reserved for mcpgate's own questions`);
    const capability = CAPABILITY_FOR[request.method];
    if (caller.capabilities[capability] === undefined) throw missingCapability(capability, `upstream "${server}"'s ${request.method} round`);
    if (request.method !== 'elicitation/create') continue;
    const marked = upstreamElicitation(server, request.params ?? {});
    if (!marked.ok) throw wireError(ErrorCodes.UPSTREAM_ELICITATION_REFUSED, `mcpgate refused the elicitation of upstream "${server}": ${marked.reason}`);
    requests[key] = { method: request.method, params: marked.params };
  }
  return requests;
}

/** The approval to carry into the next round's state (undefined: the call needed none, or it was not an allow). */
export function carriedApproval(answer: ApprovalAnswer | undefined): PriorApproval | undefined {
  if (!answer || answer.decision !== 'allow') return undefined;
  return { scope: answer.scope ?? 'once', by: answer.decidedBy, waitMs: answer.waitMs, via: answer.via };
}

/** The answer a later round of the call takes from its state instead of asking again. */
export function priorAnswer(prior: PriorApproval): ApprovalAnswer {
  return {
    decision: 'allow',
    decidedBy: prior.by as DecidedBy,
    scope: prior.scope,
    reason: 'approved in an earlier round of this call',
    waitMs: prior.waitMs,
    via: (prior.via ?? 'none') as AnsweredVia,
  };
}
