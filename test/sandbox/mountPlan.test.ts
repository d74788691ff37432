/** The mount planner against real directories (symlinks, missing paths, what it refuses). */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planMounts, type MountOp, type MountRequest } from '../../src/sandbox/mountPlan.js';

let root: string;
beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'mcpgate-plan-')));
  await mkdir(join(root, 'home/.ssh'), { recursive: true });
  await writeFile(join(root, 'home/.netrc'), 'machine x password y');
  await writeFile(join(root, 'home/.bashrc'), '');
  await symlink('.bashrc', join(root, 'home/.profile'));
  await mkdir(join(root, 'cfg/servers.d'), { recursive: true });
  await writeFile(join(root, 'cfg/gateway.yaml'), '');
  await writeFile(join(root, 'cfg/audit.log'), '');
  await mkdir(join(root, 'cfg/node_modules'));
  await writeFile(join(root, 'cfg/node_modules/server.js'), '');
  await writeFile(join(root, 'bin'), '');
});
afterEach(() => rm(root, { recursive: true, force: true }));

const request = (extra: Partial<MountRequest> = {}): MountRequest => ({
  cwd: join(root, 'cfg'),
  command: join(root, 'bin'),
  protect: [],
  allowWrite: [],
  privateDirs: [],
  create: true,
  ...extra,
});
const protect = (...paths: string[]) => paths.map((path) => ({ path: join(root, path), why: 'test' }));
const find = (ops: readonly MountOp[], kind: MountOp['kind'], path: string) => ops.find((op) => op.kind === kind && op.path === join(root, path));

