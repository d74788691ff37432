import { describe, expect, it } from 'vitest';
import { BWRAP_BASE_FLAGS, bwrapArgs } from '../../src/sandbox/bwrapArgs.js';
import { sortOps, type MountOp } from '../../src/sandbox/mountPlan.js';

describe('bwrapArgs', () => {
  it('isolates every namespace but the user one (from the probe), drops capabilities, and ends with the command', () => {
    const args = bwrapArgs({ ops: [], cwd: '/srv/app' }, ['--unshare-user', '--disable-userns'], '/usr/bin/node', ['server.js', '--flag']);
    expect(args.slice(0, BWRAP_BASE_FLAGS.length)).toEqual(BWRAP_BASE_FLAGS);
    for (const flag of ['--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--new-session', '--die-with-parent']) expect(args).toContain(flag);
    expect(args.join(' ')).toContain('--cap-drop ALL --unshare-user --disable-userns --ro-bind / / --dev /dev --proc /proc');
    expect(args.slice(-6)).toEqual(['--chdir', '/srv/app', '--', '/usr/bin/node', 'server.js', '--flag']);
  });

  it('spells each mount: private tmpfs, exposed cwd, rebuilt directory, masks, writable paths, the egress socket', () => {
    const ops: MountOp[] = [
      { kind: 'write', path: '/home/a/proj/data' },
      { kind: 'rebuild', path: '/home/a', entries: [{ name: 'proj' }, { name: '.bashrc' }, { name: 'link', symlink: '../elsewhere' }] },
      { kind: 'mask', path: '/home/a/.ssh' },
      { kind: 'private', path: '/tmp' },
      { kind: 'expose', path: '/tmp/cfg' },
      { kind: 'maskFile', path: '/secret' },
      { kind: 'socket', source: '/run/user/1/egress.sock', path: '/tmp/.mcpgate/egress.sock' },
    ];
    const args = bwrapArgs({ ops: sortOps(ops), cwd: '/home/a/proj' }, [], 'srv', []);
    const mounts = args.slice(args.indexOf('/proc') + 1, args.indexOf('--chdir')).join(' ');
    expect(mounts).toBe(
      [
        '--tmpfs /tmp',
        '--ro-bind /dev/null /secret',
        '--ro-bind /tmp/cfg /tmp/cfg',
        '--tmpfs /home/a --ro-bind-try /home/a/proj /home/a/proj --ro-bind-try /home/a/.bashrc /home/a/.bashrc --symlink ../elsewhere /home/a/link --remount-ro /home/a',
        '--tmpfs /home/a/.ssh --remount-ro /home/a/.ssh',
        '--bind /run/user/1/egress.sock /tmp/.mcpgate/egress.sock',
        '--bind /home/a/proj/data /home/a/proj/data',
      ].join(' '),
    );
  });
});

describe('sortOps', () => {
  it('puts ancestors before descendants, whatever their kind, so no later mount hides an earlier one', () => {
    const sorted = sortOps([
      { kind: 'private', path: '/var/tmp' },
      { kind: 'rebuild', path: '/var', entries: [] },
      { kind: 'write', path: '/var/lib/x' },
      { kind: 'mask', path: '/var/lib' },
    ]);
    expect(sorted.map((op) => `${op.kind} ${op.path}`)).toEqual(['rebuild /var', 'private /var/tmp', 'mask /var/lib', 'write /var/lib/x']);
  });
});
