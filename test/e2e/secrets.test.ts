/**
 * Keychain secrets end to end against a real Secret Service (gnome-keyring on a private D-Bus
 * session bus started by the test): `mcpgate secrets` as separate processes, `${secret:}`
 * injected into exactly the upstream that references it (server-everything's `get-env`), values
 * never in the audit log, stderr or results, rotation across an upstream restart, and clear
 * errors for a missing secret, a missing Secret Service, no session bus and a locked keyring,
 * while the other servers keep serving.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecretService, startSessionBus, type SessionBus } from '../support/keyring.js';
import {
  everythingServer,
  MAIN,
  makeConfig,
  REPO,
  startStdioGateway,
  textOf,
  waitFor,
  waitForAudit,
  type AuditRecord,
  type StdioGateway,
  type TempConfig,
} from '../support/gateway.js';

const SECRET_V1 = 'kc-secret-v1-8f3a91c2d7e4b605';
const SECRET_V2 = 'kc-secret-v2-1b7e6d0c9a8f2e43';

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `mcpgate ARGS` as its own process with only `env` (no DISPLAY, no user bus). */
function cli(args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** The pids of server-everything children of `parent` whose environment holds `variable`. */
async function upstreamPids(parent: number, variable: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== parent) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').some((kv) => kv.startsWith(`${variable}=`))) pids.push(Number(entry));
  }
  return pids;
}

