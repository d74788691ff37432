/**
 * The README's way to poke at a gateway: the MCP Inspector's CLI mode, as a separate process,
 * lists the namespaced tools and calls one — over stdio (Inspector spawns the gateway) and HTTP.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, MAIN, makeConfig, REPO, startHttpGateway, type HttpGateway, type TempConfig } from '../support/gateway.js';

const run = promisify(execFile);
const INSPECTOR = join(REPO, 'node_modules/@modelcontextprotocol/inspector/cli/build/cli.js');

describe('MCP Inspector CLI against the gateway', () => {
  let config: TempConfig;
  let http: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    http = await startHttpGateway(config.dir);
  });

  afterAll(async () => {
    await http?.close();
    await config?.cleanup();
  });

  const inspector = async (args: string[]) => {
    const { stdout } = await run(process.execPath, [INSPECTOR, '--cli', ...args], { timeout: 60_000 });
    return JSON.parse(stdout) as Record<string, unknown>;
  };

  it('lists the namespaced tools over stdio', async () => {
    const out = await inspector(['--method', 'tools/list', '--', process.execPath, MAIN, 'serve', '--config', config.dir]);
    const names = (out.tools as Array<{ name: string }>).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['echo__echo', 'echo__add']));
  });

  it('calls a tool over stdio', async () => {
    const out = await inspector([
      // --tool-arg is variadic: it goes before the other options, or it swallows them
      '--tool-arg', 'message=from the inspector', '--method', 'tools/call', '--tool-name', 'echo__echo',
      '--', process.execPath, MAIN, 'serve', '--config', config.dir,
    ]);
    expect(JSON.stringify(out.content)).toContain('from the inspector');
  });

  it('lists and calls over Streamable HTTP', async () => {
    const list = await inspector([http.url.href, '--transport', 'http', '--method', 'tools/list']);
    expect((list.tools as Array<{ name: string }>).map((t) => t.name)).toContain('echo__echo');
    const call = await inspector([http.url.href, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'echo__add', '--tool-arg', 'a=2', 'b=3']);
    expect(JSON.stringify(call)).toContain('5');
  });
});
