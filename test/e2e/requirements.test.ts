/**
 * Managed requirements on real processes: a requirements file that denies or asks what the user's
 * servers.d allows (observed on real calls and in the audit log with decided_by managed), a server
 * whose identity is not on the managed allow-list refused while the others serve, forced audit
 * settings, a broken requirements file refusing to start, and check/tools showing the overrides.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  everythingServer,
  fixtureServer,
  makeConfig,
  runMcpgate,
  startHttpGateway,
  startStdioGateway,
  textOf,
  waitFor,
  waitForAudit,
  waitForTools,
  type AuditRecord,
  type StdioGateway,
  type TempConfig,
} from '../support/gateway.js';

const mcpgate = runMcpgate;

const REQUIREMENTS = {
  rules: [
    { tool: 'echo/add', decision: 'deny', reason: 'arithmetic is reserved to the finance team' },
    { tool: 'notes/add_note', decision: 'ask' },
    { tool: 'echo/echo', decision: 'deny', args: { message: '*secret*' } },
  ],
  servers: {
    allow: [
      // the fixtures as fixtureServer runs them: compiled to test/fixtures/servers/built/NAME-HASH/NAME.js
      { command: 'node', args: ['*/test/fixtures/servers/built/echo-*/echo.js'] },
      { command: 'node', args: ['*/test/fixtures/servers/built/notes-*/notes.js', '**'] },
    ],
  },
  approval: { minTimeout: '30s', allowAlways: false },
  audit: { arguments: 'hash' },
};