async function environOf(pid: number): Promise<Record<string, string>> {
  const text = await readFile(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(text.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

function envFromResult(result: unknown): Record<string, string> {
  return JSON.parse(textOf(result)) as Record<string, string>;
}

const stateOf = (records: AuditRecord[], server: string, state: string) =>
  records.filter((r) => r.event === 'mcpgate.upstream.state' && r.server === server && r.state === state);

describe('mcpgate secrets (CLI against a real Secret Service)', () => {
  let bus: SessionBus;
  beforeAll(async () => {
    bus = await startSecretService();
  });
  afterAll(async () => bus?.stop());

  it('sets, gets, lists and deletes through separate processes; values only with --reveal', async () => {
    const set = await cli(['secrets', 'set', 'round-trip'], bus.env, `${SECRET_V1}\n`);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('stored secret "round-trip"');
    expect(set.stdout).not.toContain(SECRET_V1);
    await cli(['secrets', 'set', 'another-one'], bus.env, 'other-value-123');

    const list = await cli(['secrets', 'list'], bus.env);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n').filter(Boolean)).toEqual(['another-one', 'round-trip']);

    const get = await cli(['secrets', 'get', 'round-trip'], bus.env);
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/secret "round-trip" is set/);
    expect(get.stdout + get.stderr).not.toContain(SECRET_V1);

    const reveal = await cli(['secrets', 'get', 'round-trip', '--reveal'], bus.env);
    expect(reveal).toMatchObject({ code: 0, stdout: `${SECRET_V1}\n` });

    expect((await cli(['secrets', 'delete', 'round-trip'], bus.env)).code).toBe(0);
    const gone = await cli(['secrets', 'get', 'round-trip'], bus.env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/secret "round-trip" is not in the OS keychain/);
    expect(gone.stderr).toMatch(/mcpgate secrets set round-trip/);
    expect((await cli(['secrets', 'list'], bus.env)).stdout.trim()).toBe('another-one');
    expect((await cli(['secrets', 'delete', 'round-trip'], bus.env)).code).toBe(1);
  });

  it('prompts on a terminal without echoing the value', async () => {
    // `script` gives the CLI a real pseudo-terminal; the value is typed after the prompt shows.
    const child = spawn('script', ['-qec', `${process.execPath} ${MAIN} secrets set typed-secret`, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', ...bus.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
    await waitFor(() => screen.includes('(input hidden)'), 10_000, () => `the prompt; screen: ${screen}`);
    child.stdin.write(`${SECRET_V2}\r`);
    expect(await new Promise((resolve) => child.once('close', resolve))).toBe(0);
    expect(screen).toContain('stored secret "typed-secret"');
    expect(screen).not.toContain(SECRET_V2);
    expect((await cli(['secrets', 'get', 'typed-secret', '--reveal'], bus.env)).stdout).toBe(`${SECRET_V2}\n`);
  });

  it('refuses a value on the command line and an empty value', async () => {
    const argv = await cli(['secrets', 'set', 'x-name', 'the-value'], bus.env);
    expect(argv.code).toBe(2);
    expect(argv.stderr).toMatch(/takes no value on the command line/);
    // An empty value is the user's mistake, not a malformed command line: exit 1.
    const empty = await cli(['secrets', 'set', 'x-name'], bus.env, '');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/empty secret value: nothing was stored\n  fix: pipe the value on stdin/);
    expect((await cli(['secrets', 'get', 'x-name'], bus.env)).code).toBe(1);
  });

  it('delete of a missing name says so and does not suggest creating it', async () => {
    const missing = await cli(['secrets', 'delete', 'never-was'], bus.env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/secret "never-was" is not in the .*\n  fix: nothing was deleted; `mcpgate secrets list` shows the names there are/);
    expect(missing.stderr).not.toContain('secrets set');
  });
});

describe('${secret:} references in a real gateway', () => {
  let bus: SessionBus;
  let config: TempConfig;
  let gateway: StdioGateway;

  beforeAll(async () => {
    bus = await startSecretService();
    expect((await cli(['secrets', 'set', 'e2e-token'], bus.env, SECRET_V1)).code).toBe(0);
    config = await makeConfig({
      gateway: { upstreams: { restartInitialDelay: '100ms', restartMaxDelay: '500ms' } },
      servers: {
        withsecret: everythingServer({ env: { API_TOKEN: '${secret:e2e-token}' }, tools: { default: 'allow' } }),
        plain: everythingServer({ tools: { default: 'allow' } }),
        missing: everythingServer({ env: { OTHER: '${secret:absent-secret}' }, tools: { default: 'allow' } }),
      },
    });
    gateway = await startStdioGateway(config.dir, {}, bus.env);
    await waitForAudit(config.auditFile, (rs) => stateOf(rs, 'withsecret', 'ready').length > 0 && stateOf(rs, 'plain', 'ready').length > 0);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
    await bus?.stop();
  });

  it('gives the secret to the server that references it, and to no other', async () => {
    const env = envFromResult(await gateway.client.callTool({ name: 'withsecret__get-env', arguments: {} }));
    // The value reached the upstream (its own environment)…
    const [pid] = await upstreamPids(gateway.transport.pid as number, 'API_TOKEN');
    expect(pid).toBeDefined();
    expect((await environOf(pid as number)).API_TOKEN).toBe(SECRET_V1);
    // …and when the upstream echoes it back, the agent sees it redacted.
    expect(env.API_TOKEN).toBe('[REDACTED]');
    const plain = envFromResult(await gateway.client.callTool({ name: 'plain__get-env', arguments: {} }));
    expect(plain.API_TOKEN).toBeUndefined();
    expect(JSON.stringify(plain)).not.toContain(SECRET_V1);
  });

  it('redacts the secret from echoed results and recorded arguments', async () => {
    const echoed = await gateway.client.callTool({ name: 'withsecret__echo', arguments: { message: `token ${SECRET_V1} here` } });
    expect(textOf(echoed)).toContain('token [REDACTED] here');
    const records = await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.tool.decision' && r.public_name === 'withsecret__echo'));
    const decision = records.find((r) => r.event === 'mcpgate.tool.decision' && r.public_name === 'withsecret__echo');
    expect(JSON.stringify(decision?.arguments)).toContain('[REDACTED]');
  });

  it('fails only the server whose secret is missing, naming it and the command that sets it', async () => {
    const records = await waitForAudit(config.auditFile, (rs) => stateOf(rs, 'missing', 'failed').length > 0);
    const failed = stateOf(records, 'missing', 'failed')[0];
    expect(failed?.error).toMatch(/secret "absent-secret"/);
    expect(failed?.error).toMatch(/mcpgate secrets set absent-secret/);
    const tools = await gateway.client.listTools();
    expect(tools.tools.some((t) => t.name.startsWith('missing__'))).toBe(false);
    expect(tools.tools.some((t) => t.name === 'plain__echo')).toBe(true);
  });

  it('re-reads a rotated secret when the upstream restarts, without restarting the gateway', async () => {
    expect((await cli(['secrets', 'set', 'e2e-token'], bus.env, SECRET_V2)).code).toBe(0);
    const [old] = await upstreamPids(gateway.transport.pid as number, 'API_TOKEN');
    process.kill(old as number, 'SIGKILL');
    let fresh: number | undefined;
    await waitFor(async () => {
      const [pid] = await upstreamPids(gateway.transport.pid as number, 'API_TOKEN');
      fresh = pid !== old ? pid : undefined;
      return fresh !== undefined;
    }, 20_000, () => 'the restarted upstream');
    expect((await environOf(fresh as number)).API_TOKEN).toBe(SECRET_V2);
    await waitFor(async () => {
      const result = await gateway.client.callTool({ name: 'withsecret__get-env', arguments: {} });
      return !result.isError && envFromResult(result).API_TOKEN === '[REDACTED]';
    }, 20_000, () => 'get-env after the restart');
  });

  it('check and tools report the servers without printing any value', async () => {
    const check = await cli(['check', '--config', config.dir], bus.env);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^ok\s+withsecret/m);
    expect(check.stdout).toMatch(/^error\s+missing/m);
    expect(check.stdout).toMatch(/servers\.d\/missing\.yaml: server "missing": secret "absent-secret" .*mcpgate secrets set absent-secret/);
    const tools = await cli(['tools', '--config', config.dir, '--json'], bus.env);
    expect(tools.code).toBe(1); // "missing" failed
    expect(JSON.parse(tools.stdout).tools.some((t: { name: string }) => t.name === 'withsecret__get-env')).toBe(true);
    for (const out of [check.stdout, check.stderr, tools.stdout, tools.stderr]) {
      expect(out).not.toContain(SECRET_V1);
      expect(out).not.toContain(SECRET_V2);
    }
  });

  it('writes no secret value to the audit log or stderr of the whole run', async () => {
    await gateway.client.callTool({ name: 'withsecret__get-env', arguments: {} });
    const audit = await readFile(config.auditFile, 'utf8');
    expect(audit.length).toBeGreaterThan(0);
    for (const value of [SECRET_V1, SECRET_V2]) {
      expect(audit).not.toContain(value);
      expect(gateway.stderr()).not.toContain(value);
    }
    expect(gateway.stderr()).toContain('upstream stderr'); // the debug log really was captured
  });
});

describe('keychain failures: clear errors, other servers still serve', () => {
  async function gatewayWith(env: Record<string, string>) {
    const config = await makeConfig({
      servers: {
        keyed: everythingServer({ env: { API_TOKEN: '${secret:some-token}' }, tools: { default: 'allow' } }),
        plain: everythingServer({ tools: { default: 'allow' } }),
      },
    });
    const gateway = await startStdioGateway(config.dir, {}, env);
    const records = await waitForAudit(config.auditFile, (rs) => stateOf(rs, 'keyed', 'failed').length > 0 && stateOf(rs, 'plain', 'ready').length > 0);
    const echo = await gateway.client.callTool({ name: 'plain__echo', arguments: { message: 'still serving' } });
    expect(textOf(echo)).toContain('still serving');
    await gateway.close();
    await config.cleanup();
    return String(stateOf(records, 'keyed', 'failed')[0]?.error);
  }

  it('no D-Bus session bus: says to start one or use ${file:}/${env:}', async () => {
    const error = await gatewayWith({});
    expect(error).toMatch(/\$\{secret:some-token\} cannot be read: the OS keychain cannot be reached: there is no D-Bus session bus/);
    expect(error).toMatch(/dbus-run-session/);
    expect(error).toMatch(/\$\{file:PATH\}/);
    const list = await cli(['secrets', 'list'], {});
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/no D-Bus session bus \(Cannot autolaunch D-Bus without X11 \$DISPLAY\)/);
    expect(list.stderr).toMatch(/fix: .*dbus-run-session/);
  });

  it('a session bus without a Secret Service: says to install or start one', async () => {
    const bus = await startSessionBus();
    try {
      const error = await gatewayWith(bus.env);
      expect(error).toMatch(/no Secret Service is running on the session bus/);
      expect(error).toMatch(/gnome-keyring/);
      const set = await cli(['secrets', 'set', 'some-token'], bus.env, 'value-123456');
      expect(set.code).toBe(1);
      expect(set.stderr).toMatch(/no Secret Service is running/);
    } finally {
      await bus.stop();
    }
  });

  it('the keychain module cannot be loaded: says how to install it, other servers unaffected', async () => {
    // A real install of mcpgate without @github/keytar: dist and every other dependency, linked.
    const root = await mkdtemp(join(tmpdir(), 'mcpgate-nokeytar-'));
    try {
      await cp(join(REPO, 'dist'), join(root, 'dist'), { recursive: true });
      await cp(join(REPO, 'package.json'), join(root, 'package.json'));
      await mkdir(join(root, 'node_modules', '@github'), { recursive: true });
      for (const entry of await readdir(join(REPO, 'node_modules'))) {
        if (entry !== '@github' && entry !== '.bin') await symlink(join(REPO, 'node_modules', entry), join(root, 'node_modules', entry));
      }
      const config = await makeConfig({
        servers: { keyed: everythingServer({ env: { API_TOKEN: '${secret:some-token}' } }), plain: everythingServer({ env: { X: '${env:PATH}' } }) },
      });
      try {
        const main = join(root, 'dist', 'main.js');
        const run = (args: string[]) =>
          new Promise<CliResult>((resolve) => {
            const child = spawn(process.execPath, [main, ...args], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
            let stdout = '';
            let stderr = '';
            child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
            child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
            child.once('close', (code) => resolve({ code, stdout, stderr }));
          });
        const list = await run(['secrets', 'list']);
        expect(list.code).toBe(1);
        expect(list.stderr).toMatch(/the native module @github\/keytar could not be loaded/);
        expect(list.stderr).toMatch(/npm install-scripts approve @github\/keytar/);
        expect(list.stderr).toMatch(/libsecret/);
        const check = await run(['check', '--config', config.dir]);
        expect(check.stdout).toMatch(/^ok\s+plain/m);
        expect(check.stdout).toMatch(/servers\.d\/keyed\.yaml: server "keyed": \$\{secret:some-token\} cannot be read: the OS keychain cannot be used/);
      } finally {
        await config.cleanup();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a locked keyring: says it is locked and how to unlock it (and the CLI does not crash)', async () => {
    const bus = await startSecretService();
    try {
      expect((await cli(['secrets', 'set', 'some-token'], bus.env, 'locked-away-value')).code).toBe(0);
      await bus.lock();
      const error = await gatewayWith(bus.env);
      expect(error).toMatch(/the OS keychain is locked/);
      expect(error).toMatch(/unlock/);
      for (const args of [['secrets', 'list'], ['secrets', 'get', 'some-token'], ['secrets', 'set', 'new-one']]) {
        const result = await cli(args, bus.env, 'another-value-1');
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(1);
        expect(result.stderr).toMatch(/keychain is locked/);
      }
    } finally {
      await bus.stop();
    }
  });
});
