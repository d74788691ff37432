/**
 * `mcpgate` as a command: `npx mcpgate …` inside the repository after `npm install` (the
 * package's own bin), and the launcher behind it (bin/mcpgate.js), which builds dist/ once when it
 * is missing (a checkout installed with --ignore-scripts) instead of failing obscurely.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/gateway.js';

const run = promisify(execFile);

describe('the mcpgate command', () => {
  it('npx mcpgate --help works inside the repository (no registry involved)', async () => {
    const { stdout } = await run('npx', ['--no-install', 'mcpgate', '--help'], { cwd: REPO, timeout: 60_000 });
    expect(stdout).toMatch(/^mcpgate — one MCP endpoint in front of many MCP servers/);
    expect(stdout).toContain('mcpgate serve  [--config DIR]');
    const version = await run('npx', ['--no-install', 'mcpgate', '--version'], { cwd: REPO, timeout: 60_000 });
    expect(version.stdout).toMatch(/^mcpgate \d+\.\d+\.\d+\n$/);
  });

  it('the launcher builds dist/ on first run when it is missing, keeping stdout clean', async () => {
    const copy = await mkdtemp(join(tmpdir(), 'mcpgate-launcher-'));
    try {
      for (const entry of ['bin', 'src', 'package.json', 'tsconfig.json']) await cp(join(REPO, entry), join(copy, entry), { recursive: true });
      await symlink(join(REPO, 'node_modules'), join(copy, 'node_modules'));
      const first = await run(process.execPath, [join(copy, 'bin/mcpgate.js'), '--version'], { cwd: tmpdir(), timeout: 180_000 });
      expect(first.stdout).toMatch(/^mcpgate \d+\.\d+\.\d+\n$/);
      expect(first.stderr).toBe(`mcpgate: building ${join(copy, 'dist')} (first run) …\n`);
      const second = await run(process.execPath, [join(copy, 'bin/mcpgate.js'), '--version'], { cwd: tmpdir(), timeout: 60_000 });
      expect(second.stderr).toBe('');
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  }, 240_000);
});
