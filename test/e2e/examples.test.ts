/**
 * Every directory under examples/ is a complete configuration that `mcpgate check` accepts as
 * shipped (exit 0), with `--requirements` where it has a requirements.yaml; the warnings each one
 * prints are listed here, so a new one is noticed. The secrets the READMEs tell you to set first
 * are set in a private keychain (a real gnome-keyring on a private D-Bus); the container example
 * is checked as the image runs it: its secret files mounted at /run/secrets (a private mount
 * namespace, util-linux `unshare`) and MCPGATE_STATE_DIR set.
 */
import { spawn } from 'node:child_process';
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN, REPO, runMcpgate } from '../support/gateway.js';
import { startSecretService, type SessionBus } from '../support/keyring.js';

const EXAMPLES = join(REPO, 'examples');

/** The warnings each example prints by design (anything else fails the test). */
const EXPECTED_WARNINGS: Readonly<Record<string, readonly RegExp[]>> = {
  // its deny rule matches the path as text on purpose (it also catches `..`), which check points out
  quickstart: [/^warning: servers\.d\/files\.yaml:20: tools\.deny\[0\]\.args\.path: "path" looks like a file path/],
  'locked-down': [/^warning: gateway\.yaml: audit\.arguments: forced to hash by managed requirements/, /^warning: gateway\.yaml: audit\.fsync: forced to always by managed requirements/],
};

/** Keychain secrets the examples' READMEs say to set (`mcpgate secrets set NAME`). */
const SECRETS = ['github-token', 'github-bot-token', 'docs-mcp-token'];

/** `mcpgate check` of the container example with /run/secrets and the image's environment. */
function checkInContainerLayout(dir: string, stateDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = [
    'mount -t tmpfs tmpfs /run',
    'mkdir /run/secrets',
    'head -c 48 /dev/urandom | base64 > /run/secrets/mcpgate-jwt',
    'printf example-github-token > /run/secrets/github-token',
    'exec "$@"',
  ].join(' && ');
  const child = spawn('unshare', ['-m', 'sh', '-c', script, 'sh', process.execPath, MAIN, 'check', '--config', dir], {
    env: { ...process.env, MCPGATE_STATE_DIR: stateDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('examples/', () => {
  let bus: SessionBus;
  let stateDir: string;
  let examples: string[];

  beforeAll(async () => {
    examples = (await readdir(EXAMPLES, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    stateDir = await mkdtemp(join(tmpdir(), 'mcpgate-examples-state-'));
    bus = await startSecretService();
    for (const name of SECRETS) {
      const set = await runMcpgate(['secrets', 'set', name], bus.env, 60_000, `example-value-of-${name}\n`);
      expect(set.code, set.stderr).toBe(0);
    }
  }, 120_000);

  afterAll(async () => {
    await bus?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('holds the four deployments the product card promises, plus the quickstart, each with a README', async () => {
    expect(examples).toEqual(['container', 'laptop', 'locked-down', 'quickstart', 'team-http']);
    for (const name of examples.filter((n) => n !== 'quickstart')) await access(join(EXAMPLES, name, 'README.md'));
  });

  it('the README links every example', async () => {
    const readme = await readFile(join(REPO, 'README.md'), 'utf8');
    for (const name of examples) expect(readme).toContain(`examples/${name}`);
  });

  it.each(['laptop', 'team-http', 'locked-down', 'quickstart', 'container'])('mcpgate check accepts examples/%s as shipped', async (name) => {
    const dir = join(EXAMPLES, name);
    const requirements = join(dir, 'requirements.yaml');
    const hasRequirements = await access(requirements).then(() => true, () => false);
    const out =
      name === 'container'
        ? await checkInContainerLayout(dir, stateDir)
        : await runMcpgate(['check', '--config', dir, ...(hasRequirements ? ['--requirements', requirements] : [])], bus.env);
    const all = `${out.stdout}${out.stderr}`;
    expect(out.code, all).toBe(0);
    expect(all).not.toMatch(/^error /m);
    if (hasRequirements) expect(out.stdout).toContain(`managed requirements: ${requirements}`);
    const warnings = all.split('\n').filter((line) => line.startsWith('warning:'));
    const expected = EXPECTED_WARNINGS[name] ?? [];
    expect(warnings, all).toHaveLength(expected.length);
    expected.forEach((pattern, i) => expect(warnings[i]).toMatch(pattern));
    // every server of the example is checked and accepted
    const servers = (await readdir(join(dir, 'servers.d'))).map((file) => file.replace(/\.(ya?ml|json)$/, ''));
    for (const server of servers) expect(out.stdout).toMatch(new RegExp(`^ok +${server} `, 'm'));
  }, 60_000);
});