describe('managed requirements', () => {
  let config: TempConfig;
  let requirementsFile: string;
  let gateway: StdioGateway;
  let client: Client;

  beforeAll(async () => {
    config = await makeConfig({
      // no approval channel: a managed ask is denied at once (with a channel it would wait ≥ 30 s)
      gateway: { approval: { timeout: '5s', channel: 'none' }, audit: { arguments: 'full' } },
      servers: {
        echo: fixtureServer('echo', { tools: { allow: ['echo', 'add', 'fail'] } }),
        notes: fixtureServer('notes', { tools: { default: 'allow' } }),
        // not on the allow-list: whatever its name, its command line is not an allowed one
        rogue: everythingServer({ tools: { default: 'allow' } }),
      },
    });
    requirementsFile = join(config.dir, 'requirements.yaml');
    await writeFile(requirementsFile, stringify(REQUIREMENTS));
    // $MCPGATE_REQUIREMENTS names the file here; --requirements is used by the other tests
    gateway = await startStdioGateway(config.dir, {}, { MCPGATE_REQUIREMENTS: requirementsFile });
    client = gateway.client;
    await waitForTools(client, ['echo__echo', 'notes__list_notes']);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  async function decisionFor(name: string, predicate: (r: AuditRecord) => boolean = () => true): Promise<AuditRecord> {
    const records = await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.tool.decision' && r.public_name === name && predicate(r)));
    return records.filter((r) => r.event === 'mcpgate.tool.decision' && r.public_name === name && predicate(r)).at(-1) as AuditRecord;
  }

  it('refuses the server not on the managed allow-list with a clear message; the others serve', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('echo__echo');
    expect(names).toContain('notes__list_notes');
    expect(names.some((n) => n.startsWith('rogue__'))).toBe(false);
    await waitFor(() => gateway.stderr().includes('server \\"rogue\\" refused'), 10_000, () => `refusal in stderr:\n${gateway.stderr()}`);
    expect(gateway.stderr()).toContain(`is not on the managed allow-list in ${requirementsFile} (servers.allow)`);
  });

  it('a managed deny beats the servers.d allow: hidden, denied on call, decided_by managed in the audit log', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).not.toContain('echo__add');
    const result = await client.callTool({ name: 'echo__add', arguments: { a: 1, b: 2 } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('arithmetic is reserved to the finance team');
    const decision = await decisionFor('echo__add');
    expect(decision).toMatchObject({ decision: 'deny', decided_by: 'managed', reason: 'arithmetic is reserved to the finance team' });
    expect(String(decision.rule)).toBe(`${requirementsFile} rules[0] (echo/add)`);
    // forced audit setting: arguments are hashed although gateway.yaml says full
    expect(decision.arguments).toBeUndefined();
    expect(decision.arguments_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a managed ask beats the user allow (no approval channel here: the call does not run)', async () => {
    const result = await client.callTool({ name: 'notes__add_note', arguments: { title: 't', text: 'x' } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/was not run: approval required/);
    const decision = await decisionFor('notes__add_note');
    expect(decision).toMatchObject({ decision: 'deny', decided_by: 'managed', approval_channel: 'none' });
    expect(String(decision.rule)).toContain('rules[1] (notes/add_note)');
    const notes = await client.callTool({ name: 'notes__list_notes', arguments: {} });
    expect(textOf(notes)).not.toContain('"t"'); // nothing was added
  });

  it('managed argument rules apply per call; user allows still run', async () => {
    const ok = await client.callTool({ name: 'echo__echo', arguments: { message: 'hello' } });
    expect(textOf(ok)).toBe('hello');
    expect(await decisionFor('echo__echo', (r) => r.decision === 'allow')).toMatchObject({ decided_by: 'rule' });
    const denied = await client.callTool({ name: 'echo__echo', arguments: { message: 'my secret plan' } });
    expect(denied.isError).toBe(true);
    expect(await decisionFor('echo__echo', (r) => r.decision === 'deny')).toMatchObject({ decided_by: 'managed' });
  });

  it('check --requirements shows the file, the refused server and every user rule a managed rule overrides', async () => {
    const out = await mcpgate(['check', '--config', config.dir, '--requirements', requirementsFile]);
    expect(out.code).toBe(1); // the refused server is an error
    expect(out.stdout).toContain(`managed requirements: ${requirementsFile}`);
    expect(out.stdout).toMatch(/^ok\s+echo/m);
    expect(out.stdout).toMatch(/^error\s+rogue/m);
    expect(out.stdout).toContain('servers.d/rogue.yaml: server "rogue" refused: its identity (stdio: node ');
    expect(out.stdout).toMatch(/servers\.d\/echo\.yaml:\d+: tools\.allow\[1\]: managed: \S+requirements\.yaml rules\[0\] \(echo\/add: deny\) overrides this allow rule \(add\)/);
    expect(out.stdout).toMatch(/servers\.d\/notes\.yaml: tools\.default: managed: \S+ rules\[1\] \(notes\/add_note: ask\) overrides this allow default/);
    expect(out.stdout).toContain('gateway.yaml: approval.timeout: 5000 ms raised to the managed minimum 30000 ms');
    expect(out.stdout).toContain('gateway.yaml: audit.arguments: forced to hash by managed requirements');
  });

  it('tools --json --requirements marks managed decisions and the user decision they override', async () => {
    const out = await mcpgate(['tools', '--config', config.dir, '--json', '--requirements', requirementsFile]);
    const { tools, requirements } = JSON.parse(out.stdout) as { tools: Array<Record<string, unknown>>; requirements: string };
    expect(requirements).toBe(requirementsFile);
    const row = (name: string) => tools.find((t) => t.name === name);
    expect(row('echo__add')).toMatchObject({
      decision: 'deny',
      decided_by: 'managed',
      rule: `managed: ${requirementsFile} rules[0] (echo/add)`,
      overrides: 'servers.d/echo.yaml tools.allow[1] (add) allow',
      hidden: true,
    });
    expect(row('notes__add_note')).toMatchObject({ decision: 'ask', decided_by: 'managed', overrides: 'default allow' });
    expect(row('echo__echo')).toMatchObject({ decision: 'allow', decided_by: 'rule', conditional: true });
    expect(tools.some((t) => String(t.name).startsWith('rogue__'))).toBe(false);
    const table = await mcpgate(['tools', '--config', config.dir, '--requirements', requirementsFile]);
    expect(table.stdout).toMatch(/echo__add \(hidden\)\s+deny\s+managed: \S+ rules\[0\] \(echo\/add\) \(overrides servers\.d\/echo\.yaml tools\.allow\[1\] \(add\) allow\)/);
    expect(table.stderr).toContain('server "rogue" refused');
  });

  it('a broken requirements file refuses to start, naming file:line: field (fail closed)', async () => {
    const broken = join(config.dir, 'broken-requirements.yaml');
    await writeFile(broken, 'rules:\n  - tool: "*/delete_*"\n    decision: allow\n');
    const out = await mcpgate(['serve', '--config', config.dir, '--requirements', broken]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`mcpgate: managed requirements ${broken} could not be loaded; refusing to start without enforcing them`);
    expect(out.stderr).toMatch(new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: rules\\[0\\]\\.decision: `));
    expect(out.stderr).not.toMatch(/\n\s+at /);
    await writeFile(broken, 'rules: [unclosed\n');
    const syntax = await mcpgate(['tools', '--config', config.dir], { MCPGATE_REQUIREMENTS: broken });
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toMatch(/syntax error/);
    const check = await mcpgate(['check', '--config', config.dir, '--requirements', broken]);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('(INVALID: mcpgate refuses to start)');
  });

  it('serve over HTTP with --requirements enforces the same floor', async () => {
    const http = await startHttpGateway(config.dir, ['--requirements', requirementsFile]);
    try {
      const httpClient = await http.connect();
      await waitForTools(httpClient, ['echo__echo']);
      const result = await httpClient.callTool({ name: 'echo__add', arguments: { a: 2, b: 2 } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain('finance team');
    } finally {
      await http.close();
    }
  });
});
