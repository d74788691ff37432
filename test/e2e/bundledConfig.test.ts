/**
 * The repo's own servers.d (what `npm start` serves): it validates, and its three real servers
 * start sandboxed and show the policy the README describes.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { MAIN, REPO, readAudit, startStdioGateway, textOf, waitForTools } from '../support/gateway.js';
import { visibleScratch } from '../support/sandbox.js';

const run = promisify(execFile);

describe('bundled servers.d', () => {
  it('passes mcpgate check', async () => {
    const { stdout } = await run(process.execPath, [MAIN, 'check', '--config', REPO]);
    expect(stdout).toMatch(/^ok\s+everything .*sandbox: bwrap$/m);
    expect(stdout).toMatch(/^ok\s+memory .*sandbox: bwrap$/m);
    expect(stdout).toMatch(/^ok\s+notes .*sandbox: bwrap$/m);
  });

  it('starts server-everything, server-memory and the notes fixture with the documented decisions', async () => {
    const { stdout } = await run(process.execPath, [MAIN, 'tools', '--config', REPO, '--json'], { timeout: 60_000 });
    const { tools, servers } = JSON.parse(stdout) as { tools: Array<Record<string, unknown>>; servers: Array<{ server: string; state: string; sandbox: string }> };
    expect(servers.map((s) => [s.server, s.state, s.sandbox]).sort()).toEqual([['everything', 'ready', 'bwrap'], ['memory', 'ready', 'bwrap'], ['notes', 'ready', 'bwrap']]);
    const row = (name: string) => tools.find((t) => t.name === name);
    expect(row('everything__echo')).toMatchObject({ decision: 'allow' });
    expect(row('everything__get-env')).toMatchObject({ decision: 'deny', hidden: true, reason: "prints the server's whole environment" });
    expect(row('memory__read_graph')).toMatchObject({ decision: 'allow' });
    expect(row('memory__create_entities')).toMatchObject({ decision: 'ask' });
    expect(row('memory__delete_entities')).toMatchObject({ decision: 'deny', hidden: true });
    expect(row('notes__add_note')).toMatchObject({ decision: 'allow', conditional: true });
    expect(row('notes__delete_note')).toMatchObject({ decision: 'ask' });
    // As the README's table says: read-like tools run, the trigger-* demos ask first.
    expect(row('everything__get-sum')).toMatchObject({ decision: 'allow' });
    expect(row('everything__trigger-long-running-operation')).toMatchObject({ decision: 'ask' });
    expect(row('everything__trigger-sampling-request')).toMatchObject({ decision: 'ask' });
    expect(row('notes__list_notes')).toMatchObject({ decision: 'allow' });
  });

  it('serves them sandboxed: memory writes its graph into its allowWrite directory under HOME', async () => {
    const scratch = await visibleScratch();
    const home = join(scratch.dir, 'home');
    const dir = join(scratch.dir, 'config');
    await mkdir(home);
    await mkdir(join(dir, 'servers.d'), { recursive: true });
    // the bundled files as they are, run from the repo (their relative paths are the repo's)
    for (const name of await readdir(join(REPO, 'servers.d'))) {
      await writeFile(join(dir, 'servers.d', name), `${await readFile(join(REPO, 'servers.d', name), 'utf8')}cwd: ${JSON.stringify(REPO)}\n`);
    }
    const gateway = await startStdioGateway(dir, { capabilities: { elicitation: {} } }, { HOME: home });
    try {
      gateway.client.setRequestHandler(ElicitRequestSchema, async (): Promise<ElicitResult> => ({ action: 'accept', content: { decision: 'once' } }));
      await waitForTools(gateway.client, ['everything__echo', 'memory__create_entities', 'notes__add_note']);
      expect(textOf(await gateway.client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } }))).toContain('hi');
      expect(textOf(await gateway.client.callTool({ name: 'notes__add_note', arguments: { title: 'a', text: 'b' } }))).toMatch(/^added note /);
      const created = await gateway.client.callTool({ name: 'memory__create_entities', arguments: { entities: [{ name: 'sandboxed', entityType: 'test', observations: ['written from bwrap'] }] } });
      expect(created.isError).not.toBe(true);
      expect(await readFile(join(home, '.mcpgate-memory', 'memory.jsonl'), 'utf8')).toContain('written from bwrap');
      const states = (await readAudit(join(dir, 'mcpgate-audit.log'))).filter((r) => r.event === 'mcpgate.upstream.state' && r.state === 'ready');
      expect(states.map((r) => [r.server, r.sandbox]).sort()).toEqual([['everything', 'bwrap'], ['memory', 'bwrap'], ['notes', 'bwrap']]);
    } finally {
      await gateway.close();
      await scratch.cleanup();
    }
  });
});
