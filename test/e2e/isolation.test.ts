/**
 * `isolation: session` (src/isolation): one upstream instance per client session. Real gateway,
 * real server-everything and echo fixture processes, real HTTP clients.
 */
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { everythingServer, fixtureServer, makeConfig, readAudit, runMcpgate, startHttpGateway, textOf, waitForAudit, waitForTools, type HttpGateway, type TempConfig } from '../support/gateway.js';

/** A client that answers sampling requests with `answer`, once the request has waited for the other one (so both are in flight together). */
async function samplingClient(gateway: HttpGateway, answer: string, bothAsked: Promise<void>, asked: () => void): Promise<Client> {
  const client = await gateway.connect({ capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async () => {
    asked();
    await bothAsked;
    return { role: 'assistant', content: { type: 'text', text: answer }, model: 'test-model' };
  });
  return client;
}

/** The gateway's `/healthz` body (no auth configured: the full body). */
const healthz = async (gateway: HttpGateway) => (await (await fetch(`http://127.0.0.1:${gateway.port}/healthz`)).json()) as { instances?: Record<string, number> };

const stoppedInstances = async (config: TempConfig, server: string) =>
  (await readAudit(config.auditFile)).filter((r) => r.event === 'mcpgate.upstream.state' && r.server === server && r.session !== undefined && r.state === 'stopped');

describe('isolation: session', () => {
  let config: TempConfig | undefined;
  let gateway: HttpGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    await config?.cleanup();
    gateway = config = undefined;
  });

  it('two clients sampling at the same time each answer their own request', async () => {
    config = await makeConfig({ servers: { everything: everythingServer({ tools: { default: 'allow' }, isolation: 'session' }) } });
    gateway = await startHttpGateway(config.dir);
    let asked = 0;
    let release: () => void = () => undefined;
    const bothAsked = new Promise<void>((resolve) => (release = resolve));
    const onAsked = () => {
      if (++asked === 2) release();
    };
    const alice = await samplingClient(gateway, 'answer from alice', bothAsked, onAsked);
    const bob = await samplingClient(gateway, 'answer from bob', bothAsked, onAsked);
    await waitForTools(alice, ['everything__trigger-sampling-request']);
    const call = (client: Client) => client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } });
    const [a, b] = await Promise.all([call(alice), call(bob)]);
    expect(asked).toBe(2);
    expect(JSON.stringify(a.content)).toContain('answer from alice');
    expect(JSON.stringify(a.content)).not.toContain('answer from bob');
    expect(JSON.stringify(b.content)).toContain('answer from bob');
    const starts = (await readAudit(config.auditFile)).filter((r) => r.event === 'mcpgate.upstream.state' && r.server === 'everything' && r.state === 'ready');
    expect(new Set(starts.map((r) => r.session)).size).toBe(3); // the listing instance and one per session
  });

  it('stops an idle instance, and refuses a session past maxInstances with MCPGATE_ISOLATION_LIMIT', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' }, isolation: 'session', maxInstances: 1, idleTimeout: '1s' }) } });
    gateway = await startHttpGateway(config.dir);
    const first = await gateway.connect();
    const second = await gateway.connect();
    await waitForTools(first, ['echo__echo']);
    expect(textOf(await first.callTool({ name: 'echo__echo', arguments: { message: 'one' } }))).toBe('one');
    const refused = await second.callTool({ name: 'echo__echo', arguments: { message: 'two' } }).then(
      (result) => textOf(result),
      (error: Error) => error.message,
    );
    expect(refused).toContain('maxInstances: 1');
    // idle for 1 s: the first session's instance stops, and the second session may start one
    await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.upstream.state' && r.server === 'echo' && r.session !== undefined && r.state === 'stopped'), 15_000);
    expect(textOf(await second.callTool({ name: 'echo__echo', arguments: { message: 'two' } }))).toBe('two');
    expect(await stoppedInstances(config, 'echo')).toHaveLength(1);
    const checked = await runMcpgate(['check', '--config', config.dir]);
    expect(checked.stdout).toContain('isolation: session (one instance per client session, at most 1, idle stop after 1s)');
    const listed = await runMcpgate(['tools', '--config', config.dir]);
    expect(listed.stdout).toContain('server echo: isolation session (one instance per client session, at most 1, idle stop after 1s)');
  });

  it('stops a session\'s instance when the session ends', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' }, isolation: 'session' }) } });
    gateway = await startHttpGateway(config.dir);
    const client = await gateway.connect();
    await waitForTools(client, ['echo__echo']);
    await client.callTool({ name: 'echo__echo', arguments: { message: 'x' } });
    expect(await stoppedInstances(config, 'echo')).toHaveLength(0);
    expect((await healthz(gateway)).instances).toEqual({ echo: 1 });
    const status = await runMcpgate(['status', '--config', config.dir]);
    expect(status.stdout, status.stderr).toMatch(/^echo \(1 session instance\)\s+ready/m);
    const json = JSON.parse((await runMcpgate(['status', '--config', config.dir, '--json'])).stdout) as { gateways: Array<{ upstreams: Array<{ name: string; instances?: number }> }> };
    expect(json.gateways[0]?.upstreams.find((u) => u.name === 'echo')?.instances).toBe(1);
    await (client.transport as { terminateSession?: () => Promise<void> }).terminateSession?.();
    await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.upstream.state' && r.server === 'echo' && r.session !== undefined && r.state === 'stopped'), 15_000);
    expect((await healthz(gateway)).instances).toEqual({ echo: 0 });
  });
});
