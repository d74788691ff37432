/**
 * Plans the filesystem a sandboxed server sees, from the real filesystem (symlinks resolved,
 * directories listed): the whole tree read-only, private temp dirs, protected paths hidden,
 * `allowWrite` paths writable. Refuses settings it cannot honour safely (SANDBOX_INVALID).
 *
 * How a protected path is hidden:
 * - an existing directory is covered by an empty read-only tmpfs;
 * - a file (or a path that does not exist yet) is hidden by rebuilding its directory: an empty
 *   tmpfs with every other entry bound back. Binding /dev/null over a file is not enough: when the
 *   gateway replaces the file (rotation, atomic rewrite), the kernel detaches the mount in other
 *   namespaces and the new file would show; and a file created later would show too. A rebuilt
 *   directory is a snapshot: nothing created in it afterwards appears inside.
 */
import { lstatSync, mkdirSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { ErrorCodes, GatewayError } from '../errors.js';
import { depthOf, isWithin, overlaps, resolveExisting } from './paths.js';
import type { ProtectedPath } from './protectedPaths.js';

/** Where the egress proxy's socket appears inside the sandbox (in its private /tmp). */
export const EGRESS_SOCKET_INSIDE = '/tmp/.mcpgate/egress.sock';

/** One entry bound back into a rebuilt directory. */
export interface RebuiltEntry {
  readonly name: string;
  /** The entry is a symlink to this target (recreated, not followed). */
  readonly symlink?: string;
}

/** One step of the sandbox's filesystem, applied in order (ancestors before descendants). */
export type MountOp =
  | { readonly kind: 'private'; readonly path: string }
  | { readonly kind: 'expose'; readonly path: string }
  | { readonly kind: 'rebuild'; readonly path: string; readonly entries: readonly RebuiltEntry[] }
  | { readonly kind: 'mask'; readonly path: string }
  | { readonly kind: 'maskFile'; readonly path: string }
  | { readonly kind: 'write'; readonly path: string }
  | { readonly kind: 'socket'; readonly source: string; readonly path: string };

/** What to plan for. */
export interface MountRequest {
  /** The server's working directory (absolute). */
  readonly cwd: string;
  /** The executable's absolute path. */
  readonly command: string;
  readonly protect: readonly ProtectedPath[];
  /** Expanded absolute paths, with how each was written (relative ones must stay inside cwd). */
  readonly allowWrite: readonly { readonly path: string; readonly written: string }[];
  /** Replaced by empty private directories (/tmp, /var/tmp, $TMPDIR). */
  readonly privateDirs: readonly string[];
  /** The egress proxy's Unix socket on the host, bound into the sandbox. */
  readonly egressSocket?: string;
  /** Create missing allowWrite directories (false: only check, as `mcpgate check` does). */
  readonly create: boolean;
}

/** The planned filesystem. */
export interface MountPlan {
  readonly ops: readonly MountOp[];
  /** The real working directory. */
  readonly cwd: string;
}

const ORDER: Record<MountOp['kind'], number> = { private: 0, expose: 1, rebuild: 2, mask: 3, maskFile: 3, write: 4, socket: 5 };

/** Plans the mounts; throws SANDBOX_INVALID for a setting that cannot be honoured safely. */
export function planMounts(request: MountRequest): MountPlan {
  const ops: MountOp[] = [];
  const privates = unique(request.privateDirs.map((dir) => resolveExisting(dir)).filter((r) => r.isDirectory).map((r) => r.real));
  for (const path of privates) if (!privates.some((other) => other !== path && isWithin(path, other))) ops.push({ kind: 'private', path });
  const cwd = resolveExisting(request.cwd).real;
  const command = resolveExisting(request.command).real;
  const exposed = privates.some((dir) => isWithin(cwd, dir)) ? [cwd] : [];
  for (const path of exposed) ops.push({ kind: 'expose', path });
  const hiddenByPrivate = (path: string) => privates.some((dir) => isWithin(path, dir)) && !exposed.some((dir) => isWithin(path, dir));
  if (hiddenByPrivate(command)) {
    refuse(`its command ${command} lies under ${privates.find((dir) => isWithin(command, dir))}, which the sandbox replaces with a private directory`, 'install the server elsewhere, or set its cwd to the directory that holds it');
  }

  // allowWrite first: missing directories are created before any directory is listed.
  const writable = request.allowWrite.map((entry) => writablePath(entry, cwd, request));
  for (const entry of request.allowWrite) checkNoPlantedLink(entry.path, writable);

  const masks: string[] = [];
  const kept: { path: string; keep: readonly string[] }[] = [];
  const excluded = new Map<string, Set<string>>();
  for (const item of request.protect) {
    const resolved = resolveExisting(item.path);
    const real = resolved.real;
    for (const [what, path] of [['working directory', cwd], ['command', command]] as const) {
      const keptEntry = item.keep?.some((name) => isWithin(path, join(real, name)));
      if (isWithin(path, real) && !keptEntry) {
        refuse(`its ${what} ${path} lies inside ${item.path} (${item.why}), which the sandbox hides`, 'move the server out of it, or set sandbox.mode: off for this server (it then runs unconfined)');
      }
    }
    for (const target of writable) {
      if (overlaps(target, real) || overlaps(target, item.path)) {
        refuse(`allowWrite ${target} overlaps ${item.path} (${item.why}), which the sandbox hides`, 'allow a directory that neither contains nor lies inside a protected path');
      }
    }
    if (hiddenByPrivate(real)) continue;
    if (item.keep) {
      if (resolved.isDirectory) kept.push({ path: real, keep: item.keep });
    } else if (resolved.isDirectory) {
      masks.push(real);
    } else if (resolved.exists) {
      exclude(excluded, dirname(real), basename(real));
    } else if (lstatSync(resolved.existing).isDirectory()) {
      // Not there yet: hide the name in the deepest directory that exists, so creating it later shows nothing.
      exclude(excluded, resolved.existing, relative(resolved.existing, real).split(sep)[0] as string);
    }
  }
  const covers = [...masks, ...kept.map((k) => k.path)];
  const hidden = (path: string, self?: string) =>
    covers.some((dir) => dir !== self && isWithin(path, dir) && !kept.some((k) => k.path === dir && k.keep.some((name) => isWithin(path, join(dir, name)))));
  for (const path of unique(masks)) if (!hidden(path, path)) ops.push({ kind: 'mask', path });
  for (const { path, keep } of kept) if (!hidden(path, path)) ops.push({ kind: 'rebuild', path, entries: listEntries(path, (name) => keep.includes(name)) ?? [] });
  for (const [dir, names] of excluded) {
    if (hidden(dir)) continue;
    const entries = dir === sep ? undefined : listEntries(dir, (name) => !names.has(name));
    if (entries) {
      ops.push({ kind: 'rebuild', path: dir, entries });
    } else {
      // `/` cannot be rebuilt, and a directory we may not list the server may not list either;
      // a file it could still open by name is covered with /dev/null
      for (const name of names) if (existsAt(join(dir, name))) ops.push({ kind: 'maskFile', path: join(dir, name) });
    }
  }
  for (const path of writable) ops.push({ kind: 'write', path });
  if (request.egressSocket) ops.push({ kind: 'socket', source: request.egressSocket, path: EGRESS_SOCKET_INSIDE });
  return { ops: sortOps(ops), cwd };
}

/** Ancestors before descendants (a mount hides what was mounted below it earlier); ties in ORDER. */
export function sortOps(ops: readonly MountOp[]): MountOp[] {
  return [...ops].sort((a, b) => depthOf(a.path) - depthOf(b.path) || ORDER[a.kind] - ORDER[b.kind] || a.path.localeCompare(b.path));
}

function writablePath(entry: { path: string; written: string }, cwd: string, request: MountRequest): string {
  let resolved = resolveExisting(entry.path);
  if (!resolved.exists && request.create) {
    mkdirSync(resolved.real, { recursive: true, mode: 0o700 });
    resolved = resolveExisting(entry.path);
  }
  const relativeEntry = !entry.written.startsWith('/') && !entry.written.startsWith('~');
  if (relativeEntry && !isWithin(resolved.real, cwd)) {
    refuse(`allowWrite "${entry.written}" resolves to ${resolved.real}, outside its working directory ${cwd} (through a symlink)`, 'write the real path, or remove the symlink');
  }
  return resolved.real;
}

/** A symlink on the way to an allowWrite path, lying inside a writable directory, may have been planted by a server. */
function checkNoPlantedLink(path: string, writable: readonly string[]): void {
  let current: string = sep;
  for (const part of path.split(sep).filter(Boolean)) {
    const next = join(current, part);
    let link = false;
    try {
      link = lstatSync(next).isSymbolicLink();
    } catch {
      return; // the rest does not exist (only in check mode)
    }
    const location = join(resolveExisting(current).real, part);
    if (link && writable.some((dir) => isWithin(location, dir) && location !== dir)) {
      refuse(`allowWrite ${path} passes through the symlink ${next}, which lies in a writable directory (a sandboxed server could have made it)`, 'write the real path, or remove the symlink');
    }
    current = next;
  }
}

function exclude(map: Map<string, Set<string>>, dir: string, name: string): void {
  const names = map.get(dir) ?? new Set<string>();
  names.add(name);
  map.set(dir, names);
}

/** The entries to bind back into a rebuilt directory; undefined when this user may not list it. */
function listEntries(dir: string, include: (name: string) => boolean): RebuiltEntry[] | undefined {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EACCES') return undefined;
    throw error;
  }
  return entries
    .filter((entry) => include(entry.name))
    .map((entry) => (entry.isSymbolicLink() ? { name: entry.name, symlink: readlinkSync(join(dir, entry.name)) } : { name: entry.name }));
}

function existsAt(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function refuse(message: string, remedy: string): never {
  throw new GatewayError(ErrorCodes.SANDBOX_INVALID, `sandbox refused: ${message}`, { remedy });
}
