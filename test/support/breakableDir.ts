/**
 * A directory whose files can be made unwritable for real, for tests of the audit writer when
 * writes fail: the active file is reached through a symlinked directory, so `cut()` (removing the
 * link) makes renames and reopens there fail with ENOENT while the file already open, and what
 * was written to it, stays; `mend()` puts the link back. Fresh per test (vitest hooks).
 */
import { mkdir, mkdtemp, rm, symlink, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/** The paths of the current test's directory and how to break and mend the way to it. */
export interface BreakableDir {
  /** The temporary directory holding both. */
  dir: string;
  /** Where the files really are. */
  real: string;
  /** The symlink the writer goes through. */
  link: string;
  /** `audit.log` under the link. */
  active: string;
  cut(): Promise<void>;
  mend(): Promise<void>;
}

/** Registers hooks that give each test a fresh breakable directory (named with `prefix`). */
export function breakableLogDir(prefix: string): BreakableDir {
  const state: BreakableDir = {
    dir: '',
    real: '',
    link: '',
    active: '',
    cut: () => unlink(state.link),
    mend: () => symlink(state.real, state.link),
  };
  beforeEach(async () => {
    state.dir = await mkdtemp(join(tmpdir(), prefix));
    state.real = join(state.dir, 'real');
    state.link = join(state.dir, 'logs');
    state.active = join(state.link, 'audit.log');
    await mkdir(state.real);
    await symlink(state.real, state.link);
  });
  afterEach(() => rm(state.dir, { recursive: true, force: true }));
  return state;
}
