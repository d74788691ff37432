/**
 * The approval queue, for clients without elicitation: real gateway processes, real SDK clients,
 * and `mcpgate approvals` / `approve` / `deny` run as separate processes that reach the gateway
 * through its loopback admin endpoint. Also the fail-closed ends of a wait: timeout, client
 * cancellation, client disconnect and gateway shutdown.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decisionWithMessage,
  fixtureServer,
  runMcpgate,
  makeConfig,
  pendingApproval,
  pendingApprovals,
  startHttpGateway,
  startStdioGateway,
  textOf,
  waitFor,
  type HttpGateway,
  type TempConfig,
} from '../support/gateway.js';

/** Runs the mcpgate CLI as its own process. */
const mcpgate = runMcpgate;
const pending = pendingApprovals;
const pendingFor = pendingApproval;

const decisionOf = decisionWithMessage;

describe('approval queue answered from another process', () => {
  let config: TempConfig;
  let gateway: HttpGateway;
  let client: Client;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { timeout: '20s' } },
      servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'] } }) },
    });
    gateway = await startHttpGateway(config.dir);
    client = await gateway.connect();
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('lists a waiting call with id, age, session, client, server, tool and arguments; approve runs it', async () => {
    const call = client.callTool({ name: 'echo__echo', arguments: { message: 'queued-1', password: 'hunter2' } });
    const item = await pendingFor(config.dir, 'queued-1');
    expect(item).toMatchObject({ client: 'mcpgate-test 1.0.0', server: 'echo', tool: 'echo', public_name: 'echo__echo' });
    expect(item.id).toMatch(/^[0-9a-f]{8}$/);
    expect(item.session).toMatch(/[0-9a-f-]{36}/);
    expect(item.age_ms).toBeGreaterThanOrEqual(0);
    expect(item.arguments).not.toContain('hunter2');
    expect(item.rule).toContain('tools.ask[0]');
    const table = await mcpgate(['approvals', '--config', config.dir]);
    expect(table.stdout).toMatch(/^ID\s+AGE\s+SESSION\s+CLIENT\s+SERVER\s+TOOL\s+ARGUMENTS/);
    expect(table.stdout).toContain(item.id);

    const approved = await mcpgate(['approve', item.id, '--config', config.dir]);
    expect(approved).toMatchObject({ code: 0 });
    expect(approved.stdout).toContain(`approved ${item.id} (once)`);
    expect(textOf(await call)).toBe('queued-1');
    expect(await decisionOf(config.auditFile, 'queued-1')).toMatchObject({ decision: 'allow', decided_by: 'user', scope: 'once', approval_channel: 'queue' });
    expect(await pending(config.dir)).toHaveLength(0);
  });

  it('deny --reason answers the agent with the reason', async () => {
    const call = client.callTool({ name: 'echo__echo', arguments: { message: 'queued-2' } });
    const item = await pendingFor(config.dir, 'queued-2');
    expect((await mcpgate(['deny', item.id, '--reason', 'not during the freeze', '--config', config.dir])).code).toBe(0);
    const result = await call;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('denied by an administrator: not during the freeze');
    expect(await decisionOf(config.auditFile, 'queued-2')).toMatchObject({ decision: 'deny', decided_by: 'user', approval_channel: 'queue' });
  });

  it('approve --session approves later calls of that session without queueing them', async () => {
    const call = client.callTool({ name: 'echo__echo', arguments: { message: 'queued-3' } });
    const item = await pendingFor(config.dir, 'queued-3');
    expect((await mcpgate(['approve', item.id, '--session', '--config', config.dir])).code).toBe(0);
    expect(textOf(await call)).toBe('queued-3');
    expect(textOf(await client.callTool({ name: 'echo__echo', arguments: { message: 'queued-4' } }))).toBe('queued-4');
    expect(await decisionOf(config.auditFile, 'queued-4')).toMatchObject({ decision: 'allow', scope: 'session', approval_channel: 'session' });
    // another session of the same gateway still queues
    const other = await gateway.connect();
    const otherCall = other.callTool({ name: 'echo__echo', arguments: { message: 'queued-5' } });
    const otherItem = await pendingFor(config.dir, 'queued-5');
    expect(otherItem.session).not.toBe(item.session);
    await mcpgate(['deny', otherItem.id, '--config', config.dir]);
    expect((await otherCall).isError).toBe(true);
  });

  it('unknown ids, bad tokens and browsers are refused', async () => {
    const missing = await mcpgate(['approve', 'abcdef12', '--config', config.dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no pending approval with id abcdef12');
    expect((await mcpgate(['approve', '--config', config.dir])).code).toBe(2);
    const adminDir = join(config.dir, '.mcpgate');
    const [file] = (await readdir(adminDir)).filter((name) => name.startsWith('gateway-'));
    expect(((await stat(join(adminDir, file!))).mode & 0o777).toString(8)).toBe('600');
    expect(((await stat(adminDir)).mode & 0o777).toString(8)).toBe('700');
    const endpoint = JSON.parse(await readFile(join(adminDir, file!), 'utf8')) as { url: string; token: string };
    expect((await fetch(`${endpoint.url}/approvals`)).status).toBe(401);
    expect((await fetch(`${endpoint.url}/approvals`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${endpoint.url}/approvals`, { headers: { authorization: `Bearer ${endpoint.token}`, origin: 'http://evil.example' } })).status).toBe(403);
    expect((await fetch(`${endpoint.url}/approvals`, { headers: { authorization: `Bearer ${endpoint.token}` } })).status).toBe(200);
  });

  it('a client that cancels its call (notifications/cancelled) cancels its pending approval', async () => {
    const canceller = await gateway.connect(); // a session without the earlier session approval
    const controller = new AbortController();
    const call = canceller.callTool({ name: 'echo__echo', arguments: { message: 'cancel-me' } }, undefined, { signal: controller.signal });
    await pendingFor(config.dir, 'cancel-me');
    controller.abort('changed my mind');
    await expect(call).rejects.toThrow();
    const decision = await decisionOf(config.auditFile, 'cancel-me');
    expect(decision).toMatchObject({ decision: 'deny', decided_by: 'user', approval_channel: 'queue' });
    expect(String(decision.reason)).toContain('cancelled');
    expect((await pending(config.dir)).some((p) => p.arguments.includes('cancel-me'))).toBe(false);
  });

  it('a client that disconnects cancels its pending approvals', async () => {
    const leaving = await gateway.connect();
    void leaving.callTool({ name: 'echo__echo', arguments: { message: 'leaving' } }).catch(() => undefined);
    await pendingFor(config.dir, 'leaving');
    await (leaving.transport as StreamableHTTPClientTransport).terminateSession(); // HTTP DELETE: the session ends
    await leaving.close();
    const decision = await decisionOf(config.auditFile, 'leaving');
    expect(decision).toMatchObject({ decision: 'deny', decided_by: 'user' });
    expect(String(decision.reason)).toContain('the client disconnected');
    expect((await pending(config.dir)).some((p) => p.arguments.includes('leaving'))).toBe(false);
  });
});

describe('approval queue: fail closed', () => {
  it('a call nobody answers is denied at approval.timeout, decided_by timeout', async () => {
    const config = await makeConfig({
      gateway: { approval: { timeout: '800ms', channel: 'queue' } },
      servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'] } }) },
    });
    const gateway = await startStdioGateway(config.dir);
    try {
      const result = await gateway.client.callTool({ name: 'echo__echo', arguments: { message: 'late' } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain('no approval within 800ms');
      const decision = await decisionOf(config.auditFile, 'late');
      expect(decision).toMatchObject({ decision: 'deny', decided_by: 'timeout', approval_channel: 'queue' });
      expect(Number(decision.approval_wait_ms)).toBeGreaterThanOrEqual(750);
    } finally {
      await gateway.close();
      await config.cleanup();
    }
  });

  it('a stdio gateway is answered the same way (mcpgate approve against its process)', async () => {
    const config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'] } }) } });
    const gateway = await startStdioGateway(config.dir);
    try {
      const call = gateway.client.callTool({ name: 'echo__echo', arguments: { message: 'stdio-queued' } });
      const item = await pendingFor(config.dir, 'stdio-queued');
      expect((await mcpgate(['approve', item.id, '--config', config.dir])).code).toBe(0);
      expect(textOf(await call)).toBe('stdio-queued');
    } finally {
      await gateway.close();
      await config.cleanup();
    }
  });

  it('stopping the gateway denies every pending approval', async () => {
    const config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'] } }) } });
    const gateway = await startHttpGateway(config.dir);
    try {
      const client = await gateway.connect();
      const call = client.callTool({ name: 'echo__echo', arguments: { message: 'at-shutdown' } }).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );
      await pendingFor(config.dir, 'at-shutdown');
      gateway.process.kill('SIGTERM');
      const decision = await decisionOf(config.auditFile, 'at-shutdown');
      expect(decision).toMatchObject({ decision: 'deny', decided_by: 'default' });
      expect(String(decision.reason)).toContain('shut down');
      const outcome = await call;
      expect('result' in outcome && textOf(outcome.result)).toContain('shut down'); // the client still hears the denial
      await waitFor(() => gateway.process.exitCode !== null, 10_000, () => 'gateway exit');
      // its endpoint file is gone, so the CLI says no gateway is running
      const after = await mcpgate(['approvals', '--config', config.dir]);
      expect(after.code).toBe(1);
      expect(after.stderr).toContain('no running mcpgate gateway');
    } finally {
      await gateway.close();
      await config.cleanup();
    }
  });
});
