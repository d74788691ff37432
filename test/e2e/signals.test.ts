/**
 * Signals stop `mcpgate serve` cleanly: a shutdown log line, the audit records of the sessions and
 * upstreams it closes, and the approval admin endpoint file removed. SIGHUP does not stop it: it
 * reloads the configuration (test/e2e/reload.test.ts).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, readAudit, startHttpGateway, waitFor, waitForAudit, type HttpGateway, type TempConfig } from '../support/gateway.js';

describe('mcpgate serve and signals', () => {
  let config: TempConfig | undefined;
  let gateway: HttpGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal}: logs the shutdown, writes the closing audit records and removes the admin endpoint file`, async () => {
      config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
      gateway = await startHttpGateway(config.dir);
      const client = await gateway.connect();
      await client.callTool({ name: 'echo__echo', arguments: { message: 'hi' } });
      const adminDir = join(config.dir, '.mcpgate');
      await waitFor(async () => (await readdir(adminDir).catch(() => [])).length === 1);
      const child = gateway.process;
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, sig) => resolve([code, sig])));
      child.kill(signal);
      expect(await exited).toEqual([0, null]);
      expect(gateway.stderr()).toContain(`"signal":"${signal}"`);
      expect(gateway.stderr()).toContain('shutting down');
      const records = await readAudit(config.auditFile);
      expect(records.filter((r) => r.event === 'mcpgate.session.end')).toEqual([expect.objectContaining({ reason: 'shutdown' })]);
      expect(records.filter((r) => r.event === 'mcpgate.upstream.state' && r.state === 'stopped')).toHaveLength(1);
      expect(await readdir(adminDir)).toEqual([]);
      expect((await readdir(config.dir)).filter((n) => n.endsWith('.lock'))).toEqual([]);
    });
  }

  it('SIGHUP does not stop it: the session keeps working and a reload is recorded', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    gateway = await startHttpGateway(config.dir);
    const client = await gateway.connect();
    await client.callTool({ name: 'echo__echo', arguments: { message: 'hi' } });
    gateway.process.kill('SIGHUP');
    const records = await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.config.change'));
    expect(records.filter((r) => r.event === 'mcpgate.config.change')).toEqual([expect.objectContaining({ trigger: 'signal', files: [], added: [], removed: [] })]);
    expect(gateway.stderr()).toContain('reloading the configuration');
    expect(gateway.process.exitCode).toBeNull();
    expect(await client.callTool({ name: 'echo__echo', arguments: { message: 'still' } })).toEqual(expect.objectContaining({ content: [{ type: 'text', text: 'still' }] }));
    expect(records.filter((r) => r.event === 'mcpgate.session.end')).toEqual([]);
  });
});
