/**
 * The auditor's terminal and browser obey nothing an agent or an upstream wrote into the log: a
 * real gateway records a session whose client name, an unknown tool's name, arguments and an
 * upstream's error text hold terminal escape sequences (ESC, OSC with BEL, CSI in C1), a bidi
 * override and zero-width characters; `audit query` (table), `audit report` (text, --json and
 * --html) show them escaped, never raw.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, readAudit, runMcpgate, startStdioGateway, waitFor, type TempConfig } from '../support/gateway.js';

/** C0 controls but line feed, DEL, C1, bidi and zero-width characters: none may reach the output raw. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/;
const EVIL = 'evil\u001b]0;owned\u0007\u001b[2J\u009b31m\u202e\u200b';

describe('audit output escapes what agents and upstreams chose', () => {
  let config: TempConfig;
  const audit = (...args: string[]) => runMcpgate(['audit', ...args, '--config', config.dir]);

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { channel: 'none' } },
      servers: { echo: fixtureServer('echo', { tools: { default: 'allow', deny: [{ tool: 'echo', args: { message: 'deny*' }, reason: 'no' }] } }) },
    });
    const gateway = await startStdioGateway(config.dir, {}, {}, { name: EVIL, version: `1\u001b[31m` });
    await gateway.client.callTool({ name: `echo__${EVIL}`, arguments: {} }).catch(() => undefined); // unknown tool: a protocol error, audited
    await gateway.client.callTool({ name: 'echo__echo', arguments: { message: `deny ${EVIL}` } });
    await gateway.client.callTool({ name: 'echo__fail', arguments: { note: EVIL } });
    await gateway.close();
    await waitFor(async () => (await readAudit(config.auditFile)).some((r) => r.event === 'mcpgate.session.end'), 15_000, () => 'session end');
  }, 60_000);

  afterAll(async () => {
    await config?.cleanup();
  });

  it('query prints the table with every such character escaped', async () => {
    const out = await audit('query');
    expect(out.code).toBe(0);
    expect(out.stdout).not.toMatch(RAW);
    expect(out.stdout).toContain('evil\\u001b]0;owned\\u0007\\u001b[2J\\u009b31m\\u202e\\u200b 1\\u001b[31m over stdio');
    expect(out.stdout).toContain(`echo__evil\\u001b]0;owned`);
  });

  it('report (text, --json and --html) shows them escaped', async () => {
    const text = await audit('report');
    expect(text.code).toBe(0);
    expect(text.stdout).not.toMatch(RAW);
    expect(text.stdout).toContain('echo__evil\\u001b]0;owned\\u0007');
    const json = await audit('report', '--json');
    expect(json.stdout).not.toMatch(RAW);
    // the same JSON value, only written with escapes
    expect((JSON.parse(json.stdout) as { callsPerTool: Array<{ label: string }> }).callsPerTool.map((c) => c.label)).toContain(`echo__${EVIL}`);
    const html = join(config.dir, 'report.html');
    expect((await audit('report', '--html', html)).code).toBe(0);
    const page = await readFile(html, 'utf8');
    expect(page).not.toMatch(RAW);
    expect(page).toContain('echo__evil\\u001b]0;owned\\u0007');
  });
});
