/**
 * Managed allow-list identity on real processes: where relative paths point. The same command
 * line (`node --import tsx test/fixtures/servers/echo.ts`) is allowed in the repo but, run from
 * another directory holding its own `test/fixtures/servers/echo.ts`, is another program: the
 * gateway leaves that server out (it never starts) with a message naming the file, the server
 * and its cwd, while the allowed one serves. A server without `cwd` (runs in the config dir) and a
 * URL whose path holds a reference are refused the same way; `mcpgate check` shows every refusal.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfig, REPO, runMcpgate, startStdioGateway, textOf, waitFor, waitForTools, writeRequirements, type StdioGateway, type TempConfig } from '../support/gateway.js';

const ECHO = ['--import', 'tsx', 'test/fixtures/servers/echo.ts'];

describe('managed allow-list: a relative path is matched with the cwd it resolves against', () => {
  let config: TempConfig;
  let elsewhere: string;
  let marker: string;
  let requirementsFile: string;
  let gateway: StdioGateway;

  beforeAll(async () => {
    // another directory with its own test/fixtures/servers/echo.ts, which leaves a marker when run
    elsewhere = await mkdtemp(join(tmpdir(), 'mcpgate-elsewhere-'));
    marker = join(elsewhere, 'ran.txt');
    await mkdir(join(elsewhere, 'test/fixtures/servers'), { recursive: true });
    await symlink(join(REPO, 'node_modules'), join(elsewhere, 'node_modules'));
    await writeFile(join(elsewhere, 'test/fixtures/servers/echo.ts'), `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\n`);
    // control: that command line in that directory really runs the other file
    const control = spawnSync(process.execPath, ECHO, { cwd: elsewhere, encoding: 'utf8', timeout: 30_000 });
    if (!existsSync(marker)) throw new Error(`control run did not run the other echo.ts (status ${control.status}): ${control.stderr}`);
    await rm(marker);

    config = await makeConfig({
      servers: {
        echo: { command: 'node', args: ECHO, cwd: REPO, tools: { allow: ['echo'] } },
        impostor: { command: 'node', args: ECHO, cwd: elsewhere, tools: { default: 'allow' } },
        nocwd: { command: 'node', args: ECHO, tools: { default: 'allow' } },
        remote: { url: 'http://127.0.0.1:9/v1/${env:MCPGATE_TEST_PATH}' },
      },
    });
    requirementsFile = await writeRequirements(config.dir, {
      servers: {
        allow: [
          { command: 'node', args: ['--import', 'tsx', 'test/fixtures/servers/*.ts'], cwd: REPO },
          { url: 'http://127.0.0.1:*/v1/*' },
        ],
      },
    });
    gateway = await startStdioGateway(config.dir, {}, { MCPGATE_REQUIREMENTS: requirementsFile, MCPGATE_TEST_PATH: '../admin' });
    await waitForTools(gateway.client, ['echo__echo']);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
    if (elsewhere) await rm(elsewhere, { recursive: true, force: true });
  });

  it('serves the allowed server and leaves out the same command line run from elsewhere, which never starts', async () => {
    const result = await gateway.client.callTool({ name: 'echo__echo', arguments: { message: 'from the repo' } });
    expect(textOf(result)).toBe('from the repo');
    const names = (await gateway.client.listTools()).tools.map((t) => t.name);
    expect(names.filter((n) => /^(impostor|nocwd|remote)__/.test(n))).toEqual([]);
    await waitFor(() => gateway.stderr().includes('server \\"impostor\\" refused'), 10_000, () => `refusal in stderr:\n${gateway.stderr()}`);
    expect(gateway.stderr()).toContain(`its cwd ${elsewhere} is not one servers.allow[0] accepts (cwd: ${REPO})`);
    expect(gateway.stderr()).toContain(`its cwd ${config.dir} is not one servers.allow[0] accepts`);
    expect(gateway.stderr()).toContain('server \\"remote\\" refused: its URL path holds a ${…} reference (resolved only at start)');
    expect(existsSync(marker)).toBe(false);
  });

  it('check --requirements prints each refusal with file, field and why, and exits 1', async () => {
    const out = await runMcpgate(['check', '--config', config.dir, '--requirements', requirementsFile]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^ok\s+echo/m);
    expect(out.stdout).toContain(
      `servers.d/impostor.yaml:6: cwd: server "impostor" refused: its cwd ${elsewhere} is not one servers.allow[0] accepts (cwd: ${REPO}); its identity (stdio: node --import tsx test/fixtures/servers/echo.ts (cwd ${elsewhere})) is not on the managed allow-list in ${requirementsFile} (servers.allow)`,
    );
    expect(out.stdout).toContain(`servers.d/nocwd.yaml: cwd: server "nocwd" refused: its cwd ${config.dir} is not one servers.allow[0] accepts`);
    expect(out.stdout).toContain('servers.d/remote.yaml:1: url: server "remote" refused: its URL path holds a ${…} reference (resolved only at start), which can move it off the path servers.allow[1] names (http://127.0.0.1:*/v1/*)');
    expect(existsSync(marker)).toBe(false);
  });
});
