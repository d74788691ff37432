/**
 * Test support: temporary configuration directories written from file texts (for loader tests
 * that need exact YAML text and line numbers), removed by `removeConfigDirs()`.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs: string[] = [];

/** An empty temp dir, removed by `removeConfigDirs()`. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpgate-config-'));
  dirs.push(dir);
  return dir;
}

/** The names in `dir`, sorted; [] when it does not exist. */
export async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/** A temp dir with an empty servers.d/ and the given files (path → text). */
export async function configDir(files: Record<string, string>): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, 'servers.d'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

/** Removes every directory `configDir` made (call from afterEach). */
export async function removeConfigDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}
