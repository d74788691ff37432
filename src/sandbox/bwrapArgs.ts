/**
 * The bubblewrap command line for a planned sandbox. Pure: the plan (mountPlan.ts) already holds
 * every path; this only spells it in bwrap's order-sensitive options.
 */
import { join } from 'node:path';
import type { MountOp, MountPlan } from './mountPlan.js';

/**
 * Namespaces and privileges every sandbox gets: its own PID, network (only its own loopback),
 * IPC and UTS namespaces, a new session (no TIOCSTI into the gateway's terminal), death with the
 * gateway, and no capabilities (as root, bwrap would otherwise keep them: a root server could
 * unmount what hides the protected paths).
 */
export const BWRAP_BASE_FLAGS: readonly string[] = [
  '--unshare-pid',
  '--unshare-net',
  '--unshare-ipc',
  '--unshare-uts',
  '--unshare-cgroup-try',
  '--new-session',
  '--die-with-parent',
  '--cap-drop',
  'ALL',
];

/**
 * bwrap's arguments for a plan, ending with `--` and the command line to run inside.
 * `userFlags` come from the probe: `--unshare-user` (its mounts cannot be undone from inside)
 * and `--disable-userns` where this bwrap and kernel support them.
 * @example bwrapArgs({ ops: [], cwd: '/srv' }, ['--unshare-user'], 'node', ['s.js'])
 * // [...BWRAP_BASE_FLAGS, '--unshare-user', '--ro-bind', '/', '/', …, '--chdir', '/srv', '--', 'node', 's.js']
 */
export function bwrapArgs(plan: MountPlan, userFlags: readonly string[], command: string, args: readonly string[]): string[] {
  const out = [...BWRAP_BASE_FLAGS, ...userFlags, '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc'];
  for (const op of plan.ops) out.push(...opArgs(op));
  out.push('--chdir', plan.cwd, '--', command, ...args);
  return out;
}

function opArgs(op: MountOp): string[] {
  switch (op.kind) {
    case 'private':
      return ['--tmpfs', op.path];
    case 'expose':
      return ['--ro-bind', op.path, op.path];
    case 'mask':
      return ['--tmpfs', op.path, '--remount-ro', op.path];
    case 'maskFile':
      return ['--ro-bind', '/dev/null', op.path];
    case 'rebuild': {
      const out = ['--tmpfs', op.path];
      for (const entry of op.entries) {
        const path = join(op.path, entry.name);
        // -try: an entry removed since it was listed is simply absent, not a failed start
        out.push(...(entry.symlink === undefined ? ['--ro-bind-try', path, path] : ['--symlink', entry.symlink, path]));
      }
      out.push('--remount-ro', op.path);
      return out;
    }
    case 'write':
      return ['--bind', op.path, op.path];
    case 'socket':
      return ['--bind', op.source, op.path];
  }
}
