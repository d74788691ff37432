/** The CLI contract: exit codes (0 ok, 1 user error, 2 usage), check output, help, fail-closed requirements. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, runMcpgate, type TempConfig } from '../support/gateway.js';

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
});
