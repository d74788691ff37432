/**
 * The network policy under managed requirements, and remote upstream URLs, on real processes:
 * a managed deny beats a servers.d allow (proxy) and a servers.d URL (remote upstream); a user
 * allow outside `network.allowOnly` is refused with file:line by `mcpgate check` and has no effect
 * at run time; `check` and `tools` print each server's effective network policy.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, freePort, makeConfig, REPO, runMcpgate, startStdioGateway, textOf, waitFor, waitForAudit, waitForTools, type AuditRecord, type StdioGateway, type TempConfig } from '../support/gateway.js';
import { startOrigin, type Origin } from '../support/origins.js';

const decisionFor = (records: AuditRecord[], host: string) => records.find((r) => r.event === 'mcpgate.network.decision' && r.host === host);

describe('managed network requirements', () => {
  let config: TempConfig;
  let gateway: StdioGateway;
  let client: Client;
  let requirements: string;
  let origins: Origin[];

  beforeAll(async () => {
    origins = await Promise.all(['127.0.0.2', '127.0.0.3', '127.0.0.4'].map(startOrigin));
    config = await makeConfig({
      servers: {
        netprobe: fixtureServer('netprobe', { tools: { allow: ['*'] }, network: { default: 'allow', allow: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] } }),
      },
    });
    requirements = join(config.dir, 'requirements.yaml');
    await writeFile(requirements, stringify({ network: { deny: ['127.0.0.3'], allowOnly: ['127.0.0.2', '127.0.0.3'] } }));
    gateway = await startStdioGateway(config.dir, {}, { MCPGATE_REQUIREMENTS: requirements });
    client = gateway.client;
    await waitForTools(client, ['netprobe__fetch']);
  });

  afterAll(async () => {
    await gateway?.close();
    await Promise.all(origins.map((o) => o.close()));
    await config?.cleanup();
  });

  const fetch = async (origin: Origin) => textOf(await client.callTool({ name: 'netprobe__fetch', arguments: { url: origin.url, via: 'connect' } }));

  it('a managed deny beats the servers.d allow', async () => {
    const [, denied] = origins as [Origin, Origin, Origin];
    expect(await fetch(denied)).toContain(`denied by managed: ${requirements} network.deny[0] (127.0.0.3)`);
    expect(denied.requests()).toBe(0);
    const record = decisionFor(await waitForAudit(config.auditFile, (rs) => decisionFor(rs, '127.0.0.3') !== undefined), '127.0.0.3');
    expect(record).toMatchObject({ decision: 'deny', decided_by: 'managed', rule: `${requirements} network.deny[0] (127.0.0.3)` });
  });

  it('a user allow outside network.allowOnly has no effect (the destination is denied as outside the cap); inside it, it allows', async () => {
    const [inside, , outside] = origins as [Origin, Origin, Origin];
    expect(await fetch(outside)).toContain(`is outside the managed allow-list (${requirements} network.allowOnly)`);
    expect(outside.requests()).toBe(0);
    expect(await fetch(inside)).toBe('HTTP 200: hello from 127.0.0.2');
    const records = await waitForAudit(config.auditFile, (rs) => decisionFor(rs, '127.0.0.4') !== undefined && decisionFor(rs, '127.0.0.2')?.bytes_down !== undefined);
    expect(decisionFor(records, '127.0.0.4')).toMatchObject({ decision: 'deny', decided_by: 'managed' });
    expect(decisionFor(records, '127.0.0.2')).toMatchObject({ decision: 'allow', decided_by: 'rule' });
  });

  it('mcpgate check refuses the allow outside allowOnly with file:line, names the overridden allow and prints the effective policy', async () => {
    const out = await runMcpgate(['check', '--config', config.dir, '--requirements', requirements]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/servers\.d\/netprobe\.yaml:\d+: network\.allow\[2\]: allow rule "127\.0\.0\.4" refused: it is outside the managed allow-list \(.*network\.allowOnly: 127\.0\.0\.2, 127\.0\.0\.3\)/);
    expect(out.stdout).toMatch(/servers\.d\/netprobe\.yaml:\d+: network\.allow\[1\]: managed: .* network\.deny\[0\] \(127\.0\.0\.3\) overrides this allow rule \(127\.0\.0\.3\)/);
    expect(out.stdout).toMatch(/servers\.d\/netprobe\.yaml: network\.default: default allow applies only inside the managed allow-list/);
    const line = out.stdout.split('\n').find((l) => l.startsWith('network  netprobe'));
    expect(line).toContain('default allow (servers.d/netprobe.yaml network.default)');
    expect(line).toContain(`deny: 127.0.0.3 (managed: ${requirements} network.deny[0])`);
    expect(line).toContain('allow: 127.0.0.2 (servers.d/netprobe.yaml network.allow[0]), 127.0.0.3 (servers.d/netprobe.yaml network.allow[1])');
    expect(line).not.toContain('127.0.0.4');
    expect(line).toContain(`allowOnly: 127.0.0.2 (managed: ${requirements} network.allowOnly[0])`);
  });

  it('mcpgate tools prints the effective network policy per server (text and --json)', async () => {
    const text = await runMcpgate(['tools', '--config', config.dir, '--requirements', requirements]);
    expect(text.stdout).toMatch(/^network netprobe: default allow .*deny: 127\.0\.0\.3 \(managed: /m);
    const json = await runMcpgate(['tools', '--config', config.dir, '--requirements', requirements, '--json']);
    const servers = (JSON.parse(json.stdout) as { servers: Array<{ server: string; network?: Record<string, unknown> }> }).servers;
    expect(servers.find((s) => s.server === 'netprobe')?.network).toMatchObject({
      default: 'allow',
      deny: [{ rule: '127.0.0.3', source: `managed: ${requirements} network.deny[0]` }],
      allow_only: [{ rule: '127.0.0.2' }, { rule: '127.0.0.3' }],
    });
  });
});

describe('remote upstream URLs under the network policy', () => {
  let everything: ChildProcess;
  let port: number;
  let config: TempConfig;
  let gateway: StdioGateway;
  let requirements: string;

  beforeAll(async () => {
    port = await freePort();
    everything = spawn(process.execPath, [join(REPO, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'streamableHttp'], {
      env: { ...process.env, PORT: String(port) },
      stdio: 'ignore',
    });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/mcp`, { signal: AbortSignal.timeout(500) }).catch(() => undefined)) !== undefined, 20_000);
    config = await makeConfig({
      gateway: { network: { deny: ['127.0.0.3'] } },
      servers: {
        reachable: { url: `http://127.0.0.2:${port}/mcp`, tools: { default: 'allow' } },
        blocked: { url: `http://127.0.0.3:${port}/mcp`, tools: { default: 'allow' } },
        managed: { url: `http://127.0.0.4:${port}/mcp`, tools: { default: 'allow' } },
      },
    });
    requirements = join(config.dir, 'requirements.yaml');
    await writeFile(requirements, stringify({ network: { deny: ['127.0.0.4'] } }));
    gateway = await startStdioGateway(config.dir, {}, { MCPGATE_REQUIREMENTS: requirements });
  });

  afterAll(async () => {
    await gateway?.close();
    everything?.kill();
    await config?.cleanup();
  });

  it('a URL that a deny names is refused at start, clearly and for good (no restart); a managed deny beats the servers.d URL; the loopback URL an admin wrote is not a special-address deny', async () => {
    await waitForTools(gateway.client, ['reachable__echo']);
    const records = await waitForAudit(config.auditFile, (rs) => ['blocked', 'managed'].every((s) => rs.some((r) => r.event === 'mcpgate.upstream.state' && r.server === s && r.state === 'failed')));
    const failed = (server: string) => records.find((r) => r.event === 'mcpgate.upstream.state' && r.server === server && r.state === 'failed');
    expect(failed('blocked')?.error).toBe(`upstream URL http://127.0.0.3:${port}/mcp refused by the network policy: denied by gateway.yaml network.deny[0] (127.0.0.3); fix: remove the deny rule that names it (gateway.yaml / servers.d network.deny), or ask the administrator (managed network.deny / network.allowOnly)`);
    expect(failed('managed')?.error).toContain(`upstream URL http://127.0.0.4:${port}/mcp refused by the network policy: denied by managed: ${requirements} network.deny[0] (127.0.0.4); fix: `);
    const urls = records.filter((r) => r.event === 'mcpgate.network.decision' && r.protocol === 'upstream_url');
    expect(urls.find((r) => r.server === 'blocked')).toMatchObject({ host: '127.0.0.3', port, decision: 'deny', decided_by: 'rule' });
    expect(urls.find((r) => r.server === 'managed')).toMatchObject({ host: '127.0.0.4', decision: 'deny', decided_by: 'managed' });
    expect(urls.find((r) => r.server === 'reachable')).toMatchObject({ host: '127.0.0.2', decision: 'allow' });
    expect(records.some((r) => r.event === 'mcpgate.upstream.state' && r.server === 'blocked' && r.state === 'restarting')).toBe(false);
    const check = await runMcpgate(['check', '--config', config.dir, '--requirements', requirements]);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/servers\.d\/blocked\.yaml: url: upstream URL refused by the network policy: denied by gateway\.yaml network\.deny\[0\] \(127\.0\.0\.3\)/);
    expect(check.stdout).toMatch(/^error\s+managed/m);
  });
});
