/**
 * `ask` through MCP elicitation, on a real gateway process with real SDK clients over Streamable
 * HTTP: allow once, allow for the session (and no leak into another session), deny, always allow
 * (written to the approved-rules file and revocable), and a client that never answers (timeout).
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema, type ElicitRequest, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionWithMessage, fixtureServer, makeConfig, startHttpGateway, startStdioGateway, textOf, waitForAudit, type HttpGateway, type TempConfig } from '../support/gateway.js';

/** A client whose user answers elicitations with `answer` (or never, when it returns undefined). */
async function elicitingClient(gateway: HttpGateway, answer: (request: ElicitRequest) => ElicitResult | undefined) {
  const asked: ElicitRequest[] = [];
  const client = await gateway.connect({ capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    asked.push(request);
    const result = answer(request);
    return result ?? new Promise<ElicitResult>(() => undefined);
  });
  return { client, asked };
}

function choose(decision: string): ElicitResult {
  return { action: 'accept', content: { decision } };
}

const decisionOf = decisionWithMessage;

describe('approval by elicitation', () => {
  let config: TempConfig;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { timeout: '1500ms' } },
      servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'], allow: ['add'] } }) },
    });
    gateway = await startHttpGateway(config.dir);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('allow once runs the call, asks with server, tool, arguments and rule, and asks again next time', async () => {
    const { client, asked } = await elicitingClient(gateway, () => choose('once'));
    const first = await client.callTool({ name: 'echo__echo', arguments: { message: 'once-1', api_key: 'sk-should-not-show' } });
    expect(textOf(first)).toBe('once-1');
    expect(asked).toHaveLength(1);
    const message = asked[0]!.params.message;
    expect(message).toContain('Server: echo');
    expect(message).toContain('Tool: echo (echo__echo)');
    expect(message).toContain('message="once-1"');
    expect(message).not.toContain('sk-should-not-show');
    expect(message).toContain('servers.d/echo.yaml tools.ask[0] (echo)');
    const schema = (asked[0]!.params as { requestedSchema: unknown }).requestedSchema as { properties: { decision: { oneOf: Array<{ const: string }> } } };
    expect(schema.properties.decision.oneOf.map((c) => c.const)).toEqual(['once', 'session', 'always', 'deny']);
    const decision = await decisionOf(config.auditFile, 'once-1');
    expect(decision).toMatchObject({ decision: 'allow', decided_by: 'user', scope: 'once', approval_channel: 'elicitation' });
    expect(decision.approval_wait_ms).toEqual(expect.any(Number));
    expect(String(decision.rule)).toContain('tools.ask[0]');

    await client.callTool({ name: 'echo__echo', arguments: { message: 'once-2' } });
    expect(asked).toHaveLength(2);
  });

  it('an allowed tool never asks', async () => {
    const { client, asked } = await elicitingClient(gateway, () => choose('deny'));
    const result = await client.callTool({ name: 'echo__add', arguments: { a: 1, b: 2 } });
    expect(textOf(result)).toBe('3');
    expect(asked).toHaveLength(0);
  });

  it('allow for this session is remembered in that session only', async () => {
    const first = await elicitingClient(gateway, () => choose('session'));
    expect(textOf(await first.client.callTool({ name: 'echo__echo', arguments: { message: 'session-1' } }))).toBe('session-1');
    expect(textOf(await first.client.callTool({ name: 'echo__echo', arguments: { message: 'session-2' } }))).toBe('session-2');
    expect(first.asked).toHaveLength(1);
    expect(await decisionOf(config.auditFile, 'session-1')).toMatchObject({ decision: 'allow', decided_by: 'user', scope: 'session', approval_channel: 'elicitation' });
    expect(await decisionOf(config.auditFile, 'session-2')).toMatchObject({ decision: 'allow', decided_by: 'user', scope: 'session', approval_channel: 'session', approval_wait_ms: 0 });

    // a second session of the same gateway is asked again, and its user denies
    const second = await elicitingClient(gateway, () => choose('deny'));
    const denied = await second.client.callTool({ name: 'echo__echo', arguments: { message: 'other-session' } });
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toContain('the user denied the call');
    expect(second.asked).toHaveLength(1);
    expect(await decisionOf(config.auditFile, 'other-session')).toMatchObject({ decision: 'deny', decided_by: 'user', approval_channel: 'elicitation' });
    // and the first session still has its approval
    expect(textOf(await first.client.callTool({ name: 'echo__echo', arguments: { message: 'session-3' } }))).toBe('session-3');
    expect(first.asked).toHaveLength(1);
  });

  it('decline and cancel are denies the agent can read; no result record is written', async () => {
    const declining = await elicitingClient(gateway, () => ({ action: 'decline' }));
    const declined = await declining.client.callTool({ name: 'echo__echo', arguments: { message: 'declined' } });
    expect(declined.isError).toBe(true);
    expect(textOf(declined)).toContain('declined');
    const cancelling = await elicitingClient(gateway, () => ({ action: 'cancel' }));
    const cancelled = await cancelling.client.callTool({ name: 'echo__echo', arguments: { message: 'dismissed' } });
    expect(textOf(cancelled)).toContain('dismissed');
    const decision = await decisionOf(config.auditFile, 'declined');
    expect(decision).toMatchObject({ decision: 'deny', decided_by: 'user' });
    const records = await waitForAudit(config.auditFile, () => true);
    expect(records.filter((r) => r.event === 'mcpgate.tool.result' && r.call === decision.call)).toHaveLength(0);
  });

  it('an elicitation request that fails is a deny with the reason (fail closed)', async () => {
    const broken = await gateway.connect({ capabilities: { elicitation: {} } }); // declares it, handles nothing
    const result = await broken.callTool({ name: 'echo__echo', arguments: { message: 'broken-client' } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('the approval request to the client failed');
    expect(await decisionOf(config.auditFile, 'broken-client')).toMatchObject({ decision: 'deny', decided_by: 'default', approval_channel: 'elicitation' });
  });

  it('a user who never answers is denied at approval.timeout (fail closed)', async () => {
    const silent = await elicitingClient(gateway, () => undefined);
    const started = Date.now();
    const result = await silent.client.callTool({ name: 'echo__echo', arguments: { message: 'no-answer' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('no approval within 1500ms');
    const decision = await decisionOf(config.auditFile, 'no-answer');
    expect(decision).toMatchObject({ decision: 'deny', decided_by: 'timeout', approval_channel: 'elicitation' });
    expect(Number(decision.approval_wait_ms)).toBeGreaterThanOrEqual(1400);
  });

  it('always allow writes a reviewable rule that applies to every session until an admin deletes it', async () => {
    const asking = await elicitingClient(gateway, () => choose('always'));
    expect(textOf(await asking.client.callTool({ name: 'echo__echo', arguments: { message: 'always-1' } }))).toBe('always-1');
    expect(await decisionOf(config.auditFile, 'always-1')).toMatchObject({ decision: 'allow', decided_by: 'user', scope: 'always' });
    const rulesFile = join(config.dir, 'rules.d/approved.yaml');
    const text = await readFile(rulesFile, 'utf8');
    expect(text).toContain('tool: echo__echo');
    expect(text).toContain('server: echo');

    const fresh = await elicitingClient(gateway, () => choose('deny'));
    expect(textOf(await fresh.client.callTool({ name: 'echo__echo', arguments: { message: 'always-2' } }))).toBe('always-2');
    expect(fresh.asked).toHaveLength(0);
    const decision = await decisionOf(config.auditFile, 'always-2');
    expect(decision).toMatchObject({ decision: 'allow', decided_by: 'user', scope: 'always', approval_channel: 'always' });
    expect(String(decision.rule)).toContain('rules.d/approved.yaml allow[0] (echo__echo)');

    // revoking: the admin deletes the file; the running gateway asks again
    await rm(rulesFile);
    const revoked = await fresh.client.callTool({ name: 'echo__echo', arguments: { message: 'always-3' } });
    expect(revoked.isError).toBe(true);
    expect(fresh.asked).toHaveLength(1);
  });
});

describe('approval by elicitation with persistence forbidden', () => {
  let config: TempConfig;
  let gateway: HttpGateway;
  let client: Client;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { allowAlways: false, sessionScope: 'arguments' } },
      servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'] } }) },
    });
    gateway = await startHttpGateway(config.dir);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('does not offer "always"; an "always" answer counts for the session only; session scope can be narrowed to the same arguments', async () => {
    const eliciting = await elicitingClient(gateway, () => choose('always'));
    client = eliciting.client;
    expect(textOf(await client.callTool({ name: 'echo__echo', arguments: { message: 'same' } }))).toBe('same');
    const schema = (eliciting.asked[0]!.params as { requestedSchema: unknown }).requestedSchema as { properties: { decision: { oneOf: Array<{ const: string }> } } };
    expect(schema.properties.decision.oneOf.map((c) => c.const)).toEqual(['once', 'session', 'deny']);
    expect(await decisionOf(config.auditFile, 'same')).toMatchObject({ scope: 'session' });
    await expect(readFile(join(config.dir, 'rules.d/approved.yaml'), 'utf8')).rejects.toThrow();
    await client.callTool({ name: 'echo__echo', arguments: { message: 'same' } });
    expect(eliciting.asked).toHaveLength(1); // same arguments: remembered
    await client.callTool({ name: 'echo__echo', arguments: { message: 'different' } });
    expect(eliciting.asked).toHaveLength(2); // other arguments: asked again
  });
});

