/**
 * Path helpers of the sandbox: `~` expansion against a server's HOME, containment, and resolving
 * a path that may not exist yet (symlinks in its existing part followed, the rest kept as written).
 */
import { lstatSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * An absolute path for a configured sandbox path: `~` and `~/…` against `home`, relative paths
 * against `cwd`.
 * @example expandPath('~/.ssh', '/home/a', '/srv') // '/home/a/.ssh'
 */
export function expandPath(path: string, home: string, cwd: string): string {
  if (path === '~') return resolve(home);
  if (path.startsWith('~/')) return resolve(home, path.slice(2));
  return isAbsolute(path) ? resolve(path) : resolve(cwd, path);
}

/** True when `path` is `dir` or lies inside it (both absolute and normalised). */
export function isWithin(path: string, dir: string): boolean {
  if (path === dir || dir === sep) return true;
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** True when either path lies inside the other (or they are the same). */
export function overlaps(a: string, b: string): boolean {
  return isWithin(a, b) || isWithin(b, a);
}

/** Components below the root: `/a/b` → 2. */
export function depthOf(path: string): number {
  return path === sep ? 0 : path.split(sep).length - 1;
}

/** Where a path really is: its longest existing prefix with symlinks resolved, plus the rest. */
export interface ResolvedPath {
  /** The real path (the missing tail appended as written). */
  readonly real: string;
  /** The deepest existing directory or file on the way (real). */
  readonly existing: string;
  /** The path exists entirely. */
  readonly exists: boolean;
  /** It exists and is a directory. */
  readonly isDirectory: boolean;
}

/** Resolves symlinks in the existing part of an absolute path; the missing part is kept as written. */
export function resolveExisting(path: string): ResolvedPath {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      const existing = realpathSync(current);
      const exists = missing.length === 0;
      const real = exists ? existing : join(existing, ...missing.reverse());
      return { real, existing, exists, isDirectory: exists && lstatSync(existing).isDirectory() };
    } catch {
      const parent = dirname(current);
      if (parent === current) return { real: resolve(path), existing: sep, exists: false, isDirectory: false };
      missing.push(current.slice(parent.length).replace(/^\//, ''));
      current = parent;
    }
  }
}
