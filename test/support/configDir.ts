/**
 * Test support: temporary configuration directories written from file texts (for loader tests
 * that need exact YAML text and line numbers), removed by `removeConfigDirs()`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs: string[] = [];

/** A temp dir with an empty servers.d/ and the given files (path → text). */
export async function configDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpgate-config-'));
  dirs.push(dir);
  await mkdir(join(dir, 'servers.d'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

/** Removes every directory `configDir` made (call from afterEach). */
export async function removeConfigDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}
