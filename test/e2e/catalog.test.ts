/**
 * The aggregated catalog seen by a real client: pagination on both sides, long names cut with a
 * stable hash, `prefix`, and a name collision under `prefix: ""` reported as a config error.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicName } from '../../src/catalog/names.js';
import { fixtureServer, MAIN, makeConfig, startStdioGateway, textOf, waitFor, type StdioGateway, type TempConfig } from '../support/gateway.js';

const run = promisify(execFile);

describe('catalog', () => {
  let config: TempConfig;
  let gateway: StdioGateway;
  let client: Client;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { catalog: { pageSize: 3 } },
      servers: {
        // the notes upstream pages its own tools/list two at a time
        notes: fixtureServer('notes', { env: { NOTES_PAGE_SIZE: '2' }, tools: { default: 'allow' } }),
        echo: fixtureServer('echo', { prefix: 'e', tools: { default: 'allow' } }),
        plain: fixtureServer('echo', { prefix: '', tools: { default: 'allow' } }),
        plain2: fixtureServer('echo', { prefix: '', tools: { default: 'allow' } }),
      },
    });
    gateway = await startStdioGateway(config.dir);
    client = gateway.client;
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  async function allTools(): Promise<{ names: string[]; pages: number }> {
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      pages++;
      names.push(...page.tools.map((t) => t.name));
      cursor = page.nextCursor;
    } while (cursor !== undefined && pages < 100);
    return { names, pages };
  }

  it('reads every upstream page and serves its own pages of pageSize', async () => {
    const { names, pages } = await allTools();
    expect(names).toEqual(expect.arrayContaining(['notes__list_notes', 'notes__register_tool', 'notes__log_message', 'e__echo', 'echo', 'add']));
    expect(pages).toBe(Math.ceil(names.length / 3));
    expect(new Set(names).size).toBe(names.length);
    await expect(client.listTools({ cursor: 'not-a-cursor' })).rejects.toThrow(/invalid cursor/);
  });

  it('applies prefix and exposes unprefixed names, keeping the first server on a collision', async () => {
    expect(textOf(await client.callTool({ name: 'e__echo', arguments: { message: 'prefixed' } }))).toBe('prefixed');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'unprefixed' } }))).toBe('unprefixed');
    // the log is JSON lines: quotes in the message are escaped
    await waitFor(() => gateway.stderr().includes('tool name \\"echo\\" is offered by both \\"plain\\" and \\"plain2\\"'), 5000, () => gateway.stderr());
    const { stdout, stderr } = await run(process.execPath, [MAIN, 'tools', '--config', config.dir]).catch((e) => e as { stdout: string; stderr: string });
    expect(stderr).toMatch(/name collision: tool "echo" from "plain2" left out \("plain" has it\)/);
    expect(stdout).toContain('e__echo');
  });

  it('cuts long public names to 64 characters with a stable hash suffix', async () => {
    const long = `tool_${'x'.repeat(70)}`;
    await client.callTool({ name: 'notes__register_tool', arguments: { name: long } });
    const expected = publicName('notes', long);
    expect(expected).toHaveLength(64);
    expect(expected).toBe(publicName('notes', long));
    await waitFor(async () => (await allTools()).names.includes(expected), 5000, () => expected);
    expect(textOf(await client.callTool({ name: expected, arguments: { a: 1 } }))).toBe('{"a":1}');
  });
});
