/**
 * `printf '<requests>' | mcpgate serve`: a client that writes its requests and closes stdin at
 * once still gets every answer (a slow tool call included), and the gateway then exits.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureServer, MAIN, makeConfig, type TempConfig } from '../support/gateway.js';

describe('stdin closed with requests in flight', () => {
  let config: TempConfig | undefined;
  afterEach(() => config?.cleanup());

  it('answers them, then exits', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    const child = spawn(process.execPath, [MAIN, 'serve', '--config', config.dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const lines = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'piped', version: '1' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo__slow', arguments: { ms: 400 } } },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo__echo', arguments: { message: 'still here' } } },
    ];
    child.stdin.end(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const answers = out.trim().split('\n').map((line) => JSON.parse(line) as { id?: number; result?: { content?: Array<{ text?: string }>; isError?: boolean } });
    const responses = answers.filter((a) => a.id !== undefined); // list_changed notifications may come too
    expect(responses.map((a) => a.id).sort(), `stdout: ${out}\nstderr: ${err}`).toEqual([1, 2, 3]);
    expect(answers.find((a) => a.id === 3)?.result?.content?.[0]?.text).toContain('still here');
    expect(answers.find((a) => a.id === 2)?.result?.isError).not.toBe(true);
    expect(code).toBe(0);
  });
});