describe('approval by elicitation over stdio', () => {
  it('asks the stdio client and runs the call it approves', async () => {
    const config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'] } }) } });
    const gateway = await startStdioGateway(config.dir, { capabilities: { elicitation: {} } });
    try {
      let asked = 0;
      gateway.client.setRequestHandler(ElicitRequestSchema, async () => {
        asked++;
        return choose('once');
      });
      expect(textOf(await gateway.client.callTool({ name: 'echo__echo', arguments: { message: 'over-stdio' } }))).toBe('over-stdio');
      expect(asked).toBe(1);
      expect(await decisionOf(config.auditFile, 'over-stdio')).toMatchObject({ decision: 'allow', decided_by: 'user', approval_channel: 'elicitation' });
    } finally {
      await gateway.close();
      await config.cleanup();
    }
  });
});

describe('approval by elicitation of a managed ask', () => {
  let config: TempConfig;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { timeout: '5s' } },
      servers: { echo: fixtureServer('echo', { tools: { allow: ['echo'] } }) },
    });
    const requirementsFile = join(config.dir, 'requirements.yaml');
    await writeFile(requirementsFile, 'rules:\n  - { tool: "echo/echo", decision: ask }\n');
    gateway = await startHttpGateway(config.dir, ['--requirements', requirementsFile]);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('does not offer "always" (the user rule it writes never applies to a managed ask): an "always" answer counts for the session and writes no rule', async () => {
    const eliciting = await elicitingClient(gateway, () => choose('always'));
    expect(textOf(await eliciting.client.callTool({ name: 'echo__echo', arguments: { message: 'managed-1' } }))).toBe('managed-1');
    const schema = (eliciting.asked[0]!.params as { requestedSchema: unknown }).requestedSchema as { properties: { decision: { oneOf: Array<{ const: string }> } } };
    expect(schema.properties.decision.oneOf.map((c) => c.const)).toEqual(['once', 'session', 'deny']);
    expect(await decisionOf(config.auditFile, 'managed-1')).toMatchObject({ decision: 'allow', decided_by: 'user', scope: 'session' });
    await expect(readFile(join(config.dir, 'rules.d/approved.yaml'), 'utf8')).rejects.toThrow();
    // remembered for this session, as the answer says
    expect(textOf(await eliciting.client.callTool({ name: 'echo__echo', arguments: { message: 'managed-2' } }))).toBe('managed-2');
    expect(eliciting.asked).toHaveLength(1);
  });
});

