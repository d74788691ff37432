/**
 * A call waiting in the approval queue is visible: the gateway logs one line with the exact
 * commands that answer it, a client that gave a progress token hears "waiting for approval …"
 * while it waits, and `mcpgate approvals --watch` (a real process, read line by line) shows each
 * call as it joins and leaves the queue, and ends on Ctrl-C.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, MAIN, makeConfig, pendingApproval, runMcpgate, startHttpGateway, textOf, waitFor, type HttpGateway, type TempConfig } from '../support/gateway.js';

describe('a waiting approval is visible', () => {
  let config: TempConfig;
  let gateway: HttpGateway;
  let client: Client;
  const watchers: ChildProcess[] = [];

  beforeAll(async () => {
    config = await makeConfig({ gateway: { approval: { timeout: '60s' } }, servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'] } }) } });
    gateway = await startHttpGateway(config.dir, [], { MCPGATE_LOG_LEVEL: 'info' });
    client = await gateway.connect();
  });

  afterAll(async () => {
    for (const watcher of watchers) if (watcher.exitCode === null) watcher.kill('SIGKILL');
    await gateway?.close();
    await config?.cleanup();
  });

  it('logs the approve and deny commands, and tells a client with a progress token every few seconds', async () => {
    const progress: Progress[] = [];
    const call = client.callTool({ name: 'echo__echo', arguments: { message: 'visible-1' } }, CallToolResultSchema, { onprogress: (p) => progress.push(p), timeout: 60_000 });
    const { id } = await pendingApproval(config.dir, 'visible-1');
    const approve = `mcpgate approve ${id} --config ${config.dir}`;
    await waitFor(() => gateway.stderr().includes(approve), 10_000, () => `the log line naming ${approve}: ${gateway.stderr()}`);
    const line = gateway.stderr().split('\n').find((l) => l.includes(approve)) as string;
    expect(JSON.parse(line)).toMatchObject({ level: 30, approval: id, tool: 'echo__echo', client: 'mcpgate-test' });
    expect(line).toContain(`approval needed for echo__echo(message=\\"visible-1\\"); to answer: ${approve}  (or: mcpgate deny ${id} --config ${config.dir})`);
    // The first at once, the next some seconds later.
    await waitFor(() => progress.length >= 2, 15_000, () => `two progress notifications, have ${JSON.stringify(progress)}`);
    expect(progress[0]).toMatchObject({ progress: 1, message: expect.stringMatching(new RegExp(`^waiting for approval \\(\\d+s\\): ${approve.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`)) });
    expect(progress[1]?.progress).toBe(2);
    expect((await runMcpgate(['approve', id, '--config', config.dir])).code).toBe(0);
    expect(textOf(await call)).toBe('visible-1');
    const after = progress.length;
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(progress).toHaveLength(after); // no more once answered
  });

  it('approvals --watch prints each call as it joins and leaves the queue, and exits 0 on Ctrl-C', async () => {
    const watcher = spawn(process.execPath, [MAIN, 'approvals', '--watch', '--config', config.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    watchers.push(watcher);
    let out = '';
    watcher.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor(() => out.startsWith(`watching the approval queue of ${config.dir} (Ctrl-C to stop)\n`), 15_000, () => `the watch header: ${out}`);
    const call = client.callTool({ name: 'echo__echo', arguments: { message: 'watched-1' } }, CallToolResultSchema, { timeout: 60_000 });
    await waitFor(() => out.includes('+ '), 15_000, () => `an added line: ${out}`);
    const added = /\+ ([0-9a-f]{8})  echo__echo  client mcpgate-test 1\.0\.0  session [0-9a-f]{8}  message="watched-1"\n {4}mcpgate approve \1 --config (\S+)   \|   mcpgate deny \1 --config \2\n/.exec(out);
    expect(added, out).not.toBeNull();
    const id = added?.[1] as string;
    expect((await runMcpgate(['deny', id, '--config', config.dir])).code).toBe(0);
    await call;
    await waitFor(() => out.includes(`- ${id}  echo__echo  no longer pending`), 15_000, () => `the removed line: ${out}`);
    const exited = new Promise<number | null>((resolve) => watcher.once('exit', (code) => resolve(code)));
    watcher.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
