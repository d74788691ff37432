/**
 * The repo's own servers.d (what `npm start` serves): it validates, and its three real servers
 * start and show the policy the README describes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MAIN, REPO } from '../support/gateway.js';

const run = promisify(execFile);

describe('bundled servers.d', () => {
  it('passes mcpgate check', async () => {
    const { stdout } = await run(process.execPath, [MAIN, 'check', '--config', REPO]);
    expect(stdout).toMatch(/^ok\s+everything/m);
    expect(stdout).toMatch(/^ok\s+memory/m);
    expect(stdout).toMatch(/^ok\s+notes/m);
  });

  it('starts server-everything, server-memory and the notes fixture with the documented decisions', async () => {
    const { stdout } = await run(process.execPath, [MAIN, 'tools', '--config', REPO, '--json'], { timeout: 60_000 });
    const { tools, servers } = JSON.parse(stdout) as { tools: Array<Record<string, unknown>>; servers: Array<{ server: string; state: string }> };
    expect(servers.map((s) => [s.server, s.state]).sort()).toEqual([['everything', 'ready'], ['memory', 'ready'], ['notes', 'ready']]);
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
});
