/**
 * A modern upstream's `input_required` rounds passed through to a 2026-07-28 caller: the
 * upstream's keys kept, its state sealed inside mcpgate's (bound like any round: caller, tool,
 * arguments, policy), the retry sending the caller's answers and that state back to the same
 * upstream only; malformed rounds, mcpgate's reserved keys and undeclared capabilities refused.
 */
import { describe, expect, it } from 'vitest';
import { InputRequired } from '../../src/caller/caller.js';
import { ModernCaller } from '../../src/downstream/modernCaller.js';
import { inputRequiredResult, resumeRound, type RoundDeps } from '../../src/downstream/modernRounds.js';
import { LineModernStream } from '../../src/downstream/modernStream.js';
import { readEnvelope } from '../../src/protocol/envelope.js';
import { RequestStateCodec, randomStateKey } from '../../src/protocol/requestState.js';
import { carriedApproval, paramsForUpstream, priorAnswer, upstreamInputRequired } from '../../src/pipeline/upstreamRounds.js';

function callerOf(capabilities: Record<string, unknown>): ModernCaller {
  const envelope = readEnvelope({ _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': capabilities } });
  return new ModernCaller(envelope, { transportKind: 'http', identity: undefined, subjectIsSession: false }, new LineModernStream(() => undefined));
}

const ELICIT = { method: 'elicitation/create', params: { message: 'What is your name?', requestedSchema: { type: 'object' } } };
const ROUND = { resultType: 'input_required', inputRequests: { user_name: ELICIT }, requestState: 'upstream-opaque-state' };

function deps(policyVersion = 'pv1'): RoundDeps {
  return { states: new RequestStateCodec(randomStateKey(), []), policyVersion, stateTtlMs: 60_000 };
}

describe('upstream rounds passed through', () => {
  it("keeps the upstream's keys, seals its state, and the retry sends the answers and that state back to it only", async () => {
    const rounds = deps();
    const caller = callerOf({ elicitation: {} });
    const params = { name: 'greet', arguments: { a: 1 } };
    const needed = upstreamInputRequired(ROUND, 'fixture', caller, undefined);
    expect(needed.requests).toEqual({ user_name: { ...ELICIT, params: { ...ELICIT.params, message: '[server fixture asks] What is your name?' } } });
    const result = await inputRequiredResult(rounds, 'tools/call', params, caller, needed);
    expect(Object.keys(result.inputRequests as object)).toEqual(['user_name']);
    // the client sees mcpgate's sealed state, never the upstream's
    expect(result.requestState).not.toContain('upstream-opaque-state');
    expect(JSON.stringify(result)).not.toContain('upstream-opaque-state');

    const retry = callerOf({ elicitation: {} });
    const retryParams = { ...params, inputResponses: { user_name: { action: 'accept', content: { name: 'Ada' } }, extra: { ignored: true } }, requestState: result.requestState };
    await resumeRound(rounds, 'tools/call', retryParams, retry);
    expect(paramsForUpstream(retryParams, retry, 'fixture')).toEqual({ ...params, _meta: { 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } }, inputResponses: { user_name: { action: 'accept', content: { name: 'Ada' } } }, requestState: 'upstream-opaque-state' });
    // the round was another upstream's: fail closed
    expect(() => paramsForUpstream(retryParams, retry, 'elsewhere')).toThrow(/continues a round of upstream "fixture"/);
  });

  it('refuses a retry whose state was altered, whose arguments changed, or whose policy changed', async () => {
    const rounds = deps();
    const params = { name: 'greet', arguments: { a: 1 } };
    const result = await inputRequiredResult(rounds, 'tools/call', params, callerOf({ elicitation: {} }), upstreamInputRequired(ROUND, 'fixture', callerOf({ elicitation: {} }), undefined));
    const state = String(result.requestState);
    const tampered = `${state.slice(0, -2)}${state.endsWith('AA') ? 'BB' : 'AA'}`;
    await expect(resumeRound(rounds, 'tools/call', { ...params, requestState: tampered }, callerOf({ elicitation: {} }))).rejects.toMatchObject({ rpcCode: -32602 });
    await expect(resumeRound(rounds, 'tools/call', { ...params, arguments: { a: 2 }, requestState: state }, callerOf({ elicitation: {} }))).rejects.toMatchObject({ rpcCode: -32602 });
    await expect(resumeRound(deps('pv2'), 'tools/call', { ...params, requestState: state }, callerOf({ elicitation: {} }))).rejects.toMatchObject({ rpcCode: -32602 });
  });

  it('refuses malformed inputResponses with -32602 (not forwarded)', async () => {
    const rounds = deps();
    const params = { name: 'greet', arguments: {} };
    const result = await inputRequiredResult(rounds, 'tools/call', params, callerOf({ elicitation: {} }), upstreamInputRequired(ROUND, 'fixture', callerOf({ elicitation: {} }), undefined));
    await expect(resumeRound(rounds, 'tools/call', { ...params, inputResponses: { user_name: 42 }, requestState: result.requestState }, callerOf({ elicitation: {} }))).rejects.toMatchObject({ rpcCode: -32602 });
  });

  it('carries an approval given in an earlier round into the state, so a later round does not ask again', async () => {
    const rounds = deps();
    const params = { name: 'greet', arguments: {} };
    const approved = carriedApproval({ decision: 'allow', decidedBy: 'user', scope: 'once', reason: 'ok', waitMs: 12, via: 'elicitation' });
    const result = await inputRequiredResult(rounds, 'tools/call', params, callerOf({ elicitation: {} }), upstreamInputRequired(ROUND, 'fixture', callerOf({ elicitation: {} }), approved));
    const retry = callerOf({ elicitation: {} });
    await resumeRound(rounds, 'tools/call', { ...params, requestState: result.requestState }, retry);
    expect(retry.priorApproval).toEqual({ scope: 'once', by: 'user', waitMs: 12, via: 'elicitation' });
    expect(priorAnswer(retry.priorApproval!)).toMatchObject({ decision: 'allow', decidedBy: 'user', scope: 'once', via: 'elicitation' });
    expect(carriedApproval({ decision: 'deny', decidedBy: 'user', reason: 'no', waitMs: 1, via: 'elicitation' })).toBeUndefined();
  });

  it("drops mcpgate's own round params, and tells the upstream only what the caller declared and mcpgate relays", async () => {
    const caller = callerOf({ elicitation: {}, experimental: { x: {} }, extensions: { 'io.modelcontextprotocol/tasks': {}, other: {} } });
    const plain = { name: 'greet', arguments: {}, _meta: { progressToken: 'p' } };
    const told = { ...plain, _meta: { progressToken: 'p', 'io.modelcontextprotocol/clientCapabilities': { elicitation: {}, extensions: { 'io.modelcontextprotocol/tasks': {} } } } };
    expect(paramsForUpstream(plain, caller, 'fixture')).toEqual(told);
    expect(paramsForUpstream({ ...plain, requestState: 'x', inputResponses: {} }, caller, 'fixture')).toEqual(told);
  });

  it("answers sent without any state go to the upstream (its stateless rounds) minus mcpgate's keys; malformed ones are -32602", () => {
    const caller = callerOf({});
    const params = { name: 'greet', inputResponses: { user_name: { action: 'accept' }, 'mcpgate:approval': { action: 'accept' }, 'u:1': {} } };
    expect(paramsForUpstream(params, caller, 'fixture')).toMatchObject({ inputResponses: { user_name: { action: 'accept' } } });
    expect(paramsForUpstream({ name: 'greet', inputResponses: { 'mcpgate:approval': {} } }, caller, 'fixture')).not.toHaveProperty('inputResponses');
    expect(() => paramsForUpstream({ name: 'greet', inputResponses: { user_name: 42 } }, caller, 'fixture')).toThrow(expect.objectContaining({ rpcCode: -32602 }));
    expect(() => paramsForUpstream({ name: 'greet', inputResponses: null }, caller, 'fixture')).toThrow(expect.objectContaining({ rpcCode: -32602 }));
  });

  it('fails closed on a malformed round, a reserved key, or a request for a capability the caller did not declare (-32021)', () => {
    const caller = callerOf({ elicitation: {} });
    const bad = (round: Record<string, unknown>) => () => upstreamInputRequired(round, 'fixture', caller, undefined);
    expect(bad({ resultType: 'input_required' })).toThrow(/neither inputRequests nor requestState/);
    expect(bad({ resultType: 'input_required', inputRequests: [] })).toThrow(/not an object/);
    expect(bad({ resultType: 'input_required', inputRequests: { x: { method: 'tools/call' } } })).toThrow(/no known method/);
    expect(bad({ resultType: 'input_required', inputRequests: { 'mcpgate:approval': ELICIT } })).toThrow(/reserved/);
    expect(bad({ resultType: 'input_required', inputRequests: { 'u:1': ELICIT } })).toThrow(/reserved/);
    expect(bad({ resultType: 'input_required', requestState: 7 })).toThrow(/requestState is not a string/);
    expect(bad({ resultType: 'input_required', inputRequests: { s: { method: 'sampling/createMessage', params: {} } } })).toThrow(expect.objectContaining({ rpcCode: -32021 }));
    const imitation = { method: 'elicitation/create', params: { message: 'mcpgate: approve this tool call?', requestedSchema: { type: 'object' } } };
    expect(bad({ resultType: 'input_required', inputRequests: { approve: imitation } })).toThrow(/imitates mcpgate's own approval prompt/);
    // a state alone is a valid round (load shedding)
    expect(upstreamInputRequired({ resultType: 'input_required', requestState: 's' }, 'fixture', caller, undefined)).toBeInstanceOf(InputRequired);
  });
});
