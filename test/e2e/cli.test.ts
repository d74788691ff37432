/** The CLI contract: exit codes (0 ok, 1 user error, 2 usage), check output, help, fail-closed requirements. */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, REPO, runMcpgate, type TempConfig } from '../support/gateway.js';

const mcpgate = runMcpgate;

describe('mcpgate CLI', () => {
  let good: TempConfig;
  let bad: TempConfig;

  beforeAll(async () => {
    good = await makeConfig({ servers: { echo: fixtureServer('echo', { env: { TOKEN: '${env:MCPGATE_CLI_TOKEN}' } }) } });
    bad = await makeConfig({
      servers: { echo: fixtureServer('echo'), broken: 'command: node\nconcurrency: lots\n', nosecret: { command: 'node', env: { K: '${secret:github-token}' } } },
    });
  });

  afterAll(async () => {
    await good?.cleanup();
    await bad?.cleanup();
  });

  it('check: exit 0 on a valid config, never printing a resolved value', async () => {
    const out = await mcpgate(['check', '--config', good.dir], { MCPGATE_CLI_TOKEN: 'very-secret-value-123' });
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^ok\s+echo/m);
    expect(out.stdout + out.stderr).not.toContain('very-secret-value-123');
  });

  it('check: exit 1 with file:line: field: message, unresolvable and unsupported references', async () => {
    const out = await mcpgate(['check', '--config', bad.dir]);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain('servers.d/broken.yaml:2: concurrency: Invalid input: expected number, received string');
    // no keychain reachable here (no session bus) or no such secret in it: either way that server fails
    expect(out.stdout).toMatch(/servers\.d\/nosecret\.yaml: server "nosecret": (\$\{secret:github-token\} cannot be read|secret "github-token")/);
    expect(out.stdout).toMatch(/^ok\s+echo/m);
    const unset = await mcpgate(['check', '--config', good.dir], { MCPGATE_CLI_TOKEN: '' });
    expect(unset.code).toBe(0); // set but empty is set
  });

  it('usage errors exit 2, help exits 0', async () => {
    expect((await mcpgate(['frobnicate'])).code).toBe(2);
    expect((await mcpgate(['check', '--bogus'])).code).toBe(2);
    expect((await mcpgate(['tools', '--transport', 'http'])).code).toBe(2);
    const help = await mcpgate(['serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('mcpgate serve');
  });

  it('serve refuses to run when the configured requirements file cannot be loaded (fail closed)', async () => {
    const out = await mcpgate(['serve', '--config', good.dir, '--requirements', '/etc/mcpgate/some-requirements.yaml']);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/managed requirements \/etc\/mcpgate\/some-requirements\.yaml could not be loaded; refusing to start/);
    expect(out.stderr).toContain('managed requirements file does not exist');
    expect(out.stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
  });

  it('a missing config dir is a one-line user error', async () => {
    const out = await mcpgate(['check', '--config', '/nonexistent/mcpgate']);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^mcpgate: configuration directory \/nonexistent\/mcpgate does not exist/);
  });

  it('an unknown option is named with the nearest one (exit 2), for commands and audit subcommands alike', async () => {
    const cases: Array<[string[], string]> = [
      [['check', '--confg', good.dir], 'mcpgate: unknown option --confg (did you mean --config?)\n'],
      [['tools', '--jsno'], 'mcpgate: unknown option --jsno (did you mean --json?)\n'],
      [['audit', 'verify', '--fil', 'x'], 'mcpgate: unknown option --fil (did you mean --file?)\n'],
      [['serve', '--frobnicate'], 'mcpgate: unknown option --frobnicate\n'],
      [['check', '--config'], 'mcpgate: option --config needs a value\n'],
    ];
    for (const [args, stderr] of cases) {
      const out = await mcpgate(args);
      expect({ args, stderr: out.stderr, code: out.code }).toEqual({ args, stderr, code: 2 });
    }
  });

  it('a mistyped config field is named with the field it probably meant, in check and serve', async () => {
    const typo = await makeConfig({ gateway: { listen: { prot: 9000 } }, servers: { echo: 'comand: node\nargs: [x]\n' } });
    try {
      const check = await mcpgate(['check', '--config', typo.dir]);
      expect(check.code).toBe(1);
      expect(check.stdout).toContain('servers.d/echo.yaml:1: comand: unknown field; did you mean "command"?');
      expect(check.stdout).toMatch(/gateway\.yaml:\d+: listen\.prot: unknown field; did you mean "port"\?/);
      const serve = await mcpgate(['serve', '--config', typo.dir]);
      expect(serve.code).toBe(1);
      expect(serve.stderr).toMatch(/listen\.prot: unknown field; did you mean "port"\?/);
    } finally {
      await typo.cleanup();
    }
  });
});

