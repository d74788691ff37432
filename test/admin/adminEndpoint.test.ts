import { chmod, lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminEndpoint } from '../../src/admin/adminEndpoint.js';
import { ApprovalQueue } from '../../src/approval/queue.js';
import { silentLogger } from '../../src/telemetry/logger.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpgate-admin-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function endpoint(dir: string): AdminEndpoint {
  const admin = new AdminEndpoint({ queue: new ApprovalQueue(), dir, configDir: dir, logger: silentLogger() });
  cleanups.push(() => admin.close());
  return admin;
}

describe('AdminEndpoint token file', () => {
  it('replaces a planted symlink instead of writing the token through it', async () => {
    const root = await tempDir();
    const dir = join(root, 'admin');
    await mkdir(dir, { mode: 0o700 });
    const bait = join(root, 'readable-by-others.json');
    await writeFile(bait, 'bait\n', { mode: 0o644 });
    const file = join(dir, `gateway-${process.pid}.json`);
    await symlink(bait, file);

    await endpoint(dir).start();

    expect(await readFile(bait, 'utf8')).toBe('bait\n');
    expect(((await lstat(bait)).mode & 0o777).toString(8)).toBe('644');
    const info = await lstat(file);
    expect(info.isFile()).toBe(true);
    expect((info.mode & 0o777).toString(8)).toBe('600');
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: process.pid, token: expect.any(String) });
  });

  it('refuses a directory that other users can write (e.g. /tmp itself)', async () => {
    const dir = await tempDir();
    await chmod(dir, 0o1777);
    const admin = endpoint(dir);
    await expect(admin.start()).rejects.toThrow(/must be a directory owned by this user and writable by no one else/);
    expect(admin.listening).toBe(false);
  });
});
