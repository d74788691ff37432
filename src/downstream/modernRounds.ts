/**
 * The rounds of a multi-round-trip request for a modern caller (basic/patterns/mrtr): a retry's
 * `requestState` is opened and checked against this request before anything runs (sealed, bound
 * to method, target, arguments digest, policy version and caller key, unexpired, single-use:
 * protocol/requestState.ts), and a stage's {@link InputRequired} becomes the `input_required`
 * result with a fresh sealed state. Nothing is kept between rounds in this process: any gateway
 * sharing the state key can continue the call.
 */
import { randomBytes } from 'node:crypto';
import type { InputRequest, InputRequired } from '../caller/caller.js';
import { jsonDigest } from '../canonicalJson.js';
import { MemoryReplayGuard, RequestStateCodec, stateKeysFrom, stateRejected, type RequestState, type StateBinding } from '../protocol/requestState.js';
import { RedisReplayGuard, type ReplayStoreProblem } from '../protocol/redisReplayGuard.js';
import { INPUT_METHODS } from '../protocol/revisions.js';
import { inputResponsesOf } from '../protocol/envelope.js';
import { TaskIdCodec } from '../protocol/taskId.js';
import type { ModernCaller } from './modernCaller.js';

/** What the rounds need from the gateway. */
export interface RoundDeps {
  readonly states: RequestStateCodec;
  /** The policy version in force (`Policy.version` with the pins): a state issued under another policy is void. */
  readonly policyVersion: string;
  /** How long an answer may take (approval.timeout): the state's lifetime. */
  readonly stateTtlMs: number;
}

/**
 * The rounds of a gateway: states sealed with `MCPGATE_REQUEST_STATE_KEY` (or a key of this
 * process), single use across every replica sharing `MCPGATE_REQUEST_STATE_REDIS` (else within
 * this process), valid for `approval.timeout`, under the policy version the catalog has in force now
 * (src/policy/policy.ts: the layers' digest, with the pins; a state issued under other rules is
 * void). Both are read per round: a reload changes them for the next one.
 */
export function roundDeps(policy: { readonly policyVersion: string }, timeoutMs: () => number, env: NodeJS.ProcessEnv, problem: ReplayStoreProblem): RoundDeps {
  const keys = stateKeysFrom(env.MCPGATE_REQUEST_STATE_KEY);
  const redis = env.MCPGATE_REQUEST_STATE_REDIS?.trim();
  return {
    states: new RequestStateCodec(keys.current, keys.previous, redis ? new RedisReplayGuard(redis, problem) : new MemoryReplayGuard()),
    get policyVersion() {
      return policy.policyVersion;
    },
    get stateTtlMs() {
      return timeoutMs();
    },
  };
}

/** The task ids of the tasks extension, sealed with the same keys as the request states (src/protocol/taskId.ts). */
export function taskIdCodec(stateKey: string | undefined): TaskIdCodec {
  const keys = stateKeysFrom(stateKey);
  return new TaskIdCodec(keys.current, keys.previous);
}

/** The binding of a request: what its state must have been issued for. */
export function bindingOf(method: string, params: Record<string, unknown>, caller: ModernCaller, policyVersion: string): StateBinding {
  const target = method === 'resources/read' ? params.uri : params.name;
  const args = method === 'resources/read' ? {} : (params.arguments ?? {});
  return { m: method, t: typeof target === 'string' ? target : '', ad: jsonDigest(args), pv: policyVersion, sub: caller.identity.key };
}

/**
 * A retry (params.requestState present): opens and consumes its state, then lets the caller answer
 * from `inputResponses`. Throws a -32602 naming why a state is refused (forged, altered, expired,
 * replayed, another caller's, other arguments, an older policy).
 */
export async function resumeRound(deps: RoundDeps, method: string, params: Record<string, unknown>, caller: ModernCaller): Promise<RequestState | undefined> {
  if (params.requestState === undefined || !INPUT_METHODS.has(method)) return undefined;
  const opened = await deps.states.open(params.requestState, bindingOf(method, params, caller, deps.policyVersion));
  if (!opened.ok) throw stateRejected(opened.reason);
  caller.resumed = { state: opened.state, responses: inputResponsesOf(params.inputResponses) };
  return opened.state;
}


/** The `input_required` result asking what `needed` names, with the state the retry must bring back. */
export async function inputRequiredResult(deps: RoundDeps, method: string, params: Record<string, unknown>, caller: ModernCaller, needed: InputRequired): Promise<Record<string, unknown>> {
  const previous = caller.resumed?.state;
  const binding = bindingOf(method, params, caller, deps.policyVersion);
  const asked: Record<string, string> = {};
  const inputRequests: Record<string, InputRequest & { params: Record<string, unknown> }> = {};
  for (const [key, request] of Object.entries(needed.requests)) {
    inputRequests[key] = { method: request.method, params: request.params ?? {} };
    asked[key] = jsonDigest(inputRequests[key]);
  }
  const requestState = await deps.states.seal(
    {
      ...binding,
      call: previous?.call ?? randomBytes(9).toString('base64url'),
      // an upstream's round passed through, or the gateway's own question (an approval: the
      // auto-reviewer never samples a stateless caller)
      kind: needed.carried.upstream ? 'upstream' : 'approval',
      asked,
      round: Math.min(64, (previous?.round ?? 0) + 1),
      ...(needed.carried.approved ? { approved: needed.carried.approved } : {}),
      ...(needed.carried.upstream ? { up: needed.carried.upstream } : {}),
    },
    deps.stateTtlMs,
  );
  return { resultType: 'input_required', inputRequests, requestState };
}
