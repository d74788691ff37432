/** The launcher's decisions with the real bubblewrap probe (and one made unavailable). */
import { describe, expect, it } from 'vitest';
import type { ServerConfig, StdioTarget } from '../../src/config/types.js';
import { SandboxLauncher, sandboxLabel } from '../../src/sandbox/launcher.js';
import { probeSandbox } from '../../src/sandbox/probe.js';
import { proxyEnv } from '../../src/network/proxyEnv.js';

const FILES = { configDir: '/nonexistent/cfg', auditFile: '/nonexistent/cfg/audit.log', adminDir: '/nonexistent/cfg/.mcpgate', rulesFile: '/nonexistent/r.yaml', pinFile: '/nonexistent/p.json', referencedFiles: [] };
const TARGET: StdioTarget = { kind: 'stdio', command: 'node', args: ['server.js'], env: { KEY: 'v' }, cwd: process.cwd() };
const server = (mode: 'off' | 'auto' | 'required'): ServerConfig =>
  ({ name: 's', file: 'servers.d/s.yaml', target: TARGET, sandbox: { mode, modeSource: 'servers.d/s.yaml sandbox.mode', denyRead: [], allowWrite: [] } }) as unknown as ServerConfig;
const MISSING = { ...process.env, MCPGATE_BWRAP: '/nonexistent/bwrap' };

describe('probeSandbox', () => {
  it('finds bubblewrap able to create namespaces here (installed by .ci/run)', async () => {
    const probe = await probeSandbox();
    expect(probe, 'install bubblewrap (apt-get install bubblewrap): the sandbox tests need it').toMatchObject({ ok: true, bwrap: 'bwrap' });
  });

  it('says why not: a missing binary, or a platform without bubblewrap', async () => {
    expect(await probeSandbox(MISSING)).toEqual({ ok: false, reason: 'bubblewrap is not installed (MCPGATE_BWRAP=/nonexistent/bwrap: ENOENT)' });
    expect(await probeSandbox(process.env, 'darwin')).toMatchObject({ ok: false, reason: expect.stringMatching(/^macOS: the sandbox-exec profile is designed/) });
    expect(await probeSandbox(process.env, 'win32')).toEqual({ ok: false, reason: 'no sandbox is available on win32' });
  });
});

describe('SandboxLauncher', () => {
  it('wraps a server in bwrap, its environment its own plus a private TMPDIR', async () => {
    const launch = await new SandboxLauncher({ files: FILES }).launch(server('auto'), TARGET, { check: true });
    expect(launch.sandbox).toEqual({ kind: 'bwrap' });
    expect(launch.target.command).toBe('bwrap');
    expect(launch.target.args.slice(-3)).toEqual(['--', expect.stringMatching(/\/node$/), 'server.js']);
    expect(launch.target.env).toEqual({ KEY: 'v', TMPDIR: '/tmp' });
  });

  it('mode off: the target unchanged, flagged; with an egress route, the proxy variables at its TCP port', async () => {
    const launcher = new SandboxLauncher({ files: FILES, egress: async () => ({ socketPath: '/x.sock', tcpPort: 4567 }) });
    const launch = await launcher.launch(server('off'), TARGET);
    expect(launch.sandbox).toEqual({ kind: 'off', reason: 'sandbox.mode: off in servers.d/s.yaml' });
    expect(launch.target).toEqual({ ...TARGET, env: { KEY: 'v', ...proxyEnv('http://127.0.0.1:4567') } });
    expect(sandboxLabel(launch.sandbox)).toBe('off (sandbox.mode: off in servers.d/s.yaml): runs unconfined');
  });

  it('without bubblewrap: auto runs unconfined saying why, required refuses with MCPGATE_SANDBOX_UNAVAILABLE', async () => {
    const launcher = new SandboxLauncher({ files: FILES, env: MISSING });
    expect((await launcher.launch(server('auto'), TARGET)).sandbox).toEqual({ kind: 'none', reason: 'bubblewrap is not installed (MCPGATE_BWRAP=/nonexistent/bwrap: ENOENT)' });
    await expect(launcher.launch(server('required'), TARGET)).rejects.toMatchObject({
      code: 'MCPGATE_SANDBOX_UNAVAILABLE',
      message: 'sandbox.mode is required (servers.d/s.yaml sandbox.mode) but no sandbox is possible: bubblewrap is not installed (MCPGATE_BWRAP=/nonexistent/bwrap: ENOENT)',
    });
  });

  it('names a command that is nowhere on PATH', async () => {
    await expect(new SandboxLauncher({ files: FILES }).launch(server('auto'), { ...TARGET, command: 'no-such-mcp-server' })).rejects.toThrow(/command "no-such-mcp-server" is not on the PATH/);
  });
});

describe('proxyEnv', () => {
  it('points HTTP(S) at the HTTP face, everything else at SOCKS5 with remote name resolution, bypassing nothing', () => {
    expect(proxyEnv('http://127.0.0.1:3128')).toEqual({
      HTTP_PROXY: 'http://127.0.0.1:3128',
      HTTPS_PROXY: 'http://127.0.0.1:3128',
      http_proxy: 'http://127.0.0.1:3128',
      https_proxy: 'http://127.0.0.1:3128',
      ALL_PROXY: 'socks5h://127.0.0.1:3128',
      all_proxy: 'socks5h://127.0.0.1:3128',
      NO_PROXY: '',
      no_proxy: '',
      NODE_USE_ENV_PROXY: '1',
    });
  });
});
