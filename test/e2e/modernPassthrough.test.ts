/**
 * A 2026-07-28 caller through mcpgate to a 2026-07-28 upstream (test/fixtures/servers/conformance2026.ts):
 * the upstream's `input_required` rounds pass through with its own keys and its state sealed
 * inside mcpgate's (unreadable, unalterable, good on another replica sharing the key), composed
 * with mcpgate's own approval round; the tasks extension passes through with task ids bound to
 * the caller. Real processes: two gateways over HTTP sharing the state key, the fixture over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixture2026, type Fixture2026 } from '../support/conformance.js';
import { makeConfig, startHttpGateway, textOf, waitFor, waitForAudit, type AuditRecord, type HttpGateway, type TempConfig } from '../support/gateway.js';
import { modernCall, type ModernReply } from '../support/modern.js';

const STATE_KEY = `k1:${randomBytes(32).toString('base64url')}`;
const TASKS = { 'io.modelcontextprotocol/tasks': {} };
const ELICIT = { elicitation: { form: {} } };
const accept = (content: Record<string, unknown>) => ({ action: 'accept', content });

function round(reply: ModernReply): { state: string; requests: Record<string, { method: string; params: Record<string, unknown> }> } {
  const result = reply.response.result as Record<string, unknown> | undefined;
  expect(result, JSON.stringify(reply.response)).toMatchObject({ resultType: 'input_required' });
  return { state: result?.requestState as string, requests: result?.inputRequests as Record<string, { method: string; params: Record<string, unknown> }> };
}

describe('2026 caller → mcpgate → 2026 upstream', () => {
  let config: TempConfig;
  let gateway: HttpGateway;
  let second: HttpGateway;
  let fixture: Fixture2026;

  beforeAll(async () => {
    // One upstream over HTTP behind both gateways (replicas): a task or a round started through one continues through the other.
    fixture = await startFixture2026();
    config = await makeConfig({
      gateway: { approval: { channel: 'elicitation' } },
      servers: { jobs: { url: fixture.url.href, tools: { ask: ['test_input_required_result_multi_round'], default: 'allow' } } },
    });
    gateway = await startHttpGateway(config.dir, [], { MCPGATE_REQUEST_STATE_KEY: STATE_KEY });
    second = await startHttpGateway(config.dir, [], { MCPGATE_REQUEST_STATE_KEY: STATE_KEY });
  });

  afterAll(async () => {
    await Promise.all([gateway?.close(), second?.close()]);
    await Promise.all([config?.cleanup(), fixture?.close()]);
  });

  const tool = (target: HttpGateway, id: number, name: string, extra: Record<string, unknown> = {}, capabilities: Record<string, unknown> = ELICIT, meta: Record<string, unknown> = {}) =>
    modernCall(target.url, id, 'tools/call', { name: `jobs__${name}`, arguments: {}, ...extra }, capabilities, meta);

  it("an upstream round reaches the caller under the upstream's own key; the answer goes back to it", async () => {
    const first = round(await tool(gateway, 1, 'test_input_required_result_elicitation'));
    expect(Object.keys(first.requests)).toEqual(['user_name']);
    expect(first.requests.user_name?.method).toBe('elicitation/create');
    // marked with its server, as a 2025 upstream's elicitation is (it cannot pass for mcpgate's prompt)
    expect(first.requests.user_name?.params.message).toBe('[server jobs asks] What is your name?');
    const done = await tool(gateway, 2, 'test_input_required_result_elicitation', { requestState: first.state, inputResponses: { user_name: accept({ name: 'Ada' }) } });
    expect(textOf(done.response.result)).toBe('Hello, Ada!');
  });

  it("the upstream's requestState travels sealed: unreadable, refused when altered, good on another replica", async () => {
    const first = round(await tool(gateway, 3, 'test_input_required_result_request_state'));
    expect(first.state).not.toContain('request-state');
    expect(Buffer.from(first.state.split('.')[3] ?? '', 'base64url').toString('latin1')).not.toContain('request-state');
    const answer = { confirm: accept({ ok: true }) };
    const parts = first.state.split('.');
    parts[3] = `${parts[3]!.slice(0, -2)}${parts[3]!.endsWith('AA') ? 'BB' : 'AA'}`;
    const altered = await tool(gateway, 4, 'test_input_required_result_request_state', { requestState: parts.join('.'), inputResponses: answer });
    expect(altered.response.error).toMatchObject({ code: -32602, data: { code: 'MCPGATE_REQUEST_STATE_INVALID' } });
    const elsewhere = await tool(second, 5, 'test_input_required_result_request_state', { requestState: first.state, inputResponses: answer });
    expect(textOf(elsewhere.response.result)).toBe('state-ok: requestState validated');
  });

  it("composes with mcpgate's approval: the ask first, then the upstream's rounds, never asked again", async () => {
    const name = 'test_input_required_result_multi_round';
    const ask = round(await tool(gateway, 10, name));
    expect(Object.keys(ask.requests)).toEqual(['mcpgate:approval']);
    const step1 = round(await tool(gateway, 11, name, { requestState: ask.state, inputResponses: { 'mcpgate:approval': accept({ decision: 'once' }) } }));
    expect(Object.keys(step1.requests)).toEqual(['step1']);
    const step2 = round(await tool(gateway, 12, name, { requestState: step1.state, inputResponses: { step1: accept({ name: 'Ada' }) } }));
    expect(Object.keys(step2.requests)).toEqual(['step2']);
    const done = await tool(gateway, 13, name, { requestState: step2.state, inputResponses: { step2: accept({ color: 'blue' }) } });
    expect(textOf(done.response.result)).toBe('Multi-round complete for Ada who likes blue');
    // one decision and one result record per round that reached the upstream (three), the ask round none
    const records = (await waitForAudit(config.auditFile, (all) => all.filter((r) => r.tool === name && r.event === 'mcpgate.tool.result').length >= 3)).filter((r) => r.tool === name);
    const decisions = records.filter((r) => r.event === 'mcpgate.tool.decision');
    expect(decisions[0]).toMatchObject({ decision: 'allow', decided_by: 'user', scope: 'once', approval_channel: 'elicitation' });
    expect(decisions.slice(1).every((r) => r.decision === 'allow' && String(r.reason).includes('earlier round'))).toBe(true);
    expect(records.filter((r) => r.event === 'mcpgate.tool.result').map((r) => r.outcome).sort()).toEqual(['input_required', 'input_required', 'ok']);
  });

  it('the upstream is told what the caller declared, and prompts/get rounds pass through too', async () => {
    const caps = round(await tool(gateway, 20, 'test_input_required_result_capabilities'));
    expect(Object.keys(caps.requests)).toEqual(['elicit_input']); // no sampling declared: not asked
    const prompt = round(await modernCall(gateway.url, 21, 'prompts/get', { name: 'jobs__test_input_required_result_prompt' }, ELICIT));
    const answered = await modernCall(gateway.url, 22, 'prompts/get', { name: 'jobs__test_input_required_result_prompt', requestState: prompt.state, inputResponses: { user_context: accept({ context: 'tests' }) } }, ELICIT);
    expect(JSON.stringify(answered.response.result)).toContain('Prompt with context: tests');
  });

  it('tasks: advertised, ids sealed and bound to the caller, routed to the owning upstream, audited', async () => {
    const discover = await modernCall(gateway.url, 30, 'server/discover', {}, {});
    expect((discover.response.result?.capabilities as Record<string, unknown>).extensions).toEqual(TASKS);
    const created = await tool(gateway, 31, 'slow_compute', { arguments: { seconds: 60, label: 'sealed' } }, { extensions: TASKS });
    expect(created.response.result, JSON.stringify(created.response)).toMatchObject({ resultType: "task", status: "working" });
    const taskId = created.response.result?.taskId as string;
    expect(taskId.split('.')).toHaveLength(5); // a JWE, not the upstream's id
    const get = (target: HttpGateway, id: number, capabilities: Record<string, unknown>, meta: Record<string, unknown> = {}) => modernCall(target.url, id, 'tasks/get', { taskId }, capabilities, meta);
    expect((await get(second, 32, { extensions: TASKS })).response.result).toMatchObject({ taskId, status: 'working' });
    const stranger = await get(gateway, 33, { extensions: TASKS }, { 'io.modelcontextprotocol/clientInfo': { name: 'someone-else', version: '1' } });
    expect(stranger.response.error).toMatchObject({ code: -32602 });
    const undeclared = await get(gateway, 34, {});
    expect(undeclared.status).toBe(400);
    expect(undeclared.response.error).toMatchObject({ code: -32021, data: { requiredCapabilities: { extensions: TASKS } } });
    expect((await modernCall(gateway.url, 35, 'tasks/cancel', { taskId }, { extensions: TASKS })).response.result).toEqual(expect.objectContaining({ resultType: 'complete' }));
    expect((await get(gateway, 36, { extensions: TASKS })).response.result).toMatchObject({ status: 'cancelled' });
    // this gateway's records (the second writes its own chain): the stranger's get, the cancel, the last get
    const records = await waitForAudit(config.auditFile, (all) => all.filter((r) => r.event === 'mcpgate.request' && String(r.method).startsWith('tasks/')).length >= 3);
    expect(records.find((r) => r.event === 'mcpgate.tool.result' && r.tool === 'slow_compute')).toMatchObject({ outcome: 'task' });
    const taskRecords = records.filter((r: AuditRecord) => r.event === 'mcpgate.request' && String(r.method).startsWith('tasks/'));
    expect(taskRecords.map((r) => [r.method, r.decision, r.server])).toEqual(
      expect.arrayContaining([
        ['tasks/get', 'allow', 'jobs'],
        ['tasks/get', 'deny', ''],
        ['tasks/cancel', 'allow', 'jobs'],
      ]),
    );
  });

  it('tasks: a task waiting for input surfaces its requests; tasks/update resumes it', async () => {
    const created = await tool(gateway, 40, 'confirm_delete', { arguments: { filename: 'a.txt' } }, { extensions: TASKS, ...ELICIT });
    const taskId = created.response.result?.taskId as string;
    let detailed: Record<string, unknown> = {};
    await waitFor(async () => {
      detailed = (await modernCall(gateway.url, 41, 'tasks/get', { taskId }, { extensions: TASKS, ...ELICIT })).response.result ?? {};
      return detailed.status === 'input_required';
    });
    expect(Object.keys(detailed.inputRequests as object)).toEqual(['confirm']);
    expect(detailed.taskId).toBe(taskId);
    await modernCall(gateway.url, 42, 'tasks/update', { taskId, inputResponses: { confirm: accept({ confirm: true }) } }, { extensions: TASKS, ...ELICIT });
    await waitFor(async () => (await modernCall(gateway.url, 43, 'tasks/get', { taskId }, { extensions: TASKS })).response.result?.status === 'completed');
  });
});
