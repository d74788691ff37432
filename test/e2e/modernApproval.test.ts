/**
 * Approvals for 2026-07-28 callers through `input_required` (basic/patterns/mrtr): the ask comes
 * back as an elicitation under `mcpgate:approval` with a sealed `requestState`; the retry carrying
 * the answer runs (or denies) the call. A forged, expired, replayed or re-targeted state is refused
 * and runs nothing; a second gateway process sharing the state key continues the call, and a
 * shared replay store (a real redis-server) refuses the state replayed on the first.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestStateCodec } from '../../src/protocol/requestState.js';
import { decisionWithMessage, fixtureServer, makeConfig, pendingApproval, readAudit, runMcpgate, startHttpGateway, textOf, type HttpGateway, type TempConfig } from '../support/gateway.js';
import { modernCall, type ModernReply } from '../support/modern.js';
import { startRedis, type RedisServer } from '../support/redis.js';

const KEY = randomBytes(32);
const STATE_KEY = `k1:${KEY.toString('base64url')}`;
const ELICITATION = { elicitation: { form: {} } };

function inputRequired(reply: ModernReply): { state: string; request: { method: string; params: Record<string, unknown> } } {
  const result = reply.response.result as Record<string, unknown> | undefined;
  expect(result, JSON.stringify(reply.response)).toMatchObject({ resultType: 'input_required' });
  const requests = result?.inputRequests as Record<string, { method: string; params: Record<string, unknown> }>;
  return { state: result?.requestState as string, request: requests['mcpgate:approval'] as { method: string; params: Record<string, unknown> } };
}

function choices(request: { params: Record<string, unknown> }): string[] {
  const schema = request.params.requestedSchema as { properties: { decision: { oneOf: Array<{ const: string }> } } };
  return schema.properties.decision.oneOf.map((c) => c.const);
}

describe('approvals for modern callers over input_required', () => {
  let config: TempConfig;
  let gateway: HttpGateway;
  let second: HttpGateway;
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedis(); // the replay store both processes share
    config = await makeConfig({
      gateway: { approval: { channel: 'elicitation' } },
      servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'], allow: ['add'] } }) },
    });
    // One after the other: the first takes the audit log's first chain (config.auditFile), the
    // second another one (docs/audit.md "Several gateways, one log"); same config, same policy version.
    const shared = { MCPGATE_REQUEST_STATE_KEY: STATE_KEY, MCPGATE_REQUEST_STATE_REDIS: redis.url };
    gateway = await startHttpGateway(config.dir, [], shared);
    second = await startHttpGateway(config.dir, [], shared);
  });

  afterAll(async () => {
    await Promise.all([gateway?.close(), second?.close()]);
    await redis?.close();
    await config?.cleanup();
  });

  const call = (target: HttpGateway, id: number, message: string, extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) =>
    modernCall(target.url, id, 'tools/call', { name: 'echo__echo', arguments: { message }, ...extra }, ELICITATION, meta);

  it('approved: the ask is an elicitation round; the retry with the answer runs the call once', async () => {
    const first = await call(gateway, 1, 'approve me');
    expect(first.status).toBe(200);
    const { state, request } = inputRequired(first);
    expect(request.method).toBe('elicitation/create');
    expect(String(request.params.message)).toContain('echo__echo');
    // anonymous HTTP caller without dev.mcpgate/session: no "for this session" (its key names no one client)
    expect(choices(request)).not.toContain('session');
    const retry = await call(gateway, 2, 'approve me', { requestState: state, inputResponses: { 'mcpgate:approval': { action: 'accept', content: { decision: 'once' } } } });
    expect(retry.response.result).toMatchObject({ resultType: 'complete' });
    expect(textOf(retry.response.result)).toContain('approve me');
    expect(await decisionWithMessage(config.auditFile, 'approve me')).toMatchObject({ decision: 'allow', decided_by: 'user', scope: 'once', approval_channel: 'elicitation' });
  });

  it('denied: the answer "deny" refuses the call, audited', async () => {
    const { state } = inputRequired(await call(gateway, 3, 'deny me'));
    const retry = await call(gateway, 4, 'deny me', { requestState: state, inputResponses: { 'mcpgate:approval': { action: 'accept', content: { decision: 'deny' } } } });
    const result = retry.response.result as Record<string, unknown>;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('denied');
    expect(await decisionWithMessage(config.auditFile, 'deny me')).toMatchObject({ decision: 'deny', decided_by: 'user' });
  });

  it('a missing answer is asked again (a new input_required), not an error', async () => {
    const { state } = inputRequired(await call(gateway, 5, 'ask again'));
    const retry = await call(gateway, 6, 'ask again', { requestState: state, inputResponses: { unrelated: { action: 'accept' } } });
    expect(inputRequired(retry).state).not.toBe(state);
  });

  it('forged, replayed, re-targeted and expired states are refused with -32602 and run nothing', async () => {
    const answer = { 'mcpgate:approval': { action: 'accept', content: { decision: 'once' } } };
    const { state } = inputRequired(await call(gateway, 7, 'guarded'));
    const parts = state.split('.');
    parts[3] = `${parts[3]!.slice(0, -2)}${parts[3]!.endsWith('AA') ? 'BB' : 'AA'}`; // the ciphertext, altered
    const forged = await call(gateway, 8, 'guarded', { requestState: parts.join('.'), inputResponses: answer });
    expect(forged.response.error).toMatchObject({ code: -32602, data: { code: 'MCPGATE_REQUEST_STATE_INVALID' } });
    expect(forged.response.error?.message).toContain('not a state this gateway issued');

    const other = await call(gateway, 9, 'other arguments', { requestState: state, inputResponses: answer });
    expect(other.response.error?.message).toContain('issued for other arguments');

    const fresh = inputRequired(await call(gateway, 10, 'once only')).state;
    const used = await call(gateway, 11, 'once only', { requestState: fresh, inputResponses: answer });
    expect(textOf(used.response.result)).toContain('once only');
    const replay = await call(gateway, 12, 'once only', { requestState: fresh, inputResponses: answer });
    expect(replay.response.error?.message).toContain('already used');

    // sealed with the real key an hour ago (what a client holding an old state has)
    const past = new RequestStateCodec({ kid: 'k1', key: new Uint8Array(KEY) }, [], undefined, () => Date.now() - 3_600_000);
    const old = await past.seal({ call: 'c1', kind: 'approval', m: 'tools/call', t: 'echo__echo', ad: 'x', pv: 'x', sub: 'x', asked: { 'mcpgate:approval': 'x' }, round: 1 }, 60_000);
    const expired = await call(gateway, 13, 'guarded', { requestState: old, inputResponses: answer });
    expect(expired.response.error?.message).toContain('expired');

    const ran = (await readAudit(config.auditFile)).filter((r) => r.event === 'mcpgate.tool.decision' && r.decision === 'allow' && JSON.stringify(r.arguments).match(/guarded|other arguments/));
    expect(ran).toEqual([]);
  });

  it('the retry may land on another gateway process sharing the state key', async () => {
    const { state } = inputRequired(await call(gateway, 14, 'cross replica'));
    const answer = { 'mcpgate:approval': { action: 'accept', content: { decision: 'once' } } };
    const retry = await call(second, 15, 'cross replica', { requestState: state, inputResponses: answer });
    expect(textOf(retry.response.result)).toContain('cross replica');
    // replayed on the first process: the shared replay store (MCPGATE_REQUEST_STATE_REDIS) knows it was used
    const replay = await call(gateway, 16, 'cross replica', { requestState: state, inputResponses: answer });
    expect(replay.response.error?.message).toContain('already used');
  });

  it('a state binds the policy version (the rules), not the whole configuration: another page size continues it, another rule voids it', async () => {
    const answer = { 'mcpgate:approval': { action: 'accept', content: { decision: 'once' } } };
    const echo = (tools: Record<string, unknown>) => ({ echo: fixtureServer('echo', { tools }) });
    const samePolicy = await makeConfig({ gateway: { approval: { channel: 'elicitation' }, catalog: { pageSize: 7 } }, servers: echo({ ask: ['echo'], allow: ['add'] }) });
    const otherPolicy = await makeConfig({ gateway: { approval: { channel: 'elicitation' } }, servers: echo({ ask: ['echo'], deny: ['add'] }) });
    const [same, other] = await Promise.all([samePolicy, otherPolicy].map((dir) => startHttpGateway(dir.dir, [], { MCPGATE_REQUEST_STATE_KEY: STATE_KEY })));
    try {
      const { state } = inputRequired(await call(gateway, 20, 'policy bound'));
      const refused = await call(other!, 21, 'policy bound', { requestState: state, inputResponses: answer });
      expect(refused.response.error?.message).toContain('policy changed');
      const { state: next } = inputRequired(await call(gateway, 22, 'policy bound'));
      const ran = await call(same!, 23, 'policy bound', { requestState: next, inputResponses: answer });
      expect(textOf(ran.response.result)).toContain('policy bound');
    } finally {
      await Promise.all([same?.close(), other?.close()]);
      await Promise.all([samePolicy.cleanup(), otherPolicy.cleanup()]);
    }
  });

  it('with dev.mcpgate/session the key is specific: "for this session" is offered and remembered for that key only', async () => {
    const meta = { 'dev.mcpgate/session': 'session-aaaaaaaaaaaaaaaa' };
    const first = inputRequired(await call(gateway, 16, 'session scoped', {}, meta));
    expect(choices(first.request)).toContain('session');
    const retry = await call(gateway, 17, 'session scoped', { requestState: first.state, inputResponses: { 'mcpgate:approval': { action: 'accept', content: { decision: 'session' } } } }, meta);
    expect(textOf(retry.response.result)).toContain('session scoped');
    const again = await call(gateway, 18, 'next call', {}, meta);
    expect(textOf(again.response.result)).toContain('next call'); // no new round
    const otherSession = await call(gateway, 19, 'next call', {}, { 'dev.mcpgate/session': 'session-bbbbbbbbbbbbbbbb' });
    inputRequired(otherSession); // another key is asked
  });
});

describe('the approval queue for a modern caller without elicitation', () => {
  let config: TempConfig;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { channel: 'auto', timeout: '20s' } },
      servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'] } }) },
    });
    gateway = await startHttpGateway(config.dir);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('holds the request open until `mcpgate approve` answers from another process', async () => {
    const reply = modernCall(gateway.url, 1, 'tools/call', { name: 'echo__echo', arguments: { message: 'queued modern' } });
    const item = await pendingApproval(config.dir, 'queued modern');
    expect(item.session).toMatch(/^k_[a-z2-7]{16}$/);
    expect((await runMcpgate(['approve', item.id, '--config', config.dir])).code).toBe(0);
    const done = await reply;
    expect(done.response.result?.resultType).toBe('complete');
    expect(textOf(done.response.result)).toContain('queued modern');
    expect(await decisionWithMessage(config.auditFile, 'queued modern')).toMatchObject({ decision: 'allow', decided_by: 'user', approval_channel: 'queue', protocol_version: '2026-07-28' });
  });

  it('`approve --session` for a caller key naming no one client counts once: the next call of that key is queued again', async () => {
    const first = modernCall(gateway.url, 2, 'tools/call', { name: 'echo__echo', arguments: { message: 'anonymous session' } });
    const item = await pendingApproval(config.dir, 'anonymous session');
    expect((await runMcpgate(['approve', item.id, '--session', '--config', config.dir])).code).toBe(0);
    expect(textOf((await first).response.result)).toContain('anonymous session');
    expect(await decisionWithMessage(config.auditFile, 'anonymous session')).toMatchObject({ decision: 'allow', scope: 'once' });
    const next = modernCall(gateway.url, 3, 'tools/call', { name: 'echo__echo', arguments: { message: 'anonymous again' } });
    const again = await pendingApproval(config.dir, 'anonymous again'); // asked again: nothing was remembered for the key
    expect((await runMcpgate(['deny', again.id, '--config', config.dir])).code).toBe(0);
    expect((await next).response.result?.isError).toBe(true);
  });
});
