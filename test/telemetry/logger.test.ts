/**
 * The operational log's format: pretty, coloured lines on a terminal, JSON lines otherwise, and
 * `--log-format` / MCPGATE_LOG_FORMAT to choose. Selection is pure; the formats are checked on a
 * real `mcpgate serve` (a real terminal from util-linux `script`).
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logFormat } from '../../src/telemetry/logger.js';
import { fixtureServer, freePort, MAIN, makeConfig, waitFor, type TempConfig } from '../support/gateway.js';

describe('logFormat', () => {
  it('pretty on a terminal, JSON otherwise; the flag, then MCPGATE_LOG_FORMAT, decide first', () => {
    expect(logFormat(undefined, {}, true)).toBe('pretty');
    expect(logFormat(undefined, {}, false)).toBe('json');
    expect(logFormat('json', {}, true)).toBe('json');
    expect(logFormat('pretty', {}, false)).toBe('pretty');
    expect(logFormat(undefined, { MCPGATE_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat('pretty', { MCPGATE_LOG_FORMAT: 'json' }, false)).toBe('pretty');
    expect(() => logFormat('yaml', {}, true)).toThrow('--log-format must be pretty or json, not "yaml"');
    expect(() => logFormat(undefined, { MCPGATE_LOG_FORMAT: 'xml' }, true)).toThrow('MCPGATE_LOG_FORMAT must be pretty or json');
  });
});

describe('mcpgate serve logs', () => {
  let config: TempConfig;
  beforeAll(async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
  });
  afterAll(() => config?.cleanup());

  /** Runs `command` until its output holds `until`, then stops it; returns the output. */
  async function output(command: string, args: string[], until: RegExp): Promise<string> {
    const child = spawn(command, args, { env: { ...process.env, MCPGATE_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      await waitFor(() => until.test(out), 30_000, () => `${until} in: ${out}`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    return out;
  }

  const serve = async (...extra: string[]) => [MAIN, 'serve', '--config', config.dir, '--transport', 'http', '--port', String(await freePort()), ...extra];

  it('writes JSON lines to a pipe, and plain one-line entries with --log-format pretty', async () => {
    const json = await output(process.execPath, await serve(), /serving MCP on http/);
    const line = json.split('\n').find((l) => l.includes('serving MCP')) as string;
    expect(JSON.parse(line)).toMatchObject({ level: 30, name: 'mcpgate', msg: expect.stringMatching(/^mcpgate serving MCP on http:\/\/127\.0\.0\.1:\d+\/mcp$/) });

    const pretty = await output(process.execPath, await serve('--log-format', 'pretty'), /serving MCP on http/);
    const entry = pretty.split('\n').find((l) => l.includes('serving MCP')) as string;
    // Not a terminal: no colour codes.
    expect(entry).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: mcpgate serving MCP on http:\/\/127\.0\.0\.1:\d+\/mcp \{"config":"[^"]+","servers":1,"port":\d+\}$/);
  });

  it('on a terminal, coloured one-line entries by default', async () => {
    // util-linux `script` runs the gateway on a pseudo-terminal of its own.
    const args = (await serve()).map((a) => `'${a}'`).join(' ');
    const tty = await output('script', ['-qc', `'${process.execPath}' ${args}`, '/dev/null'], /serving MCP on http/);
    const entry = tty.split(/\r?\n/).find((l) => l.includes('serving MCP')) as string;
    expect(entry).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] \u001b\[32mINFO\u001b\[39m: \u001b\[36mmcpgate serving MCP on http:\/\/127\.0\.0\.1:\d+\/mcp\u001b\[39m/);
    expect(entry).not.toContain('"level"');
  });
});
