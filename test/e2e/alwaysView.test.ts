/**
 * What "always" answers, as the CLI shows it: a call approved "always" through the real approval
 * queue (`mcpgate approve ID --always`, separate processes), then `mcpgate tools --json`, `tools`
 * and `mcpgate check` run as their own processes show the tool's ask as answered by that entry,
 * with file, line, client and time. Under a managed ask the same entry does not apply — the CLI
 * says so and the gateway queues the call again. A broken rules file is reported with file:line.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decisionWithMessage,
  fixtureServer,
  makeConfig,
  pendingApprovalId,
  runMcpgate,
  startHttpGateway,
  startStdioGateway,
  textOf,
  type HttpGateway,
  type TempConfig,
} from '../support/gateway.js';

interface Row {
  name: string;
  decision: string;
  decided_by: string;
  effective: string;
  always?: Array<Record<string, unknown>>;
}

async function toolsJson(args: string[]): Promise<{ code: number; tools: Row[]; problems: Array<Record<string, unknown>> }> {
  const out = await runMcpgate(['tools', '--json', ...args]);
  const parsed = JSON.parse(out.stdout) as { tools: Row[]; problems: Array<Record<string, unknown>> };
  return { code: out.code, ...parsed };
}

describe('"always" entries in mcpgate tools and check', () => {
  let config: TempConfig;
  let gateway: HttpGateway | undefined;
  let client: Client;
  let rulesFile: string;
  let line: number;
  let requirements: string;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { timeout: '20s' } },
      servers: { echo: fixtureServer('echo', { tools: { default: 'allow', ask: ['echo'] } }) },
    });
    rulesFile = join(config.dir, 'rules.d/approved.yaml');
    requirements = join(config.dir, 'requirements.yaml');
    await writeFile(requirements, 'rules:\n  - { tool: "echo/echo", decision: ask, reason: "IT reviews every echo" }\n');
    gateway = await startHttpGateway(config.dir);
    client = await gateway.connect();
    // Approved "always" through the real queue, from another process.
    const call = client.callTool({ name: 'echo__echo', arguments: { message: 'always-1' } });
    const id = await pendingApprovalId(config.dir, 'always-1');
    const approved = await runMcpgate(['approve', id, '--always', '--config', config.dir]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(textOf(await call)).toBe('always-1');
    expect(await decisionWithMessage(config.auditFile, 'always-1')).toMatchObject({ decision: 'allow', scope: 'always' });
    const text = await readFile(rulesFile, 'utf8');
    line = text.split('\n').findIndex((l) => l.includes('tool: echo__echo')) + 1;
    expect(line).toBeGreaterThan(0);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('the running gateway answers the next call from the entry', async () => {
    expect(textOf(await client.callTool({ name: 'echo__echo', arguments: { message: 'always-2' } }))).toBe('always-2');
    expect(await decisionWithMessage(config.auditFile, 'always-2')).toMatchObject({ decision: 'allow', scope: 'always', approval_channel: 'always' });
  });

  it('tools --json: the ask is answered allow by the entry, with file, line, client and time; other fields unchanged', async () => {
    const { code, tools } = await toolsJson(['--config', config.dir]);
    expect(code).toBe(0);
    const row = tools.find((t) => t.name === 'echo__echo');
    expect(row).toMatchObject({ decision: 'ask', decided_by: 'rule', rule: 'servers.d/echo.yaml tools.ask[0] (echo)', effective: 'allow', conditional: false, hidden: false });
    expect(row?.always).toEqual([
      { file: 'rules.d/approved.yaml', line, index: 0, client: 'mcpgate-test 1.0.0', approved_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), session: expect.any(String), applies: true },
    ]);
    const plain = tools.find((t) => t.name === 'echo__add');
    expect(plain).toMatchObject({ decision: 'allow', effective: 'allow' });
    expect(plain).not.toHaveProperty('always');
  });

  it('tools and check (text): "ask → allow (always: FILE:LINE, approved by … at …)"', async () => {
    const tools = await runMcpgate(['tools', '--config', config.dir]);
    expect(tools.code, tools.stderr).toBe(0);
    expect(tools.stdout).toMatch(/^echo__echo\s+ask → allow\s+servers\.d\/echo\.yaml tools\.ask\[0\] \(echo\)$/m);
    expect(tools.stdout).toMatch(new RegExp(`^ {4}ask → allow \\(always: rules\\.d/approved\\.yaml:${line}, approved by mcpgate-test 1\\.0\\.0 at \\d{4}-[^)]+\\)$`, 'm'));
    const check = await runMcpgate(['check', '--config', config.dir]);
    expect(check.code, check.stdout).toBe(0);
    expect(check.stdout).toMatch(new RegExp(`^always {3}echo__echo  ask → allow \\(always: rules\\.d/approved\\.yaml:${line}, approved by mcpgate-test 1\\.0\\.0 at `, 'm'));
    expect(check.stdout).toContain('configuration ok: 1 server(s)');
  });

  it('under a managed ask the entry does not apply: the CLI says why, and the gateway asks again', async () => {
    const { code, tools } = await toolsJson(['--config', config.dir, '--requirements', requirements]);
    expect(code).toBe(0);
    const row = tools.find((t) => t.name === 'echo__echo');
    expect(row).toMatchObject({ decision: 'ask', decided_by: 'managed', effective: 'ask' });
    expect(row?.always).toEqual([expect.objectContaining({ line, applies: false, why: 'a managed ask (requirements file) is never answered by "always"' })]);
    const check = await runMcpgate(['check', '--config', config.dir, '--requirements', requirements]);
    expect(check.code, check.stdout).toBe(0);
    expect(check.stdout).toContain(`always   echo__echo  "always" entry not applied (rules.d/approved.yaml:${line}, approved by mcpgate-test 1.0.0 at `);
    expect(check.stdout).toContain('): a managed ask (requirements file) is never answered by "always"');

    // The gateway agrees: with the requirements in force the call is queued for a person.
    await gateway?.close();
    gateway = await startHttpGateway(config.dir, ['--requirements', requirements]);
    const managed = await gateway.connect();
    const call = managed.callTool({ name: 'echo__echo', arguments: { message: 'always-managed' } });
    const id = await pendingApprovalId(config.dir, 'always-managed');
    expect((await runMcpgate(['deny', id, '--config', config.dir])).code).toBe(0);
    expect((await call).isError).toBe(true);
    expect(await decisionWithMessage(config.auditFile, 'always-managed')).toMatchObject({ decision: 'deny', decided_by: 'user', approval_channel: 'queue' });
  });

  it('a broken rules file: check and tools name file and line, still print the rest, and exit 1', async () => {
    const good = await readFile(rulesFile, 'utf8');
    try {
      await writeFile(rulesFile, `${good}    colour: red\n`);
      const brokenLine = good.split('\n').length;
      const check = await runMcpgate(['check', '--config', config.dir]);
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(/^ok {7}echo {2}\(stdio: node\) {2}sandbox: bwrap$/m);
      expect(check.stdout).toContain(`rules.d/approved.yaml:${brokenLine}: allow[0].colour: not a valid approved-rules file, so none of its entries apply: unknown field`);
      expect(check.stdout).not.toMatch(/^always /m);
      const { code, tools, problems } = await toolsJson(['--config', config.dir]);
      expect(code).toBe(1);
      expect(tools.find((t) => t.name === 'echo__echo')).toMatchObject({ decision: 'ask', effective: 'ask' });
      expect(problems).toEqual([expect.objectContaining({ file: 'rules.d/approved.yaml', line: brokenLine, severity: 'error' })]);
    } finally {
      await writeFile(rulesFile, good);
    }
  });
});

describe('"always" entries whose server field names no configured server', () => {
  it('the gateway matches entries by public name only, and check says the same (the entry applies)', async () => {
    // An entry recorded for a server since renamed (or hand-edited): the running gateway still
    // answers the tool's ask from it, so check must not call it "not applied".
    const config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow', ask: ['echo'] } }) } });
    try {
      await mkdir(join(config.dir, 'rules.d'), { recursive: true });
      await writeFile(join(config.dir, 'rules.d/approved.yaml'), 'allow:\n  - tool: echo__echo\n    server: old-echo\n');
      const stdio = await startStdioGateway(config.dir);
      try {
        expect(textOf(await stdio.client.callTool({ name: 'echo__echo', arguments: { message: 'renamed-always' } }))).toBe('renamed-always');
      } finally {
        await stdio.close();
      }
      expect(await decisionWithMessage(config.auditFile, 'renamed-always')).toMatchObject({ decision: 'allow', scope: 'always' });
      const check = await runMcpgate(['check', '--config', config.dir]);
      expect(check.code, check.stdout).toBe(0);
      expect(check.stdout).toMatch(/^always {3}echo__echo {2}ask → allow \(always: rules\.d\/approved\.yaml:2\)$/m);
      expect(check.stdout).not.toContain('not applied');
    } finally {
      await config.cleanup();
    }
  });
});

describe('"always" entries approved for a client with a hostile name', () => {
  it('tools and check print the client name with control characters escaped (no forged lines, no terminal escapes)', async () => {
    const config = await makeConfig({
      gateway: { approval: { channel: 'queue', timeout: '20s' } },
      servers: { echo: fixtureServer('echo', { tools: { default: 'allow', ask: ['echo'] } }) },
    });
    try {
      // clientInfo is whatever the client says: here a newline forging a line of check's output and an erase-line escape.
      const name = 'evil\nok       forged  (stdio: node)\u001b[2K';
      const stdio = await startStdioGateway(config.dir, {}, {}, { name, version: '1' });
      try {
        const call = stdio.client.callTool({ name: 'echo__echo', arguments: { message: 'hostile-always' } });
        const id = await pendingApprovalId(config.dir, 'hostile-always');
        const approved = await runMcpgate(['approve', id, '--always', '--config', config.dir]);
        expect(approved.code, approved.stderr).toBe(0);
        expect(textOf(await call)).toBe('hostile-always');
      } finally {
        await stdio.close();
      }
      const check = await runMcpgate(['check', '--config', config.dir]);
      expect(check.code, check.stdout).toBe(0);
      expect(check.stdout).toContain('approved by evil\\u000aok       forged  (stdio: node)\\u001b[2K 1 at ');
      expect(check.stdout).not.toMatch(/^ok {7}forged/m);
      expect(check.stdout).not.toContain('\u001b');
      const tools = await runMcpgate(['tools', '--config', config.dir]);
      expect(tools.code, tools.stderr).toBe(0);
      expect(tools.stdout).toContain('approved by evil\\u000aok       forged');
      expect(tools.stdout).not.toMatch(/^ok {7}forged/m);
      expect(tools.stdout).not.toContain('\u001b');
    } finally {
      await config.cleanup();
    }
  });
});
