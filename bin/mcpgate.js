#!/usr/bin/env node
/**
 * The `mcpgate` command (package.json `bin`): runs the built CLI, dist/main.js. `npm install` in
 * the repository builds it (`prepare`); when it is missing (installed with --ignore-scripts, or
 * dist/ removed) it is built once here with the repository's own TypeScript, then run. Plain
 * JavaScript, so it works before anything is built.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'dist', 'main.js');

if (!existsSync(main)) {
  let tsc;
  try {
    // typescript's `exports` do not list its bin: find the package, then the bin in it.
    tsc = join(dirname(createRequire(join(root, 'package.json')).resolve('typescript/package.json')), 'bin', 'tsc');
  } catch {
    process.stderr.write(`mcpgate: not built (no ${main}) and TypeScript is not installed here\n  fix: run "npm install" (then "npm run build") in ${root}\n`);
    process.exit(1);
  }
  process.stderr.write(`mcpgate: building ${join(root, 'dist')} (first run) …\n`);
  // stdout stays clean: it is the MCP channel when an agent spawns `mcpgate serve`.
  const build = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { cwd: root, stdio: ['ignore', 2, 2] });
  if (build.status !== 0) {
    process.stderr.write(`mcpgate: the build failed\n  fix: run "npm run build" in ${root} and read its errors\n`);
    process.exit(1);
  }
}
await import(pathToFileURL(main).href);
