/**
 * A probe upstream under the default settings (sandbox.mode auto → bubblewrap) tries to escape:
 * each attempt is checked on the call's result and on its audit records. Its files sit where an
 * unconfined server could read them (a scratch dir under HOME, not the private /tmp), its cwd is
 * the config dir (which holds gateway.yaml, servers.d/ and the audit log), and the gateway's
 * session bus and a loopback listener on 127.0.0.2 are up.
 */
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, startStdioGateway, textOf, waitFor, waitForAudit, type AuditRecord, type StdioGateway, type TempConfig } from '../support/gateway.js';
import { startSessionBus, type SessionBus } from '../support/keyring.js';
import { anyCwdFixture, callRecords, countingListener, visibleScratch } from '../support/sandbox.js';

const FAKE_KEY = '-----BEGIN OPENSSH PRIVATE KEY----- fake-key-for-the-sandbox-test';
const OTHER_TOKEN = 'other-servers-token-value';

describe('a sandboxed upstream (mode auto, bubblewrap)', () => {
  let scratch: Awaited<ReturnType<typeof visibleScratch>>;
  let home: string;
  let bus: SessionBus;
  let busSocket: string;
  let listener: Awaited<ReturnType<typeof countingListener>>;
  let config: TempConfig;
  let gateway: StdioGateway;
  let seq = 0;

  beforeAll(async () => {
    scratch = await visibleScratch();
    home = join(scratch.dir, 'home');
    await mkdir(join(home, '.ssh'), { recursive: true });
    await writeFile(join(home, '.ssh', 'id_ed25519'), FAKE_KEY);
    bus = await startSessionBus(scratch.dir);
    busSocket = /path=([^,;]+)/.exec(bus.env.DBUS_SESSION_BUS_ADDRESS ?? '')?.[1] ?? '';
    listener = await countingListener('127.0.0.2');
    config = await makeConfig({
      root: scratch.dir,
      servers: {
        probe: anyCwdFixture('probe', {
          cwd: '.', // the config dir itself: its gateway.yaml, servers.d/ and audit log must stay hidden
          env: { HOME: home, DBUS_SESSION_BUS_ADDRESS: '${env:DBUS_SESSION_BUS_ADDRESS}' },
          sandbox: { filesystem: { allowWrite: ['./data'] } },
          tools: { default: 'allow' },
        }),
        other: fixtureServer('echo', { env: { OTHER_TOKEN } }),
      },
    });
    gateway = await startStdioGateway(config.dir, {}, { DBUS_SESSION_BUS_ADDRESS: bus.env.DBUS_SESSION_BUS_ADDRESS as string });
  });

  afterAll(async () => {
    await gateway?.close();
    await listener?.close();
    await bus?.stop();
    await config?.cleanup();
    await scratch?.cleanup();
  });

  /** Calls a probe tool (a unique marker in its arguments finds its audit records) and returns result and records. */
  async function probe(tool: string, args: Record<string, unknown>) {
    const marker = `m${seq++}`;
    const result = await gateway.client.callTool({ name: `probe__${tool}`, arguments: { ...args, marker } });
    const records = await callRecords(config.auditFile, `probe__${tool}`, marker);
    // every call was allowed by policy and ran in the sandbox: no record flags it unconfined
    expect(records.decision).toMatchObject({ decision: 'allow', server: 'probe' });
    expect(records.decision).not.toHaveProperty('unconfined');
    return { result, text: textOf(result), decision: records.decision, record: records.result };
  }

  it('starts the probe in bubblewrap and says so in its upstream.state record', async () => {
    const isReady = (r: AuditRecord) => r.event === 'mcpgate.upstream.state' && r.server === 'probe' && r.state === 'ready';
    const ready = (await waitForAudit(config.auditFile, (rs) => rs.some(isReady), 30_000)).find(isReady);
    expect(ready).toMatchObject({ sandbox: 'bwrap' });
    expect(ready).not.toHaveProperty('sandbox_reason');
  });

  it('cannot read ~/.ssh keys (a temp HOME holding a fake key)', async () => {
    expect(await readFile(join(home, '.ssh', 'id_ed25519'), 'utf8')).toBe(FAKE_KEY);
    const read = await probe('read_file', { path: join(home, '.ssh', 'id_ed25519') });
    expect(read.result.isError).toBe(true);
    expect(read.text).toMatch(/^ENOENT/);
    expect(read.record.outcome).toBe('tool_error');
    expect((await probe('list_dir', { path: join(home, '.ssh') })).text).toBe('');
  });

  it("cannot read the audit log, gateway.yaml or another server's servers.d file, though its cwd is the config dir", async () => {
    for (const file of [config.auditFile, join(config.dir, 'gateway.yaml'), join(config.dir, 'servers.d', 'other.yaml')]) {
      expect(existsSync(file)).toBe(true);
      const read = await probe('read_file', { path: file });
      expect(read.text, file).toMatch(/^ENOENT/);
      expect(read.record.outcome).toBe('tool_error');
    }
    const listing = await probe('list_dir', { path: '.' });
    expect(listing.text.split('\n')).toEqual(expect.arrayContaining(['servers.d']));
    expect(listing.text.split('\n')).not.toContain('gateway.yaml');
    expect(listing.text.split('\n')).not.toContain('audit.log');
    expect((await probe('list_dir', { path: 'servers.d' })).text).toBe('');
  });

  it('cannot read the approval admin endpoint file and its token', async () => {
    const adminDir = join(config.dir, '.mcpgate');
    await waitFor(() => existsSync(adminDir), 10_000, () => 'the admin endpoint dir');
    const endpoint = (await readdir(adminDir)).find((name) => name.startsWith('gateway-')) as string;
    expect(endpoint).toBeDefined();
    const read = await probe('read_file', { path: join(adminDir, endpoint) });
    expect(read.text).toMatch(/^ENOENT/);
    expect(read.record.outcome).toBe('tool_error');
  });

  it('writes inside allowWrite (visible on the host) and nowhere else', async () => {
    const inside = await probe('write_file', { path: join(config.dir, 'data', 'out.txt'), text: 'from the sandbox' });
    expect(inside.text).toBe('written');
    expect(inside.record.outcome).toBe('ok');
    expect(await readFile(join(config.dir, 'data', 'out.txt'), 'utf8')).toBe('from the sandbox');
    for (const path of [join(config.dir, 'evil.txt'), join(home, 'evil.txt'), join(config.dir, 'servers.d', 'evil.yaml')]) {
      const outside = await probe('write_file', { path, text: 'escape' });
      expect(outside.text, path).toMatch(/^(EROFS|ENOENT|EACCES)/);
      expect(outside.record.outcome).toBe('tool_error');
      expect(existsSync(path)).toBe(false);
    }
    // the private /tmp is writable, and is not the host's
    expect((await probe('write_file', { path: '/tmp/private.txt', text: 'x' })).text).toBe('written');
    expect(existsSync('/tmp/private.txt')).toBe(false);
  });

  it('cannot connect to a loopback port the host listens on (127.0.0.2)', async () => {
    const attempt = await probe('connect_tcp', { host: '127.0.0.2', port: listener.port });
    expect(attempt.result.isError).toBe(true);
    expect(attempt.text).toMatch(/^(ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|ETIMEDOUT)/);
    expect(listener.accepted()).toBe(0);
    // the listener is reachable from the host: the sandbox made the difference
    await new Promise<void>((resolve, reject) => connect({ host: '127.0.0.2', port: listener.port }).once('connect', resolve).once('error', reject));
    await waitFor(() => listener.accepted() === 1, 5000, () => 'the host connection');
  });

  it('cannot reach the D-Bus session bus, though its env names it', async () => {
    expect(existsSync(busSocket)).toBe(true);
    const env = JSON.parse((await probe('env', {})).text) as { names: string[] };
    expect(env.names).toContain('DBUS_SESSION_BUS_ADDRESS');
    const hello = await probe('dbus_hello', { path: busSocket });
    expect(hello.text).toMatch(/^(ENOENT|ECONNREFUSED|EACCES)/);
    expect(hello.record.outcome).toBe('tool_error');
  });

  it('sees only its own processes (own PID namespace)', async () => {
    const listing = await probe('processes', {});
    const lines = listing.text.split('\n');
    expect(lines.length).toBeLessThan(6);
    expect(listing.text).not.toMatch(/main\.js serve|vitest|dbus-daemon/);
    expect(listing.text).toMatch(/built\/probe-[0-9a-f]{16}\/probe\.js/); // itself, as fixtureServer runs it
  });

  it('has no network of its own (its proxy variables name the egress bridge), and a private TMPDIR', async () => {
    const env = JSON.parse((await probe('env', {})).text) as { names: string[]; TMPDIR: string };
    // the gateway's egress proxy is its only way out: a direct connection has no route
    expect(env.names).toContain('HTTP_PROXY');
    expect(env.TMPDIR).toBe('/tmp');
    const direct = await probe('connect_tcp', { host: '127.0.0.1', port: listener.port });
    expect(direct.result.isError).toBe(true);
  });

  it('never lets the key or the other server\'s token into the audit log', async () => {
    const text = await readFile(config.auditFile, 'utf8');
    expect(text).not.toContain('fake-key-for-the-sandbox-test');
    expect(text).not.toContain(OTHER_TOKEN);
  });
});