describe('"always allow" on a gateway shared by authenticated users', () => {
  const KEY = 'an-hmac-key-for-the-always-rules-test-0123456789';
  let config: TempConfig;
  let gateway: HttpGateway;

  const tokenFor = (subject: string) =>
    new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(subject).setIssuer('https://idp.test').setAudience('mcpgate').setExpirationTime('5m').sign(new TextEncoder().encode(KEY));

  async function userClient(subject: string, answer: () => ElicitResult) {
    const asked: ElicitRequest[] = [];
    const client = await gateway.connect({ capabilities: { elicitation: {} } }, { requestInit: { headers: { authorization: `Bearer ${await tokenFor(subject)}` } } });
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request);
      return answer();
    });
    return { client, asked };
  }

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { timeout: '5s' }, auth: { issuer: 'https://idp.test', audience: 'mcpgate', secret: '${env:ALWAYS_JWT_KEY}' } },
      servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'] } }) },
    });
    gateway = await startHttpGateway(config.dir, [], { ALWAYS_JWT_KEY: KEY });
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it("one user's \"always\" is that user's: another user is still asked", async () => {
    const bob = await userClient('bob', () => choose('always'));
    expect(textOf(await bob.client.callTool({ name: 'echo__echo', arguments: { message: 'bob-1' } }))).toBe('bob-1');
    expect(await readFile(join(config.dir, 'rules.d/approved.yaml'), 'utf8')).toContain('subject: bob');
    const bobAgain = await userClient('bob', () => choose('deny'));
    expect(textOf(await bobAgain.client.callTool({ name: 'echo__echo', arguments: { message: 'bob-2' } }))).toBe('bob-2');
    expect(bobAgain.asked).toHaveLength(0);
    const alice = await userClient('alice', () => choose('deny'));
    const denied = await alice.client.callTool({ name: 'echo__echo', arguments: { message: 'alice-1' } });
    expect(alice.asked).toHaveLength(1);
    expect(denied.isError).toBe(true);
  });
});
