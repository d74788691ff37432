/**
 * Pending approvals across a configuration reload (docs/decisions.md): an ask the reloaded
 * configuration denies is denied at once; any other keeps waiting, and an approval given after
 * the reload runs the call (on the replacement process when the reload restarted the server).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  decisionWithMessage,
  fixtureServer,
  makeConfig,
  pendingApproval,
  pendingApprovals,
  runMcpgate,
  startHttpGateway,
  textOf,
  waitFor,
  waitForAudit,
  waitForTools,
  type HttpGateway,
  type TempConfig,
} from '../support/gateway.js';
import { startOrigin } from '../support/origins.js';

const asking = { tools: { default: 'allow', ask: ['echo'] } };

async function editServer(config: TempConfig, body: Record<string, unknown>): Promise<void> {
  await writeFile(join(config.dir, 'servers.d', 'echo.yaml'), stringify(body));
  await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.config.change'), 20_000);
}

describe('pending approvals across a reload', () => {
  let config: TempConfig | undefined;
  let gateway: HttpGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    await config?.cleanup();
    gateway = config = undefined;
  });

  async function waitingCall(message: string) {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', asking) }, gateway: { approval: { channel: 'queue' } } });
    gateway = await startHttpGateway(config.dir);
    const client = await gateway.connect();
    await waitForTools(client, ['echo__echo']);
    const call = client.callTool({ name: 'echo__echo', arguments: { message } });
    const pending = await pendingApproval(config.dir, message);
    return { client, call, pending };
  }

  it('an ask the reloaded policy denies is denied at once, with the new rule as the reason', async () => {
    const { call } = await waitingCall('doomed');
    await editServer(config!, fixtureServer('echo', { tools: { default: 'allow', deny: ['echo'] } }));
    const result = await call;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('the configuration was reloaded while the call waited for approval');
    expect(await pendingApprovals(config!.dir)).toEqual([]);
    expect(await decisionWithMessage(config!.auditFile, 'doomed')).toMatchObject({ decision: 'deny', decided_by: 'rule' });
  });

  it('an ask still asked keeps waiting through a reload that restarts its server; approved afterwards, it runs on the new process', async () => {
    const { client, call, pending } = await waitingCall('patient');
    await editServer(config!, fixtureServer('echo', { ...asking, env: { FIXTURE_MARK: 'restarted' } }));
    const records = await waitForAudit(config!.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.upstream.state' && r.server === 'echo' && r.state === 'stopped'), 20_000);
    expect(records.find((r) => r.event === 'mcpgate.config.change')).toMatchObject({ restarted: ['echo'] });
    expect((await pendingApprovals(config!.dir)).map((p) => p.id)).toEqual([pending.id]);

    const approved = await runMcpgate(['approve', pending.id, '--config', config!.dir]);
    expect(approved.code).toBe(0);
    expect(textOf(await call)).toBe('patient');
    // it ran on the replacement: the new process counted that call (and this one)
    const stats = await client.callTool({ name: 'echo__stats', arguments: {} });
    expect((stats.structuredContent as { calls: number }).calls).toBe(2);
  });

  it('a pending network ask the reloaded network policy denies is denied at once', async () => {
    const origin = await startOrigin('127.0.0.4');
    try {
      const netprobe = (network: Record<string, unknown>) => fixtureServer('netprobe', { tools: { allow: ['*'] }, network, sandbox: { mode: 'off' } });
      config = await makeConfig({ servers: { netprobe: netprobe({ ask: ['127.0.0.4'] }) }, gateway: { approval: { channel: 'queue' }, network: { default: 'deny' } } });
      gateway = await startHttpGateway(config.dir);
      const client = await gateway.connect();
      await waitForTools(client, ['netprobe__fetch']);
      const call = client.callTool({ name: 'netprobe__fetch', arguments: { url: origin.url } });
      await waitFor(async () => (await pendingApprovals(config!.dir)).some((p) => p.kind === 'network'), 30_000, () => 'a pending network ask');
      await writeFile(join(config.dir, 'servers.d', 'netprobe.yaml'), stringify(netprobe({ deny: ['127.0.0.4'] })));
      expect(textOf(await call)).toMatch(/^refused: /);
      expect(origin.requests()).toBe(0);
      expect(await pendingApprovals(config.dir)).toEqual([]);
      const records = await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.network.decision' && r.host === '127.0.0.4'));
      const record = records.find((r) => r.event === 'mcpgate.network.decision' && r.host === '127.0.0.4');
      expect(record).toMatchObject({ decision: 'deny' });
      expect(String(record?.reason)).toContain('the configuration was reloaded while the call waited for approval');
    } finally {
      await origin.close();
    }
  });
});
