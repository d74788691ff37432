/**
 * The README's "Add your own server" quickstart, exactly as shipped in examples/quickstart: the
 * real @modelcontextprotocol/server-filesystem (started by the config's own `npx -y …`, found in
 * this repo's node_modules rather than downloaded) behind a real gateway, with its deny rule
 * refusing writes outside work/drafts.
 */
import { access, cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runMcpgate, startStdioGateway, textOf, waitForAudit, waitForTools, type StdioGateway } from '../support/gateway.js';

describe('README quickstart: the filesystem server with a deny rule', () => {
  let dir: string;
  let gateway: StdioGateway;

  beforeAll(async () => {
    // under HOME, not the temp dir: the sandboxed server gets a private /tmp and must see its ./work
    const parent = await mkdtemp(join(homedir(), '.mcpgate-quickstart-'));
    dir = join(parent, 'my-gateway');
    await cp(join(REPO, 'examples/quickstart'), dir, { recursive: true });
    // What `npm install` gave this repo: npx resolves the server here instead of the registry.
    await symlink(join(REPO, 'node_modules'), join(parent, 'node_modules'));
    gateway = await startStdioGateway(dir);
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  const call = (name: string, args: Record<string, unknown>) => gateway.client.callTool({ name, arguments: args });

  it('the README shows the shipped server file as it is', async () => {
    const readme = await readFile(join(REPO, 'README.md'), 'utf8');
    const shown = /```yaml\n# ~\/my-gateway\/servers\.d\/files\.yaml[^\n]*\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(shown).toBeDefined();
    expect(parse(shown as string)).toEqual(parse(await readFile(join(REPO, 'examples/quickstart/servers.d/files.yaml'), 'utf8')));
  });

  it('check passes on the copied config', async () => {
    const out = await runMcpgate(['check', '--config', dir]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^ok\s+files\s+\(stdio: npx\)  sandbox: bwrap$/m);
  });

  it('lists the server\'s tools under the policy: reads and writes offered, moves hidden', async () => {
    const tools = await waitForTools(gateway.client, ['files__read_text_file', 'files__write_file', 'files__list_directory'], 90_000);
    const names = tools.map((t) => t.name);
    expect(names).not.toContain('files__move_file');
    expect(names).toContain('files__create_directory'); // not named: asks first
  });

  it('writes in work/drafts, and refuses a write anywhere else with the rule\'s reason', async () => {
    const draft = join(dir, 'work/drafts/hello.txt');
    expect(textOf(await call('files__write_file', { path: draft, content: 'hello from the agent' }))).toMatch(/Successfully wrote/);
    expect(await readFile(draft, 'utf8')).toBe('hello from the agent');
    for (const path of [join(dir, 'work/notes.txt'), join(dir, 'work/drafts/../notes.txt'), 'notes.txt']) {
      const refused = (await call('files__write_file', { path, content: 'x' })) as { isError?: boolean };
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toContain('write files only in work/drafts');
    }
    await expect(access(join(dir, 'work/notes.txt'))).rejects.toThrow();
    expect(textOf(await call('files__read_text_file', { path: join(dir, 'work/README.txt') }))).toContain('Quickstart notes');
    const records = await waitForAudit(join(dir, 'mcpgate-audit.log'), (rs) => rs.filter((r) => r.event === 'mcpgate.tool.decision' && r.decision === 'deny').length === 3);
    expect(records.find((r) => r.decision === 'deny')).toMatchObject({ public_name: 'files__write_file', decided_by: 'rule', reason: 'write files only in work/drafts' });
  });
});
