/**
 * The import rules of src/ (.dependency-cruiser.cjs, run by `npm test` as `lint:deps`): the tree
 * as it is passes, and a copy with a planted cycle or an upward import fails with the rule named.
 */
import { execFile } from 'node:child_process';
import { appendFile, cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const DEPCRUISE = join(ROOT, 'node_modules/.bin/depcruise');
const run = promisify(execFile);

/** Runs the lint in `cwd`; resolves with its exit code and output. */
async function lint(cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(DEPCRUISE, ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd, timeout: 50_000 });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

/** A copy of the parts the lint reads (src/, its config, tsconfig.json, node_modules linked). */
async function copyOfTree(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpgate-deps-'));
  await cp(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
  for (const file of ['.dependency-cruiser.cjs', 'tsconfig.json', 'package.json']) await cp(join(ROOT, file), join(dir, file));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

describe('import rules (dependency-cruiser)', () => {
  const dirs: string[] = [];
  let cycle: string;
  let upward: string;
  beforeAll(async () => {
    [cycle, upward] = await Promise.all([copyOfTree(), copyOfTree()]);
    dirs.push(cycle, upward);
  });
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('src/ as it is has no cycle and no upward import', async () => {
    const { code, output } = await lint(ROOT);
    expect(output).not.toMatch(/error/);
    expect(code).toBe(0);
  });

  it('a planted cycle fails the lint (type-only imports count)', async () => {
    // layers.ts imports verdict.ts: verdict.ts importing a type of layers.ts back closes a cycle inside policy/
    await appendFile(join(cycle, 'src/policy/verdict.ts'), "\nimport type { LayerTraits } from './layers.js';\nexport type Planted = LayerTraits;\n");
    const { code, output } = await lint(cycle);
    expect(code).not.toBe(0);
    expect(output).toContain('no-circular');
  });

  it('an upward import (policy reaching the downstream session) fails the lint', async () => {
    await appendFile(join(upward, 'src/policy/verdict.ts'), "\nimport type { ClientSession } from '../downstream/session.js';\nexport type Planted = ClientSession;\n");
    const { code, output } = await lint(upward);
    expect(code).not.toBe(0);
    expect(output).toContain('downstream-only-from-the-top');
    expect(output).toContain('policy-is-pure');
  });
});
