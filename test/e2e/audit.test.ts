/**
 * The audit log's argument recording on real calls: secret-looking keys and every resolved
 * reference value are redacted by default; `hash` and `none` record no argument values at all.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, readAudit, startStdioGateway, waitForAudit, type StdioGateway, type TempConfig } from '../support/gateway.js';

const TOKEN = 'tok-3f9a2c7e5b1d4e6f';

describe('audit arguments', () => {
  let config: TempConfig | undefined;
  let gateway: StdioGateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  async function start(mode?: string) {
    config = await makeConfig({
      gateway: mode ? { audit: { arguments: mode } } : {},
      servers: { echo: fixtureServer('echo', { env: { API_TOKEN: '${env:MCPGATE_TEST_TOKEN}' }, tools: { default: 'allow' } }) },
    });
    gateway = await startStdioGateway(config.dir, {}, { MCPGATE_TEST_TOKEN: TOKEN });
    await gateway.client.callTool({ name: 'echo__echo', arguments: { message: `the token is ${TOKEN}`, password: 'hunter2-hunter2' } });
    return waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.tool.result'));
  }

  it('caps a huge client name and version in the session record', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    gateway = await startStdioGateway(config.dir, {}, {}, { name: `agent-${'n'.repeat(100_000)}`, version: 'v'.repeat(5000) });
    const records = await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.session.start'));
    const start = records.find((r) => r.event === 'mcpgate.session.start');
    expect(String(start?.client_name)).toMatch(/^agent-n{194}… \(99806 more characters\)$/);
    expect(String(start?.client_version)).toMatch(/^v{200}… \(4800 more characters\)$/);
  });

  it('redacts secret keys and resolved reference values by default', async () => {
    const records = await start();
    const decision = records.find((r) => r.event === 'mcpgate.tool.decision');
    expect(decision?.arguments).toEqual({ message: 'the token is [REDACTED]', password: '[REDACTED]' });
    expect(JSON.stringify(await readAudit(config!.auditFile))).not.toContain(TOKEN);
    expect(gateway!.stderr()).not.toContain(TOKEN);
  });

  it('records only a hash in hash mode and nothing in none mode', async () => {
    const hashed = (await start('hash')).find((r) => r.event === 'mcpgate.tool.decision');
    expect(hashed?.arguments).toBeUndefined();
    expect(hashed?.arguments_sha256).toMatch(/^[0-9a-f]{64}$/);
    await gateway?.close();
    await config?.cleanup();
    const none = (await start('none')).find((r) => r.event === 'mcpgate.tool.decision');
    expect(none?.arguments).toBeUndefined();
    expect(none?.arguments_sha256).toBeUndefined();
  });
});
