/**
 * The container image's pieces, without a container engine (scripts/container-smoke.sh builds and
 * runs the real image): the gateway started as the Dockerfile starts it (its ENV and CMD), on a
 * configuration directory mounted read-only (a private mount namespace from util-linux `unshare`),
 * writes everything to MCPGATE_STATE_DIR and nothing to the config; without that directory an
 * unwritable audit log stops it with a `fix:` line; .dockerignore keeps the build context small.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, freePort, MAIN, REPO, runMcpgate, textOf, waitFor } from '../support/gateway.js';

const JWT_KEY = 'container-test-hmac-key-0123456789abcdef';

/** ENV and CMD of the runtime stage, as the Dockerfile declares them. */
async function dockerfile(): Promise<{ env: Record<string, string>; cmd: string[] }> {
  const text = await readFile(join(REPO, 'Dockerfile'), 'utf8');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const [, name, value] of runtime.matchAll(/\b(MCPGATE_[A-Z_]+)=(\S+)/g)) env[name as string] = value as string;
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)?.[1] ?? '[]') as string[];
  return { env, cmd };
}

/** `mcpgate ARGS` with `readOnly` bind-mounted read-only in a mount namespace of its own. */
function onReadOnlyConfig(readOnly: string, args: string[], env: Record<string, string>): ChildProcess {
  const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"';
  return spawn('unshare', ['-rm', 'sh', '-c', script, 'sh', readOnly, process.execPath, MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('the container image, piece by piece', () => {
  let work: string;
  let config: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mcpgate-container-'));
    config = join(work, 'config');
    await mkdir(join(config, 'servers.d'), { recursive: true });
    await writeFile(join(config, 'gateway.yaml'), stringify({ auth: { issuer: 'https://tokens.test/', audience: 'mcpgate', secret: '${env:JWT_KEY}' }, upstreams: { startupWait: '30s' } }));
    await writeFile(join(config, 'servers.d', 'echo.yaml'), stringify(fixtureServer('echo', { tools: { default: 'allow' } })));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('the Dockerfile points config, audit, pins and admin dir where the image can write', async () => {
    const { env, cmd } = await dockerfile();
    expect(env).toEqual({ MCPGATE_CONFIG: '/config', MCPGATE_STATE_DIR: '/var/log/mcpgate' });
    expect(cmd).toEqual(['serve', '--transport', 'http', '--host', '0.0.0.0', '--port', '8848']);
    expect(await readFile(join(REPO, 'Dockerfile'), 'utf8')).toMatch(/VOLUME \["\/var\/log\/mcpgate"\]/);
  });

  it('started as the image starts it, on a read-only config: serves, and writes only to MCPGATE_STATE_DIR', async () => {
    const { env, cmd } = await dockerfile();
    const state = join(work, 'state');
    await mkdir(state);
    const before = (await readdir(config, { recursive: true })).sort();
    const port = await freePort();
    const child = onReadOnlyConfig(config, [...cmd, '--port', String(port)], { MCPGATE_CONFIG: config, MCPGATE_STATE_DIR: state, JWT_KEY, MCPGATE_LOG_LEVEL: 'info' });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.resume();
    try {
      await waitFor(async () => {
        if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}: ${stderr}`);
        return (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok === true;
      }, 30_000, () => `the gateway on ${port}: ${stderr}`);
      expect(env.MCPGATE_STATE_DIR).toBe('/var/log/mcpgate');
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuer('https://tokens.test/').setAudience('mcpgate').setExpirationTime('5m').sign(new TextEncoder().encode(JWT_KEY));
      const client = new Client({ name: 'container-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      expect(textOf(await client.callTool({ name: 'echo__echo', arguments: { message: 'from the container' } }))).toBe('from the container');
      await client.close();
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    expect(stderr).not.toMatch(/EROFS|read-only/);
    expect((await readdir(config, { recursive: true })).sort()).toEqual(before);
    expect((await readdir(state)).sort()).toEqual(['.mcpgate', 'mcpgate-audit.log', 'mcpgate-pins.json']);
    const verify = await runMcpgate(['audit', 'verify'], { MCPGATE_CONFIG: config, MCPGATE_STATE_DIR: state });
    expect(verify.stdout).toMatch(/^intact \(\d+ records/);
    expect(verify.code).toBe(0);
  });

  it('without a writable place for the audit log, it refuses to start with a fix: line', async () => {
    const { cmd } = await dockerfile();
    const child = onReadOnlyConfig(config, [...cmd, '--port', String(await freePort())], { MCPGATE_CONFIG: config, MCPGATE_STATE_DIR: '', JWT_KEY });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.resume();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain(`mcpgate: cannot open the audit log ${join(config, 'mcpgate-audit.log')}: it is on a read-only file system (EROFS`);
    expect(stderr).toContain('\n  fix: set audit.file in gateway.yaml to a writable path (or MCPGATE_STATE_DIR to a writable directory; in the container image: the /var/log/mcpgate volume)\n');
  });

  it('.dockerignore keeps dependencies, builds, history, tests and state out of the build context', async () => {
    const ignored = (await readFile(join(REPO, '.dockerignore'), 'utf8')).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git', 'test', 'coverage', '*.log', '.mcpgate', 'mcpgate-pins.json*']));
    // …but never what the Dockerfile copies.
    for (const needed of ['package.json', 'package-lock.json', 'tsconfig.json', 'src', 'schema']) expect(ignored).not.toContain(needed);
  });
});
