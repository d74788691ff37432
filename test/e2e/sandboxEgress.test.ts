/**
 * The egress bridge: a sandboxed server's only way out. The test plays the network side's part
 * of the interface — an egress route whose Unix socket is served by a real HTTP server in this
 * process (the far end of the bridge, standing where the egress proxy will be) — and the probe
 * fixture reaches it through the proxy variables, while a direct connection to a loopback port
 * the test listens on fails. The gateway runs in this process from dist/ (the bridge is the
 * built dist/sandbox/bridge.js that the launcher starts inside the sandbox).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as GatewayModule from '../../src/gateway.js';
import type * as LoadModule from '../../src/config/load.js';
import type * as LoggerModule from '../../src/telemetry/logger.js';
import { makeConfig, readAudit, REPO, textOf, type TempConfig } from '../support/gateway.js';
import { anyCwdFixture, countingListener } from '../support/sandbox.js';

const dist = async <T>(path: string) => (await import(pathToFileURL(join(REPO, 'dist', path)).href)) as T;

describe('a sandboxed upstream with an egress route', () => {
  let socketDir: string;
  let farEnd: Server;
  const seen: string[] = [];
  let listener: Awaited<ReturnType<typeof countingListener>>;
  let config: TempConfig;
  let gateway: GatewayModule.Gateway;

  beforeAll(async () => {
    socketDir = await mkdtemp(join(tmpdir(), 'mcpgate-egress-'));
    const socketPath = join(socketDir, 'egress.sock');
    farEnd = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} host=${req.headers.host}`);
      res.end(`far end: ${req.method} ${req.url}`);
    });
    await new Promise<void>((resolve) => farEnd.listen(socketPath, resolve));
    listener = await countingListener('127.0.0.2');
    config = await makeConfig({ servers: { probe: anyCwdFixture('probe', { cwd: REPO, env: { NODE_OPTIONS: '--max-old-space-size=200' }, tools: { default: 'allow' } }) } });
    const { loadConfig } = await dist<typeof LoadModule>('config/load.js');
    const { Gateway } = await dist<typeof GatewayModule>('gateway.js');
    const { silentLogger } = await dist<typeof LoggerModule>('telemetry/logger.js');
    gateway = new Gateway({ config: await loadConfig(config.dir), logger: silentLogger(), egress: async (server) => (server === 'probe' ? { socketPath, tcpPort: 1 } : undefined) });
    await gateway.start();
  });

  afterAll(async () => {
    await gateway?.close();
    await listener?.close();
    await new Promise((resolve) => farEnd?.close(resolve));
    await rm(socketDir, { recursive: true, force: true });
    await config?.cleanup();
  });

  const call = async (name: string, args: Record<string, unknown>) => {
    const probe = gateway.upstreams.get('probe');
    if (probe?.state !== 'ready') throw new Error(`probe is ${probe?.state}: ${probe?.lastError}`);
    return probe.request('tools/call', { name, arguments: args });
  };

  it('runs the server sandboxed behind the bridge, its proxy variables pointing inside', async () => {
    expect(gateway.upstreams.get('probe')?.sandbox).toEqual({ kind: 'bwrap' });
    const env = JSON.parse(textOf(await call('env', {}))) as Record<string, unknown> & { names: string[] };
    expect(env).toMatchObject({ HTTP_PROXY: 'http://127.0.0.1:3128', ALL_PROXY: 'socks5h://127.0.0.1:3128', NO_PROXY: '' });
    expect(env.names).toEqual(expect.arrayContaining(['HTTPS_PROXY', 'http_proxy', 'https_proxy', 'all_proxy', 'no_proxy', 'NODE_USE_ENV_PROXY', 'NODE_OPTIONS']));
    expect(env.names).not.toContain('MCPGATE_BRIDGE_NODE_OPTIONS');
  });

  it('reaches the far end of the route through the bridge', async () => {
    const result = await call('proxy_get', { url: 'http://api.example.test/hello?x=1' });
    expect(textOf(result)).toBe('200 far end: GET http://api.example.test/hello?x=1');
    expect(seen).toContain('GET http://api.example.test/hello?x=1 host=api.example.test');
  });

  it('cannot connect anywhere else: not to a loopback port the host listens on', async () => {
    const direct = (await call('connect_tcp', { host: '127.0.0.2', port: listener.port })) as { isError?: boolean };
    expect(direct.isError).toBe(true);
    expect(textOf(direct)).toMatch(/^(ECONNREFUSED|ENETUNREACH)/);
    expect(listener.accepted()).toBe(0);
    expect((await readAudit(config.auditFile)).find((r) => r.event === 'mcpgate.upstream.state' && r.state === 'ready')).toMatchObject({ sandbox: 'bwrap' });
  });
});
