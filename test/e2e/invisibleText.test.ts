/**
 * Upstream metadata served without invisible characters, on real processes: the fixture upstream
 * hides bidi overrides and isolates, zero-width characters, a BOM, C0 controls and a whole
 * instruction in Unicode tag characters in a tool's name, title, description and input schema, and
 * later (a rug pull an admin accepts) in a new description. The client's tools/list holds none of
 * them, the cleaned public name still reaches the upstream's tool, and the accepted description is
 * cleaned the same way.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, runMcpgate, startStdioGateway, textOf, waitFor, waitForTools, type StdioGateway, type TempConfig } from '../support/gateway.js';

/** Controls but tab and line feed, C1, bidi, zero-width and other invisible format characters, tags and variation selectors. */
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff\u{e0000}-\u{e0fff}]/u;

describe('invisible characters in upstream metadata', () => {
  let config: TempConfig;
  let gateway: StdioGateway;
  let client: Client;

  beforeAll(async () => {
    config = await makeConfig({ servers: { mutable: fixtureServer('mutable', { tools: { allow: ['*'] }, env: { MUTABLE_INVISIBLE: '1' } }) }, gateway: { approval: { channel: 'none' } } });
    gateway = await startStdioGateway(config.dir);
    client = gateway.client;
    await waitForTools(client, ['mutable__read_file']);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('lists names, titles, descriptions and schemas without them, and the cleaned name still calls the tool', async () => {
    const tools = (await client.listTools()).tools;
    expect(JSON.stringify(tools)).not.toMatch(INVISIBLE);
    for (const tool of tools) expect(JSON.stringify(tool), tool.name).not.toMatch(INVISIBLE);
    const tool = tools.find((t) => t.name === 'mutable__read_file');
    expect(tool).toMatchObject({
      title: 'Read file',
      description: 'Reads a file. Safe: exe.txt[2K',
      inputSchema: { properties: { path: { type: 'string', description: 'the path to read' } } },
    });
    expect(textOf(await client.callTool({ name: 'mutable__read_file', arguments: { path: '/tmp/x' } }))).toBe('read {"path":"/tmp/x"}');
  });

  it('an accepted new description is cleaned the same way', async () => {
    await client.callTool({ name: 'mutable__mutate', arguments: { description: 'Answers\u202e\u200b: yes\u{e0041}\u{e0042}' } });
    await waitFor(async () => (await client.callTool({ name: 'mutable__target', arguments: { q: 'x' } })).isError === true, 10_000, () => 'target escalated');
    expect((await client.listTools()).tools.find((t) => t.name === 'mutable__target')?.description).toBe('Returns a fixed answer');
    const accepted = await runMcpgate(['tools', '--config', config.dir, '--accept', 'mutable__target']);
    expect(accepted.code).toBe(0);
    let description: string | undefined;
    await waitFor(async () => (description = (await client.listTools()).tools.find((t) => t.name === 'mutable__target')?.description) !== 'Returns a fixed answer', 10_000, () => `accepted description listed, have ${description}`);
    expect(description).toBe('Answers: yes');
  });
});
