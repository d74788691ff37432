/**
 * Configuration reload while serving (src/reload): real gateway processes, real clients connected
 * throughout, servers.d edited on disk (in place and by rename, as editors do), and SIGHUP.
 */
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  fixtureServer,
  makeConfig,
  readAudit,
  runMcpgate,
  startHttpGateway,
  startStdioGateway,
  textOf,
  waitFor,
  waitForAudit,
  waitForTools,
  type AuditRecord,
  type HttpGateway,
  type StdioGateway,
  type TempConfig,
} from '../support/gateway.js';

const allowAll = { tools: { default: 'allow' } };

/** Writes a servers.d file the way editors do: a temp file renamed over the old one. */
async function renameWrite(dir: string, name: string, body: Record<string, unknown>): Promise<void> {
  const file = join(dir, 'servers.d', `${name}.yaml`);
  await writeFile(`${file}.tmp~`, stringify(body));
  await rename(`${file}.tmp~`, file);
}

async function writeServer(dir: string, name: string, body: Record<string, unknown> | string): Promise<void> {
  await writeFile(join(dir, 'servers.d', `${name}.yaml`), typeof body === 'string' ? body : stringify(body));
}

const changes = (records: AuditRecord[]) => records.filter((r) => r.event === 'mcpgate.config.change');

/** The echo fixture's call counter: it keeps counting while the process lives, and starts over in a new one. */
async function callsSoFar(client: Client, tool = 'echo__stats'): Promise<number> {
  const result = await client.callTool({ name: tool, arguments: {} });
  return (result.structuredContent as { calls: number }).calls;
}

/** Counts tools/list_changed notifications a client receives. */
function countListChanges(client: Client): () => number {
  let count = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    count++;
  });
  return () => count;
}

