/**
 * Bridging a 2025 upstream's mid-call asks for a 2026-07-28 caller (docs/protocol.md §7.6), on
 * real processes: server-everything's tools elicit or sample during their call; mcpgate ends the
 * modern request with `input_required` (key `u:1`), keeps the upstream call open, and the retry
 * carrying the answer resumes it. A retry without the answer is asked again; a call whose retry
 * never comes is cancelled upstream after approval.timeout.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingServer, makeConfig, startHttpGateway, textOf, waitForAudit, type HttpGateway, type TempConfig } from '../support/gateway.js';
import { modernCall, type ModernReply } from '../support/modern.js';

function round(reply: ModernReply): { state: string; key: string; request: { method: string; params: Record<string, unknown> } } {
  const result = reply.response.result as Record<string, unknown> | undefined;
  expect(result, JSON.stringify(reply.response).slice(0, 2000)).toMatchObject({ resultType: 'input_required' });
  const [key, request] = Object.entries(result?.inputRequests as Record<string, { method: string; params: Record<string, unknown> }>)[0]!;
  return { state: result?.requestState as string, key, request };
}

describe("a 2025 upstream's mid-call asks, bridged to a modern caller", () => {
  let config: TempConfig;
  let gateway: HttpGateway;
  let second: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { timeout: '3s' } },
      servers: { everything: everythingServer({ tools: { default: 'allow' } }) },
    });
    // A second process sharing the state key (started after the first: it takes another audit chain).
    const env = { MCPGATE_REQUEST_STATE_KEY: `k1:${randomBytes(32).toString('base64url')}` };
    gateway = await startHttpGateway(config.dir, [], env);
    second = await startHttpGateway(config.dir, [], env);
  });

  afterAll(async () => {
    await Promise.all([gateway?.close(), second?.close()]);
    await config?.cleanup();
  });

  const elicit = (id: number, extra: Record<string, unknown> = {}) =>
    modernCall(gateway.url, id, 'tools/call', { name: 'everything__trigger-elicitation-request', arguments: {}, ...extra }, { elicitation: {} });

  it("an upstream's elicitation becomes this call's input_required round; the answer resumes the upstream call", async () => {
    const first = round(await elicit(1));
    expect(first.key).toBe('u:1');
    expect(first.request.method).toBe('elicitation/create');
    expect(String(first.request.params.message)).toContain('Please provide inputs');
    const done = await elicit(2, { requestState: first.state, inputResponses: { 'u:1': { action: 'accept', content: { name: 'Ada Lovelace', check: true } } } });
    expect(done.response.result?.resultType).toBe('complete');
    expect(JSON.stringify(done.response.result)).toContain('Name: Ada Lovelace');
    // one call, one decision and one result record
    const records = await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.tool.result' && r.public_name === 'everything__trigger-elicitation-request' && r.outcome === 'ok'));
    expect(records.filter((r) => r.event === 'mcpgate.tool.decision' && r.public_name === 'everything__trigger-elicitation-request')).toHaveLength(1);
  });

  it("an upstream's sampling request is bridged the same way", async () => {
    const call = (id: number, extra: Record<string, unknown> = {}) =>
      modernCall(gateway.url, id, 'tools/call', { name: 'everything__trigger-sampling-request', arguments: { prompt: 'say hi', maxTokens: 5 }, ...extra }, { sampling: {} });
    const first = round(await call(3));
    expect(first.request.method).toBe('sampling/createMessage');
    const answer = { role: 'assistant', content: { type: 'text', text: 'hi from the caller model' }, model: 'test-model', stopReason: 'endTurn' };
    const done = await call(4, { requestState: first.state, inputResponses: { [first.key]: answer } });
    expect(textOf(done.response.result)).toContain('hi from the caller model');
  });

  it('a retry without the answer is asked the same question again; a replayed bridge state is refused', async () => {
    const first = round(await elicit(5));
    const again = round(await elicit(6, { requestState: first.state, inputResponses: {} }));
    expect(again.key).toBe(first.key);
    expect(again.request).toEqual(first.request);
    const replay = await elicit(7, { requestState: first.state, inputResponses: { [first.key]: { action: 'decline' } } });
    expect(replay.response.error?.message).toContain('already used');
    const declined = await elicit(8, { requestState: again.state, inputResponses: { [again.key]: { action: 'decline' } } });
    expect(textOf(declined.response.result)).toContain('declined');
  });

  it('a retry landing on another gateway process is refused naming the process that holds the call', async () => {
    const first = round(await elicit(10));
    const elsewhere = await modernCall(second.url, 11, 'tools/call', { name: 'everything__trigger-elicitation-request', arguments: {}, requestState: first.state, inputResponses: { [first.key]: { action: 'decline' } } }, { elicitation: {} });
    expect(elsewhere.response.error).toMatchObject({ code: -32602, data: { code: 'MCPGATE_CALL_HELD_ELSEWHERE' } });
    expect(elsewhere.response.error?.message).toMatch(/held by another gateway process \(.+:\d+\): bridging a 2025 upstream needs sticky routing/);
    // the process holding it continues it (the refused retry consumed nothing there)
    const declined = await elicit(12, { requestState: first.state, inputResponses: { [first.key]: { action: 'decline' } } });
    expect(textOf(declined.response.result)).toContain('declined');
  });

  it("two requests of one caller key in flight on the upstream: its ask names neither, so it is refused, never bridged to a guess", async () => {
    const before = Date.now();
    // Same caller key (anonymous, same client name); this one declares no capability, so it is not bridged.
    const long = modernCall(gateway.url, 30, 'tools/call', { name: 'everything__trigger-long-running-operation', arguments: { duration: 4, steps: 2 } });
    await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.tool.decision' && r.public_name === 'everything__trigger-long-running-operation' && Date.parse(String(r.time)) >= before));
    const asked = await elicit(31);
    expect(asked.response.result?.resultType, JSON.stringify(asked.response).slice(0, 2000)).not.toBe('input_required');
    expect(JSON.stringify(asked.response)).toContain('cannot route elicitation/create');
    expect((await long).response.result?.resultType).toBe('complete');
  });

  it('a parked call whose retry never comes is cancelled upstream after approval.timeout', async () => {
    const before = Date.now();
    round(await elicit(9));
    const records = await waitForAudit(
      config.auditFile,
      (rs) => rs.some((r) => r.event === 'mcpgate.tool.result' && r.public_name === 'everything__trigger-elicitation-request' && r.outcome !== 'ok' && Date.parse(String(r.time)) >= before),
      15_000,
    );
    const ended = records.filter((r) => r.event === 'mcpgate.tool.result' && r.outcome !== 'ok').at(-1);
    expect(ended?.outcome).toBe('cancelled');
  });
});
