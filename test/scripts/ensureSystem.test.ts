/**
 * `npm test` on a fresh machine: its first step (scripts/ensure-system.mjs) finds the Debian
 * packages the suite needs, installs the missing ones with apt-get when it runs as root, and
 * otherwise stops before any test with the exact command to run.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/gateway.js';

const run = promisify(execFile);
const SCRIPT = join(REPO, 'scripts/ensure-system.mjs');

/** Runs a command; never throws on a non-zero exit. */
async function outcome(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(file, args, { env, timeout: 300_000 });
    return { code: 0, stderr };
  } catch (error) {
    const e = error as { code?: number; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stderr: e.stderr ?? '' };
  }
}

describe('npm test checks the system first', () => {
  it('runs before the build and every test', async () => {
    const scripts = (JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.pretest).toMatch(/^node scripts\/ensure-system\.mjs && /);
    expect(await readFile(join(REPO, '.ci/run'), 'utf8')).toMatch(/\nnpm test\n$/);
  });

  it('passes quietly on this machine (the suite is running)', async () => {
    expect(await outcome(process.execPath, [SCRIPT], process.env)).toEqual({ code: 0, stderr: '' });
  });

  it('with binaries missing from the PATH (and no apt-get to install them): names them and the exact command, exit 1', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'mcpgate-path-'));
    try {
      await symlink(process.execPath, join(bin, 'node'));
      const result = await outcome(join(bin, 'node'), [SCRIPT], { PATH: bin });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('npm test needs Debian packages that are not installed:\n  dbus (no dbus-daemon, dbus-send): keychain tests');
      expect(result.stderr).toContain('  chromium (no chromium): the audit HTML report');
      const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
      expect(result.stderr).toContain(`Install them, then run npm test again:\n  ${sudo}apt-get install -y --no-install-recommends dbus gnome-keyring chromium util-linux bsdutils python3 redis-server bubblewrap\n`);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });

  it('as root with apt-get, installs what is missing, and says what to run when that does not help', { timeout: 320_000 }, async () => {
    // A package whose proof can never appear: apt-get runs (installing dbus is a no-op here), the check still fails.
    const list = JSON.stringify([{ package: 'dbus', binaries: ['dbus-daemon-that-never-exists'], for: 'the checker test' }]);
    const code = `import { ensureSystem } from ${JSON.stringify(SCRIPT)}; process.exitCode = ensureSystem(${list});`;
    const result = await outcome(process.execPath, ['--input-type=module', '-e', code], process.env);
    expect(result.code).toBe(1);
    if (process.getuid?.() === 0) {
      expect(result.stderr).toContain('npm test: installing the Debian packages the tests need:\n  dbus (no dbus-daemon-that-never-exists): the checker test\n');
      expect(result.stderr).toMatch(/npm test: could not install them \(apt-get (ran, but these are still missing|exited with \d+)\):\n {2}dbus \(no dbus-daemon-that-never-exists\)/);
      expect(result.stderr).toMatch(/Run yourself, then npm test again:\n {2}apt-get install -y --no-install-recommends dbus\n$/);
    } else {
      expect(result.stderr).toContain('sudo apt-get install -y --no-install-recommends dbus');
    }
  });

  it('stops at once when the checkout lies under a directory the sandbox makes private, saying where to clone it', async () => {
    const { checkoutProblem } = (await import(pathToFileURL(SCRIPT).href)) as { checkoutProblem: (repo: string, dirs: string[]) => string | undefined };
    expect(checkoutProblem('/tmp/mcpgate', ['/tmp', '/var/tmp'])).toContain('this checkout (/tmp/mcpgate) is under /tmp');
    expect(checkoutProblem('/var/tmp/a/b', ['/tmp', '/var/tmp'])).toContain('git clone /var/tmp/a/b ~/mcpgate');
    expect(checkoutProblem('/tmpfoo/mcpgate', ['/tmp', '/var/tmp'])).toBeUndefined();
    expect(checkoutProblem('/root/mcpgate', ['/tmp', '/var/tmp'])).toBeUndefined();
    // and the script itself runs it: from a copy of the scripts under the OS temp dir, before any package check
    const copy = await mkdtemp(join(tmpdir(), 'mcpgate-checkout-'));
    try {
      await mkdir(join(copy, 'scripts'));
      await writeFile(join(copy, 'scripts/ensure-system.mjs'), await readFile(SCRIPT));
      const result = await outcome(process.execPath, [join(copy, 'scripts/ensure-system.mjs')], { ...process.env, MCPGATE_NO_APT: '1' });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^npm test: this checkout \(.*mcpgate-checkout-.*\) is under /);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});