describe('mcpgate check catches what would break at start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpgate-check-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a stdio command the server could not run is an error, found as spawn would (its PATH, its cwd)', async () => {
    const config = join(dir, 'commands');
    await mkdir(join(config, 'servers.d'), { recursive: true });
    await mkdir(join(config, 'bin'));
    await writeFile(join(config, 'bin', 'my-server'), '#!/bin/sh\n');
    await chmod(join(config, 'bin', 'my-server'), 0o755);
    await writeFile(join(config, 'bin', 'not-runnable'), 'data');
    await writeFile(join(config, 'servers.d', 'typo.yaml'), 'command: nodee\n');
    await writeFile(join(config, 'servers.d', 'relative.yaml'), 'command: ./bin/missing\n');
    await writeFile(join(config, 'servers.d', 'ownpath.yaml'), 'command: my-server\nenv:\n  PATH: bin\n');
    await writeFile(join(config, 'servers.d', 'plain.yaml'), 'command: node\n');
    await writeFile(join(config, 'servers.d', 'noexec.yaml'), 'command: ./bin/not-runnable\n');
    const out = await mcpgate(['check', '--config', config]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^error\s+typo/m);
    expect(out.stdout).toMatch(/servers\.d\/typo\.yaml: command: command "nodee" is not on the PATH the server will run with \(PATH the server gets: [^)]*\/usr\/bin/);
    expect(out.stdout).toContain(`servers.d/relative.yaml: command: command ${join(config, 'bin/missing')} does not exist`);
    expect(out.stdout).toContain(`servers.d/noexec.yaml: command: command ${join(config, 'bin/not-runnable')} is not executable`);
    // PATH from the server's env, its relative entry against the server's cwd (the config dir).
    expect(out.stdout).toMatch(/^ok\s+ownpath/m);
    expect(out.stdout).toMatch(/^ok\s+plain/m);
    expect(out.stdout).toContain('3 problem(s) found');
  });

  it('no servers is a warning; exit 0', async () => {
    const empty = join(dir, 'empty');
    await mkdir(join(empty, 'servers.d'), { recursive: true });
    const out = await mcpgate(['check', '--config', empty]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^warning: servers\.d\/: no servers configured in \S+: the gateway would offer no tools \(add one file per upstream server, docs\/configuration\.md\)\nconfig digest: sha256:[0-9a-f]{64}\nconfiguration ok: 0 server\(s\), 1 warning\(s\)\n$/);
    expect(out.stdout).toContain(join(empty, 'servers.d'));
  });

  it('--config naming servers.d itself (or a dir of server files) says which dir was meant; serve refuses it too', async () => {
    const out = await mcpgate(['check', '--config', join(REPO, 'servers.d')]);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(`--config ${join(REPO, 'servers.d')}: looks like a servers.d directory itself (everything.yaml, memory.yaml, notes.yaml) and has no servers.d/ of its own: pass the directory above it, --config ${REPO}`);
    const flat = join(dir, 'flat');
    await mkdir(flat);
    await writeFile(join(flat, 'github.yaml'), 'command: npx\n');
    await writeFile(join(flat, 'compose.yaml'), 'services: {}\n');
    const flatOut = await mcpgate(['check', '--config', flat]);
    expect(flatOut.code).toBe(1);
    expect(flatOut.stdout).toContain('holds server files directly (github.yaml) and has no servers.d/');
    const serve = await mcpgate(['serve', '--config', join(REPO, 'servers.d')]);
    expect(serve.code).toBe(1);
    expect(serve.stderr).toContain('looks like a servers.d directory itself');
  });

  it('--config naming a file says it is a file, not a directory', async () => {
    const out = await mcpgate(['check', '--config', join(REPO, 'README.md')]);
    expect(out.code).toBe(1);
    expect(out.stderr).toBe(`mcpgate: configuration directory ${join(REPO, 'README.md')} is a file, not a directory\n  fix: pass --config DIR (or set MCPGATE_CONFIG) naming the directory that holds gateway.yaml and servers.d/, e.g. --config ${REPO}\n`);
  });
});
