/**
 * Managed allow-list identity on real processes: the environment. The admin allows a Python
 * server and a Node server by command line; user server files for the same command lines set
 * variables that make the interpreter load planted code (HOME → a user site-packages with a .pth
 * file, PYTHONPATH → a sitecustomize.py, PATH → another `python3`, NODE_OPTIONS → --require). Each
 * plant is first shown to work on its own (control runs); through the gateway none of them runs
 * (no marker file), `serve` leaves those servers out and `check` names file:line, server, field and
 * why. Variables the entry lists (GREETING, LOG_*, HOME with a value glob) still reach the server.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfig, REPO, runMcpgate, startStdioGateway, textOf, waitFor, waitForTools, writeRequirements, type StdioGateway, type TempConfig } from '../support/gateway.js';

const PY = join(REPO, 'test/fixtures/servers/envecho.py');
const ECHO = ['--import', 'tsx', join(REPO, 'test/fixtures/servers/echo.ts')];

describe('managed allow-list: the environment is part of a stdio server identity', () => {
  let config: TempConfig;
  let plants: string;
  let requirementsFile: string;
  let gateway: StdioGateway;
  const marker = (name: string) => join(plants, `ran-${name}`);
  const markers = ['pth', 'sitecustomize', 'path', 'node'];
  const planted = (name: string) => `open(${JSON.stringify(marker(name))}, "w").write("ran")`;

  beforeAll(async () => {
    plants = await mkdtemp(join(tmpdir(), 'mcpgate-plants-'));
    const evilHome = join(plants, 'home');
    const safeHome = join(plants, 'safe-home');
    await mkdir(safeHome);
    // HOME: a .pth file in the user site-packages runs at every Python start
    const site = spawnSync('python3', ['-c', 'import site; print(site.getusersitepackages())'], { env: { ...process.env, HOME: evilHome }, encoding: 'utf8' });
    if (site.status !== 0) throw new Error(`python3 is needed for this test: ${site.stderr}`);
    const sitePackages = site.stdout.trim();
    await mkdir(sitePackages, { recursive: true });
    await writeFile(join(sitePackages, 'planted.pth'), `import os; ${planted('pth')}\n`);
    // PYTHONPATH: a sitecustomize module is imported at start
    await mkdir(join(plants, 'pylib'));
    await writeFile(join(plants, 'pylib', 'sitecustomize.py'), `${planted('sitecustomize')}\n`);
    // PATH: another python3 found first (which then runs the real one)
    const python = spawnSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).stdout.trim();
    await mkdir(join(plants, 'bin'));
    await writeFile(join(plants, 'bin', 'python3'), `#!/bin/sh\necho ran > ${JSON.stringify(marker('path'))}\nexec ${python} "$@"\n`);
    await chmod(join(plants, 'bin', 'python3'), 0o755);
    // NODE_OPTIONS: --require runs a file before the server
    await writeFile(join(plants, 'planted.cjs'), `require('node:fs').writeFileSync(${JSON.stringify(marker('node'))}, 'ran');\n`);
    const envs: Record<string, Record<string, string>> = {
      pth: { HOME: evilHome },
      sitecustomize: { PYTHONPATH: join(plants, 'pylib') },
      path: { PATH: `${join(plants, 'bin')}:${process.env.PATH ?? ''}` },
    };
    // control: each plant really runs when the variable is set
    for (const [name, env] of Object.entries(envs)) {
      spawnSync('python3', ['-c', 'pass'], { env: { ...process.env, ...env }, encoding: 'utf8' });
      if (!existsSync(marker(name))) throw new Error(`control run: the ${name} plant did not run`);
    }
    spawnSync(process.execPath, ['-e', ''], { env: { ...process.env, NODE_OPTIONS: `--require ${join(plants, 'planted.cjs')}` } });
    if (!existsSync(marker('node'))) throw new Error('control run: the NODE_OPTIONS plant did not run');
    await Promise.all(markers.map((name) => rm(marker(name))));

    config = await makeConfig({
      servers: {
        py: { command: 'python3', args: [PY], env: { GREETING: 'hello', LOG_LEVEL: 'debug' }, tools: { default: 'allow' } },
        pysafe: { command: 'python3', args: [PY], env: { HOME: safeHome }, tools: { default: 'allow' } },
        pyhome: { command: 'python3', args: [PY], env: { GREETING: 'hi', HOME: evilHome }, tools: { default: 'allow' } },
        pypath: { command: 'python3', args: [PY], env: { LOG_LEVEL: 'x', PYTHONPATH: join(plants, 'pylib') }, tools: { default: 'allow' } },
        pybin: { command: 'python3', args: [PY], env: envs.path as Record<string, string>, tools: { default: 'allow' } },
        node: { command: 'node', args: ECHO, cwd: REPO, env: { LOG_FORMAT: 'json' }, tools: { default: 'allow' } },
        nodeopts: { command: 'node', args: ECHO, cwd: REPO, env: { NODE_OPTIONS: `--require ${join(plants, 'planted.cjs')}` }, tools: { default: 'allow' } },
      },
    });
    requirementsFile = await writeRequirements(config.dir, {
      servers: {
        allow: [
          { command: 'python3', args: [PY], env: ['GREETING', 'LOG_*'] },
          { command: 'node', args: ECHO, cwd: REPO, env: ['LOG_*', 'NODE_*'] },
          { command: 'python3', args: [PY], env: { HOME: safeHome } },
        ],
      },
    });
    gateway = await startStdioGateway(config.dir, {}, { MCPGATE_REQUIREMENTS: requirementsFile });
    await waitForTools(gateway.client, ['py__getenv', 'pysafe__getenv', 'node__echo']);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
    if (plants) await rm(plants, { recursive: true, force: true });
  });

  it('serves the servers whose env the entries allow, with their variables', async () => {
    const getenv = async (server: string, name: string) => textOf(await gateway.client.callTool({ name: `${server}__getenv`, arguments: { name } }));
    expect(await getenv('py', 'GREETING')).toBe('hello');
    expect(await getenv('py', 'LOG_LEVEL')).toBe('debug');
    expect(await getenv('pysafe', 'HOME')).toBe(join(plants, 'safe-home'));
    expect(textOf(await gateway.client.callTool({ name: 'node__echo', arguments: { message: 'up' } }))).toBe('up');
  });

  it('never starts a server whose env would load planted code', async () => {
    await waitFor(() => gateway.stderr().includes('server \\"nodeopts\\" refused'), 10_000, () => `refusals in stderr:\n${gateway.stderr()}`);
    const names = (await gateway.client.listTools()).tools.map((t) => t.name);
    expect(names.filter((n) => /^(pyhome|pypath|pybin|nodeopts)__/.test(n))).toEqual([]);
    for (const name of markers) expect(existsSync(marker(name)), name).toBe(false);
  });

  it('check --requirements names file:line, server, field and why for each, and exits 1', async () => {
    const out = await runMcpgate(['check', '--config', config.dir, '--requirements', requirementsFile]);
    expect(out.code).toBe(1);
    for (const ok of ['py', 'pysafe', 'node']) expect(out.stdout).toMatch(new RegExp(`^ok\\s+${ok}\\b`, 'm'));
    expect(out.stdout).toMatch(
      /servers\.d\/pyhome\.yaml:\d+: env\.HOME: server "pyhome" refused: its env sets what servers\.allow\[0\] does not allow \(env: GREETING, LOG_\*\): HOME changes the home and config directories interpreters load startup files from/,
    );
    expect(out.stdout).toMatch(/servers\.d\/pypath\.yaml:\d+: env\.PYTHONPATH: server "pypath" refused: .*PYTHONPATH changes Python's module path, startup code or package source, and an entry admits it only by naming it exactly/);
    expect(out.stdout).toMatch(/servers\.d\/pybin\.yaml:\d+: env\.PATH: server "pybin" refused: .*PATH changes which programs are found by name/);
    // `NODE_*` is a glob: it never admits a loader variable
    expect(out.stdout).toMatch(/servers\.d\/nodeopts\.yaml:\d+: env\.NODE_OPTIONS: server "nodeopts" refused: its env sets what servers\.allow\[1\] does not allow \(env: LOG_\*, NODE_\*\): NODE_OPTIONS changes Node's preloads/);
    for (const name of markers) expect(existsSync(marker(name)), name).toBe(false);
  });
});
