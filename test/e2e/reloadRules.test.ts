/**
 * Reloading the rules while serving: gateway.yaml policy, `clients:` rules and approval settings, the managed
 * requirements file (a broken edit keeps the old floor: fail closed) and the approved-rules file.
 * Real gateway processes, one HTTP client connected throughout.
 */
import { SignJWT } from 'jose';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { OtlpReceiver } from '../support/otlpReceiver.js';
import {
  fixtureServer,
  makeConfig,
  startHttpGateway,
  startStdioGateway,
  waitFor,
  textOf,
  waitForAudit,
  waitForTools,
  writeRequirements,
  type AuditRecord,
  type HttpGateway,
  type TempConfig,
} from '../support/gateway.js';

/** Waits for the reload record of generation `generation` and returns it. */
async function reloadRecord(config: TempConfig, generation: number): Promise<AuditRecord> {
  const match = (r: AuditRecord) => r.event === 'mcpgate.config.change' && r.generation === generation;
  return (await waitForAudit(config.auditFile, (rs) => rs.some(match), 20_000)).find(match) as AuditRecord;
}

describe('reloading rules', () => {
  let config: TempConfig | undefined;
  let gateway: HttpGateway | undefined;
  let receiver: OtlpReceiver | undefined;
  afterEach(async () => {
    await gateway?.close();
    await receiver?.close();
    await config?.cleanup();
    gateway = config = receiver = undefined;
  });

  it('exports each reload as an OpenTelemetry log record too (a stdio client connected)', async () => {
    receiver = new OtlpReceiver();
    const endpoint = await receiver.start();
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    const stdio = await startStdioGateway(config.dir, {}, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BLRP_SCHEDULE_DELAY: '100' });
    try {
      await waitForTools(stdio.client, ['echo__echo']);
      await writeFile(join(config.dir, 'servers.d', 'broken.yaml'), 'url: [\n');
      const r = receiver;
      await waitFor(() => r.logs.some((l) => l.eventName === 'mcpgate.config.change'), 20_000, () => 'a mcpgate.config.change log record');
      const record = r.logs.find((l) => l.eventName === 'mcpgate.config.change');
      expect(record?.attributes).toMatchObject({ 'mcpgate.generation': 1, 'mcpgate.failed': ['broken'], 'mcpgate.failed_files': ['servers.d/broken.yaml'], 'mcpgate.trigger': 'watch' });
      expect(textOf(await stdio.client.callTool({ name: 'echo__echo', arguments: { message: 'on' } }))).toBe('on');
    } finally {
      await stdio.close();
    }
  });

  it('gateway.yaml policy and approval.channel apply to the next call', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    gateway = await startHttpGateway(config.dir);
    const client = await gateway.connect();
    await waitForTools(client, ['echo__add']);
    expect(textOf(await client.callTool({ name: 'echo__add', arguments: { a: 1, b: 2 } }))).toBe('3');

    const gatewayYaml = { audit: { file: config.auditFile }, upstreams: { startupWait: '30s' }, policy: { ask: ['echo/add'], deny: ['echo/echo'] }, approval: { channel: 'none' } };
    await writeFile(join(config.dir, 'gateway.yaml'), stringify(gatewayYaml));
    expect(await reloadRecord(config, 1)).toEqual(expect.objectContaining({ files: ['gateway.yaml'], rules_changed: true, restarted: [], failed: [] }));

    const asked = await client.callTool({ name: 'echo__add', arguments: { a: 1, b: 2 } });
    expect(asked.isError).toBe(true);
    expect(textOf(asked)).toContain('approval.channel: none');
    const denied = await client.callTool({ name: 'echo__echo', arguments: { message: 'x' } });
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toContain('gateway.yaml');
  });

  it('gateway.yaml clients: rules apply to the next call and tools/list of a connected, authenticated client', async () => {
    const key = 'hmac-key-for-the-reload-test-0123456789abcdef';
    const auth = { issuer: 'https://issuer.mcpgate.test', audience: 'mcpgate-reload', secret: '${env:RELOAD_TEST_JWT_KEY}' };
    config = await makeConfig({ gateway: { auth }, servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    gateway = await startHttpGateway(config.dir, [], { RELOAD_TEST_JWT_KEY: key });
    const token = await new SignJWT({ sub: 'bob', groups: ['restricted'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(auth.issuer)
      .setAudience(auth.audience)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(key));
    const bob = await gateway.connect({}, { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    await waitForTools(bob, ['echo__add']);
    expect(textOf(await bob.callTool({ name: 'echo__add', arguments: { a: 1, b: 2 } }))).toBe('3');

    const clients = [{ group: 'restricted', deny: [{ tool: 'echo/add', reason: 'restricted users may not add' }] }];
    await writeFile(join(config.dir, 'gateway.yaml'), stringify({ audit: { file: config.auditFile }, upstreams: { startupWait: '30s' }, auth, clients }));
    expect(await reloadRecord(config, 1)).toEqual(expect.objectContaining({ files: ['gateway.yaml'], rules_changed: true, failed: [] }));

    const denied = await bob.callTool({ name: 'echo__add', arguments: { a: 1, b: 2 } });
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toContain('restricted users may not add');
    expect((await bob.listTools()).tools.map((t) => t.name)).not.toContain('echo__add');
  });

  it('a requirements edit applies; a broken one keeps the old floor and names file:line', async () => {
    config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    const requirements = await writeRequirements(config.dir, { rules: [{ tool: 'echo/add', decision: 'deny', reason: 'managed says no' }] });
    gateway = await startHttpGateway(config.dir, ['--requirements', requirements]);
    const client = await gateway.connect();
    await waitForTools(client, ['echo__echo']);
    const deniedAdd = async () => {
      const result = await client.callTool({ name: 'echo__add', arguments: { a: 1, b: 2 } });
      return result.isError === true && textOf(result).includes('managed says no');
    };
    expect(await deniedAdd()).toBe(true);

    await writeFile(requirements, 'rules:\n  - tool: echo/add\n    decision: maybe\n');
    const broken = await reloadRecord(config, 1);
    expect(broken).toEqual(expect.objectContaining({ files: ['requirements.yaml'], failed_files: ['requirements.yaml'] }));
    expect(broken.errors).toEqual([expect.stringContaining(`${requirements}:3: rules[0].decision`)]);
    expect(gateway.stderr()).toContain('the last good version stays in force (fail closed)');
    expect(await deniedAdd()).toBe(true);

    await writeFile(requirements, stringify({ rules: [] }));
    expect(await reloadRecord(config, 2)).toEqual(expect.objectContaining({ files: ['requirements.yaml'], rules_changed: true, failed: [] }));
    expect(textOf(await client.callTool({ name: 'echo__add', arguments: { a: 1, b: 2 } }))).toBe('3');
  });

  it('an approved-rules edit is recorded and applies; a broken file is reported with file:line and allows nothing', async () => {
    config = await makeConfig({
      servers: { echo: fixtureServer('echo', { tools: { default: 'allow', ask: ['echo'] } }) },
      gateway: { approval: { channel: 'none' } },
    });
    gateway = await startHttpGateway(config.dir);
    const client = await gateway.connect();
    await waitForTools(client, ['echo__echo']);
    const allowed = async () => (await client.callTool({ name: 'echo__echo', arguments: { message: 'm' } })).isError !== true;
    expect(await allowed()).toBe(false);

    await mkdir(join(config.dir, 'rules.d'));
    await writeFile(join(config.dir, 'rules.d', 'approved.yaml'), stringify({ allow: [{ tool: 'echo__echo' }] }));
    expect(await reloadRecord(config, 1)).toEqual(expect.objectContaining({ files: ['rules.d/approved.yaml'], rules_changed: true }));
    expect(await allowed()).toBe(true);

    await writeFile(join(config.dir, 'rules.d', 'approved.yaml'), 'allow:\n  - tool: echo__echo\n    bogus: 1\n');
    const broken = await reloadRecord(config, 2);
    expect(broken).toEqual(expect.objectContaining({ failed_files: ['rules.d/approved.yaml'] }));
    expect(broken.errors).toEqual([expect.stringMatching(/^rules\.d\/approved\.yaml:3: allow\[0\]\.bogus: /)]);
    expect(await allowed()).toBe(false);
  });
});
