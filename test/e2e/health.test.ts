/**
 * Health a person and Kubernetes can use, from real gateway processes: an upstream in a crash
 * loop (it starts, then exits, every time) makes `/healthz` and `mcpgate status` say `degraded`
 * and name it, while `/readyz` stays ready (another upstream serves) and `/livez` answers; a
 * gateway whose only upstream cannot start is live but not ready; one whose upstream is still on
 * its first start is live and not ready yet.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, REPO, runMcpgate, startHttpGateway, startStdioGateway, waitFor, type HttpGateway, type TempConfig } from '../support/gateway.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function probe(gateway: HttpGateway, path: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`http://127.0.0.1:${gateway.port}${path}`);
  return { status: res.status, body: (await res.json()) as Json };
}

/** Fast restarts, so a loop turns in seconds. */
const FAST_RESTARTS = { upstreams: { restartInitialDelay: '50ms', restartMaxDelay: '200ms' } };

describe('a crash-looping upstream', () => {
  let config: TempConfig;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: FAST_RESTARTS,
      servers: {
        echo: fixtureServer('echo', { tools: { default: 'allow' } }),
        flaky: { command: process.execPath, args: [join(REPO, 'test/fixtures/servers/crashLoop.mjs')], cwd: REPO, tools: { default: 'allow' } },
      },
    });
    gateway = await startHttpGateway(config.dir);
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('makes /healthz degraded and names the server, while /readyz stays ready and /livez answers', async () => {
    let health: Json = {};
    await waitFor(async () => {
      health = (await probe(gateway, '/healthz')).body;
      return health.status === 'degraded';
    }, 45_000, () => `/healthz to turn degraded (last: ${JSON.stringify(health)})`);
    expect(health.degraded).toEqual({ flaky: expect.stringMatching(/^restart loop: \d+ restarts in the last 5 minutes$/) });
    expect(health.upstreams.echo).toBe('ready');
    expect(await probe(gateway, '/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
    expect(await probe(gateway, '/livez')).toEqual({ status: 200, body: { status: 'ok' } });
  }, 60_000);

  it('mcpgate status --json and the text view show the loop: restarts, last error, sandbox', async () => {
    const json = await runMcpgate(['status', '--config', config.dir, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const { gateways, problems } = JSON.parse(json.stdout) as { gateways: Json[]; problems: string[] };
    expect(problems).toEqual([]);
    expect(gateways).toHaveLength(1);
    const status = gateways[0] as Json;
    expect(status).toMatchObject({ pid: gateway.process.pid, transport: gateway.url.href, reload_generation: 0, health: { status: 'degraded', ready: true } });
    const flaky = (status.upstreams as Json[]).find((u) => u.name === 'flaky') as Json;
    expect(flaky.restarts).toBeGreaterThanOrEqual(3);
    expect(flaky.recent_restarts).toBeGreaterThanOrEqual(3);
    expect(flaky.last_error).toContain('crashLoop fixture: lost my database connection, exiting');
    expect(flaky).toMatchObject({ transport: 'stdio', sandbox: 'bwrap', unconfined: false, tools: expect.any(Number) });
    expect((status.upstreams as Json[]).find((u) => u.name === 'echo')).toMatchObject({ state: 'ready', restarts: 0, recent_restarts: 0 });
    expect(status.sessions).toEqual([]);
    expect(status.approvals).toEqual([]);

    const text = await runMcpgate(['status', '--config', config.dir]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`gateway pid ${gateway.process.pid} (${gateway.url.href})`);
    expect(text.stdout).toContain('health: degraded, ready');
    expect(text.stdout).toMatch(/ {2}flaky: restart loop: \d+ restarts in the last 5 minutes/);
    expect(text.stdout).toMatch(/^echo +ready +0 +bwrap/m);
    expect(text.stdout).toContain('no pending approvals');
  }, 60_000);

  it('lists a connected client session', async () => {
    const client = await gateway.connect();
    await client.callTool({ name: 'echo__echo', arguments: { message: 'hi' } });
    const json = await runMcpgate(['status', '--config', config.dir, '--json']);
    const [status] = (JSON.parse(json.stdout) as { gateways: Json[] }).gateways;
    expect(status?.sessions).toEqual([expect.objectContaining({ transport: 'http', client: 'mcpgate-test 1.0.0', calls: 1 })]);
  }, 60_000);
});

describe('readiness', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('a gateway whose every upstream fails is live, not ready, and degraded', async () => {
    const config = await makeConfig({ gateway: FAST_RESTARTS, servers: { broken: fixtureServer('exitAtStart', { tools: { default: 'allow' } }) } });
    cleanups.push(() => config.cleanup());
    const gateway = await startHttpGateway(config.dir);
    cleanups.push(() => gateway.close());
    await waitFor(async () => (await probe(gateway, '/readyz')).body.reason === 'no upstream is ready', 30_000, () => '/readyz to say no upstream is ready');
    expect(await probe(gateway, '/readyz')).toEqual({ status: 503, body: { status: 'not ready', reason: 'no upstream is ready' } });
    expect(await probe(gateway, '/livez')).toEqual({ status: 200, body: { status: 'ok' } });
    const health = await probe(gateway, '/healthz');
    expect(health.status).toBe(200); // /healthz stays 200 (compatible): the body says what is wrong
    expect(health.body).toMatchObject({ status: 'degraded', ready: false, degraded: { broken: expect.stringMatching(/^(failed|failed \(retrying\)|restart loop: .*)$/) } });
  }, 60_000);

  it('a gateway whose upstream is still on its first start is live but not ready yet', async () => {
    const config = await makeConfig({
      servers: { slow: { command: process.execPath, args: [join(REPO, 'test/fixtures/servers/slowInit.mjs')], startupTimeout: '60s', tools: { default: 'allow' } } },
    });
    cleanups.push(() => config.cleanup());
    const gateway = await startHttpGateway(config.dir);
    cleanups.push(() => gateway.close());
    expect(await probe(gateway, '/readyz')).toEqual({ status: 503, body: { status: 'not ready', reason: 'upstreams are still on their first start' } });
    expect(await probe(gateway, '/livez')).toEqual({ status: 200, body: { status: 'ok' } });
    expect((await probe(gateway, '/healthz')).body).toMatchObject({ status: 'ok', ready: false });
  }, 60_000);
});

describe('mcpgate status of a stdio gateway (no HTTP probes)', () => {
  it('shows its health, upstreams and its one client session; without a running gateway status and console say so (exit 1)', async () => {
    const config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    const gateway = await startStdioGateway(config.dir, {}, {}, { name: 'stdio-agent', version: '2.0' });
    try {
      await gateway.client.callTool({ name: 'echo__echo', arguments: { message: 'hi' } });
      const out = await runMcpgate(['status', '--config', config.dir, '--json']);
      expect(out.code, out.stderr).toBe(0);
      const [status] = (JSON.parse(out.stdout) as { gateways: Json[] }).gateways;
      expect(status).toMatchObject({ transport: 'stdio', health: { status: 'ok', ready: true } });
      expect(status?.upstreams).toEqual([expect.objectContaining({ name: 'echo', state: 'ready', restarts: 0 })]);
      expect(status?.sessions).toEqual([expect.objectContaining({ transport: 'stdio', client: 'stdio-agent 2.0', calls: 1 })]);
    } finally {
      await gateway.close();
    }
    await waitFor(async () => (await runMcpgate(['status', '--config', config.dir])).code === 1, 20_000, () => 'status to find no gateway once it stopped');
    const none = await runMcpgate(['status', '--config', config.dir]);
    expect(none.stderr).toContain('no running mcpgate gateway found');
    const login = await runMcpgate(['console', '--config', config.dir]);
    expect(login.code).toBe(1);
    expect(login.stderr).toContain('no running mcpgate gateway found');
    await config.cleanup();
  }, 60_000);
});
