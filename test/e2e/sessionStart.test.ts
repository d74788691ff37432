/**
 * `mcpgate.session.start` records what the client's `initialize` said, even when `initialize`
 * and `notifications/initialized` reach the gateway in one read (a client that writes them
 * together, as many do): `audit query --client` must find the session.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureServer, MAIN, makeConfig, runMcpgate, waitFor, waitForAudit, type TempConfig } from '../support/gateway.js';

describe('session.start', () => {
  let config: TempConfig | undefined;
  afterEach(() => config?.cleanup());

  it('names the client when initialize and notifications/initialized arrive in one write', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    const child = spawn(process.execPath, [MAIN, 'serve', '--config', config.dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.resume();
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'one-write-client', version: '7.1' } } };
    const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
    child.stdin.write(`${JSON.stringify(initialize)}\n${JSON.stringify(initialized)}\n`);
    await waitFor(() => out.includes('"id":1'), 30_000, () => `the initialize response; stdout: ${out}`);
    const records = await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.session.start'));
    child.stdin.end();
    await new Promise((resolve) => child.once('exit', resolve));
    expect(records.find((r) => r.event === 'mcpgate.session.start')).toMatchObject({ client_name: 'one-write-client', client_version: '7.1', transport: 'stdio' });
    const query = await runMcpgate(['audit', 'query', '--config', config.dir, '--client', 'one-write-client', '--json']);
    expect(query.stdout, `audit query exited ${query.code}; stderr: ${query.stderr}`).toContain('"event":"mcpgate.session.start"');
  });
});