describe('planMounts', () => {
  it('covers a protected directory with a read-only tmpfs', () => {
    const { ops } = planMounts(request({ protect: protect('home/.ssh') }));
    expect(find(ops, 'mask', 'home/.ssh')).toBeDefined();
  });

  it('hides protected files by rebuilding their directory without them (symlinks recreated, not followed)', () => {
    const { ops } = planMounts(request({ protect: protect('home/.netrc', 'cfg/gateway.yaml', 'cfg/audit.log', 'cfg/servers.d') }));
    const home = find(ops, 'rebuild', 'home') as Extract<MountOp, { kind: 'rebuild' }>;
    expect(home.entries).toEqual(expect.arrayContaining([{ name: '.ssh' }, { name: '.bashrc' }, { name: '.profile', symlink: '.bashrc' }]));
    expect(home.entries.map((e) => e.name)).not.toContain('.netrc');
    const cfg = find(ops, 'rebuild', 'cfg') as Extract<MountOp, { kind: 'rebuild' }>;
    expect(cfg.entries.map((e) => e.name).sort()).toEqual(['node_modules', 'servers.d']);
    expect(find(ops, 'mask', 'cfg/servers.d')).toBeDefined();
    // the mask of servers.d comes after the rebuild that binds it back
    expect(ops.indexOf(find(ops, 'mask', 'cfg/servers.d') as MountOp)).toBeGreaterThan(ops.indexOf(cfg));
  });

  it('hides a path that does not exist yet in the deepest directory that does, so creating it later shows nothing', () => {
    const { ops } = planMounts(request({ protect: protect('home/.aws/credentials', 'cfg/.mcpgate') }));
    expect((find(ops, 'rebuild', 'home') as Extract<MountOp, { kind: 'rebuild' }>).entries.map((e) => e.name)).not.toContain('.aws');
    expect((find(ops, 'rebuild', 'cfg') as Extract<MountOp, { kind: 'rebuild' }>).entries.map((e) => e.name)).toContain('gateway.yaml');
  });

  it('masks the real target of a symlinked protected directory', async () => {
    await mkdir(join(root, 'vault'));
    await symlink(join(root, 'vault'), join(root, 'home/.gnupg'));
    expect(find(planMounts(request({ protect: protect('home/.gnupg') })).ops, 'mask', 'vault')).toBeDefined();
  });

  it('skips what a private directory hides, but not inside the working directory it exposes again', () => {
    const command = join(root, 'cfg/node_modules/server.js');
    const { ops } = planMounts(request({ privateDirs: [root], command, protect: protect('home/.ssh', 'cfg/gateway.yaml') }));
    expect(ops[0]).toEqual({ kind: 'private', path: root });
    expect(find(ops, 'expose', 'cfg')).toBeDefined();
    expect(find(ops, 'mask', 'home/.ssh')).toBeUndefined();
    expect(find(ops, 'rebuild', 'cfg')).toBeDefined();
  });

  it('keeps only the named entries of a directory such as /run', async () => {
    await mkdir(join(root, 'run/current-system'), { recursive: true });
    await writeFile(join(root, 'run/docker.sock'), '');
    const { ops } = planMounts(request({ protect: [{ path: join(root, 'run'), why: 'sockets', keep: ['current-system', 'wrappers'] }] }));
    expect((find(ops, 'rebuild', 'run') as Extract<MountOp, { kind: 'rebuild' }>).entries).toEqual([{ name: 'current-system' }]);
  });

  it('creates missing allowWrite directories (not in check mode) and makes them writable', () => {
    expect(existsSync(join(root, 'cfg/data/sub'))).toBe(false);
    planMounts(request({ allowWrite: [{ path: join(root, 'cfg/data/sub'), written: './data/sub' }], create: false }));
    expect(existsSync(join(root, 'cfg/data/sub'))).toBe(false);
    const { ops } = planMounts(request({ allowWrite: [{ path: join(root, 'cfg/data/sub'), written: './data/sub' }] }));
    expect(existsSync(join(root, 'cfg/data/sub'))).toBe(true);
    expect(find(ops, 'write', 'cfg/data/sub')).toBeDefined();
  });

  it('binds the egress socket into the private /tmp', () => {
    const { ops } = planMounts(request({ egressSocket: '/run/egress.sock' }));
    expect(ops).toContainEqual({ kind: 'socket', source: '/run/egress.sock', path: '/tmp/.mcpgate/egress.sock' });
  });

  describe('refuses (SANDBOX_INVALID)', () => {
    const refused = (extra: Partial<MountRequest>) => {
      try {
        planMounts(request(extra));
      } catch (error) {
        return error as Error & { code?: string };
      }
      throw new Error('not refused');
    };

    it('a working directory or command inside a protected path', () => {
      expect(refused({ protect: protect('cfg') })).toMatchObject({ code: 'MCPGATE_SANDBOX_INVALID', message: expect.stringMatching(/working directory .* lies inside .*cfg \(test\)/) });
      expect(refused({ protect: protect('bin') }).message).toMatch(/command .*bin lies inside/);
    });

    it('a command hidden by a private directory outside the working directory', () => {
      expect(refused({ privateDirs: [root], cwd: join(root, 'home') }).message).toMatch(/command .* lies under .*private directory/);
    });

    it('an allowWrite path that contains or lies inside a protected path', () => {
      expect(refused({ protect: protect('cfg/gateway.yaml'), allowWrite: [{ path: join(root, 'cfg'), written: '.' }] }).message).toMatch(/allowWrite .*cfg overlaps .*gateway\.yaml/);
      expect(refused({ protect: protect('home/.ssh'), allowWrite: [{ path: join(root, 'home/.ssh/x'), written: '~/.ssh/x' }] }).message).toMatch(/overlaps/);
    });

    it('a relative allowWrite path that a symlink leads out of the working directory', async () => {
      await symlink(join(root, 'home'), join(root, 'cfg/data'));
      expect(refused({ allowWrite: [{ path: join(root, 'cfg/data'), written: './data' }] }).message).toMatch(/allowWrite "\.\/data" resolves to .*home, outside its working directory/);
    });

    it('an allowWrite path through a symlink lying in another writable directory (one a server could have planted)', async () => {
      await mkdir(join(root, 'cfg/data'));
      await symlink(join(root, 'home'), join(root, 'cfg/data/cache'));
      const allowWrite = [
        { path: join(root, 'cfg/data'), written: './data' },
        { path: join(root, 'cfg/data/cache'), written: join(root, 'cfg/data/cache') },
      ];
      expect(refused({ allowWrite }).message).toMatch(/passes through the symlink .*cache, which lies in a writable directory/);
    });
  });
});