describe('configuration reload', () => {
  let config: TempConfig | undefined;
  let http: HttpGateway | undefined;
  let stdio: StdioGateway | undefined;
  afterEach(async () => {
    await stdio?.close();
    await http?.close();
    await config?.cleanup();
    stdio = http = config = undefined;
  });

  it('adds and removes servers under a connected HTTP client: list_changed, the new tool works, the removed one finishes its call in flight', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', allowAll), gone: fixtureServer('echo', allowAll) } });
    http = await startHttpGateway(config.dir);
    const client = await http.connect();
    const listChanges = countListChanges(client);
    await waitForTools(client, ['echo__echo', 'gone__slow']);
    const inFlight = client.callTool({ name: 'gone__slow', arguments: { ms: 2500 } });
    await waitFor(async () => (await readAudit(config!.auditFile)).some((r) => r.event === 'mcpgate.tool.decision' && r.public_name === 'gone__slow'));

    await writeServer(config.dir, 'added', fixtureServer('echo', allowAll));
    await rm(join(config.dir, 'servers.d', 'gone.yaml'));

    const records = await waitForAudit(config.auditFile, (rs) => changes(rs).length > 0, 20_000);
    expect(changes(records)).toEqual([
      expect.objectContaining({ trigger: 'watch', generation: 1, added: ['added'], removed: ['gone'], restarted: [], failed: [], files: ['servers.d/added.yaml', 'servers.d/gone.yaml'] }),
    ]);
    expect(changes(records)[0]?.config_digest).toMatch(/^sha256:/);
    // the call in flight on the removed server completes
    expect(textOf(await inFlight)).toBe('done');
    await waitFor(() => listChanges() > 0, 10_000, () => 'tools/list_changed');
    const tools = (await waitForTools(client, ['added__echo'])).map((t) => t.name);
    expect(tools).not.toContain('gone__slow');
    expect(textOf(await client.callTool({ name: 'added__echo', arguments: { message: 'new' } }))).toBe('new');
    // the same session served all along
    expect(textOf(await client.callTool({ name: 'echo__echo', arguments: { message: 'still here' } }))).toBe('still here');
    const after = await readAudit(config.auditFile);
    expect(after.filter((r) => r.event === 'mcpgate.session.start')).toHaveLength(1);
    expect(after.filter((r) => r.event === 'mcpgate.session.end')).toHaveLength(0);
    await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.upstream.state' && r.server === 'gone' && r.state === 'stopped'));
    // the removed server takes no new call
    const refused = await client.callTool({ name: 'gone__echo', arguments: { message: 'x' } }).catch((error: Error) => error);
    expect(String((refused as Error).message ?? textOf(refused))).toMatch(/Unknown tool|unknown tool/);
  });

  it('a stdio client hears list_changed and uses a server added while it is connected', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', allowAll) } });
    stdio = await startStdioGateway(config.dir);
    const listChanges = countListChanges(stdio.client);
    await waitForTools(stdio.client, ['echo__echo']);
    await renameWrite(config.dir, 'second', fixtureServer('echo', allowAll));
    await waitFor(() => listChanges() > 0, 20_000, () => `tools/list_changed; stderr: ${stdio?.stderr()}`);
    await waitForTools(stdio.client, ['second__echo']);
    expect(textOf(await stdio.client.callTool({ name: 'second__echo', arguments: { message: 'via stdio' } }))).toBe('via stdio');
  });

  it('a policy edit applies to the next call in the same upstream process', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', allowAll) } });
    http = await startHttpGateway(config.dir);
    const client = await http.connect();
    await waitForTools(client, ['echo__echo']);
    expect(textOf(await client.callTool({ name: 'echo__echo', arguments: { message: 'before' } }))).toBe('before');
    const callsBefore = await callsSoFar(client);

    await renameWrite(config.dir, 'echo', fixtureServer('echo', { tools: { default: 'allow', deny: ['echo'] }, timeout: '45s' }));
    const records = await waitForAudit(config.auditFile, (rs) => changes(rs).length > 0, 20_000);
    expect(changes(records)[0]).toEqual(expect.objectContaining({ reconfigured: ['echo'], restarted: [], added: [], removed: [], rules_changed: true }));

    const denied = await client.callTool({ name: 'echo__echo', arguments: { message: 'after' } });
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toMatch(/denied/i);
    // same process: its call counter went on (stats + the denied call never reached it)
    expect(await callsSoFar(client)).toBe(callsBefore + 1);
    const starts = (await readAudit(config.auditFile)).filter((r) => r.event === 'mcpgate.upstream.state' && r.server === 'echo' && r.state === 'starting');
    expect(starts).toHaveLength(1);
  });

  it('a changed command line restarts the server (a new process) without dropping the session', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', allowAll) } });
    http = await startHttpGateway(config.dir);
    const client = await http.connect();
    await waitForTools(client, ['echo__echo']);
    await client.callTool({ name: 'echo__echo', arguments: { message: 'a' } });
    expect(await callsSoFar(client)).toBe(2);

    await writeServer(config.dir, 'echo', fixtureServer('echo', { ...allowAll, env: { FIXTURE_MARK: 'second' } }));
    const records = await waitForAudit(config.auditFile, (rs) => changes(rs).length > 0, 20_000);
    expect(changes(records)[0]).toEqual(expect.objectContaining({ restarted: ['echo'], reconfigured: [], failed: [] }));
    expect(await callsSoFar(client)).toBe(1); // a fresh process counts from zero
    expect(textOf(await client.callTool({ name: 'echo__echo', arguments: { message: 'b' } }))).toBe('b');
  });

  it('a broken edit keeps the last good version running and names file:line', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', allowAll) } });
    http = await startHttpGateway(config.dir);
    const client = await http.connect();
    await waitForTools(client, ['echo__echo']);
    const callsBefore = await callsSoFar(client);

    await writeServer(config.dir, 'echo', `command: node\nargs: [x]\ncomand: typo\n`);
    const records = await waitForAudit(config.auditFile, (rs) => changes(rs).length > 0, 20_000);
    const change = changes(records)[0] as AuditRecord;
    expect(change).toEqual(expect.objectContaining({ failed: ['echo'], failed_files: ['servers.d/echo.yaml'], removed: [], restarted: [], reconfigured: [] }));
    expect(change.errors).toEqual([expect.stringContaining('servers.d/echo.yaml:3: comand: unknown field')]);
    expect(http.stderr()).toContain('servers.d/echo.yaml:3');
    expect(textOf(await client.callTool({ name: 'echo__echo', arguments: { message: 'kept' } }))).toBe('kept');
    expect(await callsSoFar(client)).toBe(callsBefore + 2);
  });

  it('SIGHUP reloads (with file watching off) and the gateway keeps serving', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', allowAll) }, gateway: { reload: { watch: false } } });
    http = await startHttpGateway(config.dir);
    const client = await http.connect();
    await waitForTools(client, ['echo__echo']);
    await writeServer(config.dir, 'second', fixtureServer('echo', allowAll));
    http.process.kill('SIGHUP');
    const records = await waitForAudit(config.auditFile, (rs) => changes(rs).length > 0, 20_000);
    expect(changes(records)[0]).toEqual(expect.objectContaining({ trigger: 'signal', generation: 1, added: ['second'] }));
    await waitForTools(client, ['second__echo']);
    expect(textOf(await client.callTool({ name: 'second__echo', arguments: { message: 'hup' } }))).toBe('hup');
    expect(http.process.exitCode).toBeNull();
    // mcpgate status and /healthz show the generation the reload made
    const status = await runMcpgate(['status', '--config', config.dir, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { gateways: { reload_generation: number }[] }).gateways[0]?.reload_generation).toBe(1);
    expect(((await (await fetch(`http://127.0.0.1:${http.port}/healthz`)).json()) as { generation?: number }).generation).toBe(1);
  });
});

describe('mcpgate check against a running gateway', () => {
  let config: TempConfig | undefined;
  let http: HttpGateway | undefined;
  afterEach(async () => {
    await http?.close();
    await config?.cleanup();
  });

  it('says what a reload of the files as they are now would do', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', allowAll), policy: fixtureServer('echo', allowAll), gone: fixtureServer('echo', allowAll) }, gateway: { reload: { watch: false } } });
    http = await startHttpGateway(config.dir);
    const pid = http.process.pid;
    const unchanged = await runMcpgate(['check', '--config', config.dir]);
    expect(unchanged.stdout).toContain(`reload   gateway pid ${pid} (generation 0): runs these files; a reload would change nothing`);

    await writeServer(config.dir, 'echo', fixtureServer('echo', { ...allowAll, env: { FIXTURE_MARK: 'x' } }));
    await writeServer(config.dir, 'policy', fixtureServer('echo', { tools: { default: 'deny' } }));
    await writeServer(config.dir, 'added', fixtureServer('echo', allowAll));
    await rm(join(config.dir, 'servers.d', 'gone.yaml'));
    const changed = await runMcpgate(['check', '--config', config.dir]);
    expect(changed.stdout).toContain(`reload   gateway pid ${pid} (generation 0): a reload would start added; stop gone; restart echo; reconfigure (same process) policy; change the rules\n`);

    await writeServer(config.dir, 'policy', 'command: node\ncomand: typo\n');
    const broken = await runMcpgate(['check', '--config', config.dir]);
    expect(broken.stdout).toContain('keep the last good version of policy (its file has errors)');
    expect(broken.stdout).not.toContain('stop gone, policy');
  });
});
