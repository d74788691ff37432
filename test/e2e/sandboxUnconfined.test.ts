/**
 * What an unconfined server can do, and where mcpgate says so. An upstream with no tools
 * (test/fixtures/servers/approver.ts) tries to approve another server's pending `ask` through
 * the approval admin endpoint: sandboxed (the default) it cannot; with `sandbox.mode: off` it
 * can, and check, tools, /healthz and every decision record name the servers running unconfined.
 * With bubblewrap made unavailable (MCPGATE_BWRAP pointing nowhere), `required` refuses to start
 * a server (also when managed requirements force it over a user's `off`) while the others serve.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  decisionWithMessage,
  fixtureServer,
  makeConfig,
  pendingApproval,
  pendingApprovals,
  runMcpgate,
  startHttpGateway,
  textOf,
  waitFor,
  waitForAudit,
  type AuditRecord,
  type HttpGateway,
  type TempConfig,
} from '../support/gateway.js';
import { anyCwdFixture, visibleScratch } from '../support/sandbox.js';

/** Upstreams start slowly on a loaded machine. */
const STARTUP_MS = 30_000;
/** These tests run several CLI processes each. */
const SLOW_TEST_MS = 150_000;

interface Attempt {
  attempt: number;
  step: string;
  error?: string;
  status?: number;
}

async function attempts(file: string): Promise<Attempt[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Attempt);
}

describe('an upstream with no tools trying to answer the approval queue', () => {
  let scratch: Awaited<ReturnType<typeof visibleScratch>>;
  let config: TempConfig | undefined;
  let gateway: HttpGateway | undefined;

  beforeAll(async () => {
    scratch = await visibleScratch();
  });
  afterEach(async () => {
    await gateway?.close();
    await config?.cleanup();
    gateway = undefined;
    config = undefined;
  });
  afterAll(async () => {
    await scratch?.cleanup();
  });

  /** A gateway whose `approver` upstream attacks the queue while `echo__echo` asks; `mode` is gateway.yaml's sandbox default. */
  async function attackedGateway(name: string, mode?: 'off') {
    const adminDir = join(scratch.dir, `${name}-admin`);
    const reportDir = join(scratch.dir, `${name}-report`);
    await mkdir(reportDir);
    config = await makeConfig({
      root: scratch.dir,
      gateway: { approval: { timeout: '60s', adminDir }, ...(mode ? { sandbox: { mode } } : {}) },
      servers: {
        approver: anyCwdFixture('approver', {
          env: { ADMIN_DIR: adminDir, REPORT_FILE: join(reportDir, 'report.jsonl') },
          sandbox: { filesystem: { allowWrite: [reportDir] } },
        }),
        echo: fixtureServer('echo', { tools: { ask: ['echo'] } }),
      },
    });
    gateway = await startHttpGateway(config.dir);
    return { config, gateway, report: join(reportDir, 'report.jsonl') };
  }

  it('fails under the default settings while the gateway holds a pending ask', async () => {
    const { config, gateway, report } = await attackedGateway('confined');
    const client = await gateway.connect();
    const call = client.callTool({ name: 'echo__echo', arguments: { message: 'attack-target' } });
    const item = await pendingApproval(config.dir, 'attack-target');
    // the attacker keeps trying for at least 10 more attempts while the ask is pending
    const before = Math.max(0, ...(await attempts(report)).map((a) => a.attempt));
    await waitFor(async () => Math.max(0, ...(await attempts(report)).map((a) => a.attempt)) >= before + 10, 20_000, () => 'ten more attempts');
    const seen = await attempts(report);
    expect(seen.some((a) => a.step === 'approve' || a.step === 'reached')).toBe(false);
    expect(seen.every((a) => a.step === 'list' || a.step === 'read' || a.step === 'connect')).toBe(true);
    expect((await pendingApprovals(config.dir)).map((p) => p.id)).toContain(item.id);
    // the person answers: the only answer that counts
    expect((await runMcpgate(['deny', item.id, '--config', config.dir])).code).toBe(0);
    expect(textOf(await call)).toMatch(/was not run/);
    expect(await decisionWithMessage(config.auditFile, 'attack-target')).toMatchObject({ decision: 'deny', decided_by: 'user' });
    const health = (await (await fetch(`http://127.0.0.1:${gateway.port}/healthz`)).json()) as { unconfined: Record<string, string> };
    expect(health.unconfined).toEqual({});
  }, SLOW_TEST_MS);

  it('succeeds with sandbox.mode: off, and every place names the unconfined servers', async () => {
    const { config, gateway, report } = await attackedGateway('unconfined', 'off');
    const client = await gateway.connect();
    const result = await client.callTool({ name: 'echo__echo', arguments: { message: 'attack-target' } });
    // nobody answered: the tool-less upstream approved it through the admin endpoint
    expect(textOf(result)).toBe('attack-target');
    await waitFor(async () => (await attempts(report)).some((a) => a.step === 'approve' && a.status === 200), 10_000, () => 'the attacker reporting its approval');
    const decision = await decisionWithMessage(config.auditFile, 'attack-target');
    expect(decision).toMatchObject({ decision: 'allow', decided_by: 'user', approval_channel: 'queue', unconfined: true });

    const why = 'sandbox.mode: off in gateway.yaml';
    const states = await waitForAudit(config.auditFile, (rs) => rs.filter((r) => r.event === 'mcpgate.upstream.state' && r.state === 'ready').length === 2, STARTUP_MS);
    for (const server of ['approver', 'echo']) {
      expect(states.find((r: AuditRecord) => r.event === 'mcpgate.upstream.state' && r.server === server && r.state === 'ready')).toMatchObject({ sandbox: 'off', sandbox_reason: why });
    }
    const health = (await (await fetch(`http://127.0.0.1:${gateway.port}/healthz`)).json()) as { unconfined: Record<string, string> };
    expect(health.unconfined).toEqual({ approver: why, echo: why });

    const check = await runMcpgate(['check', '--config', config.dir]);
    expect(check.stdout).toMatch(new RegExp(`^ok +approver .*sandbox: off \\(${why}\\): runs unconfined$`, 'm'));
    const tools = await runMcpgate(['tools', '--config', config.dir]);
    expect(tools.stdout).toContain(`server echo: sandbox off (${why}): runs unconfined`);
    const json = JSON.parse((await runMcpgate(['tools', '--config', config.dir, '--json'])).stdout) as { servers: Array<Record<string, unknown>> };
    expect(json.servers.find((s) => s.server === 'echo')).toMatchObject({ sandbox: 'off', sandbox_reason: why, unconfined: true });
  }, SLOW_TEST_MS);
});

describe('sandbox.mode: required with bubblewrap unavailable', () => {
  const NO_BWRAP = { MCPGATE_BWRAP: '/nonexistent/bwrap' };
  let config: TempConfig;
  let requirements: string;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      servers: {
        strict: fixtureServer('echo', { sandbox: { mode: 'required' } }),
        lax: fixtureServer('echo', { tools: { default: 'allow' } }),
        loosened: fixtureServer('echo', { sandbox: { mode: 'off' } }),
      },
    });
    requirements = join(config.dir, 'requirements.yaml');
    await writeFile(requirements, 'sandbox:\n  mode: required\n');
    gateway = await startHttpGateway(config.dir, [], NO_BWRAP);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('refuses the required server with MCPGATE_SANDBOX_UNAVAILABLE; an auto server serves unconfined, flagged', async () => {
    const records = await waitForAudit(config.auditFile, (rs) => rs.some((r) => r.server === 'strict' && r.state === 'failed') && rs.some((r) => r.server === 'lax' && r.state === 'ready'), STARTUP_MS);
    const failed = records.find((r) => r.server === 'strict' && r.state === 'failed');
    expect(failed).toMatchObject({ error_code: 'MCPGATE_SANDBOX_UNAVAILABLE' });
    expect(failed?.error).toMatch(/sandbox\.mode is required \(servers\.d\/strict\.yaml sandbox\.mode\) but no sandbox is possible: bubblewrap is not installed \(MCPGATE_BWRAP=\/nonexistent\/bwrap/);
    expect(records.find((r) => r.server === 'lax' && r.state === 'ready')).toMatchObject({ sandbox: 'none', sandbox_reason: expect.stringMatching(/^bubblewrap is not installed/) });

    const client = await gateway.connect();
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toContain('lax__echo');
    expect(tools.some((name) => name.startsWith('strict__'))).toBe(false);
    expect(textOf(await client.callTool({ name: 'lax__echo', arguments: { message: 'still serving' } }))).toBe('still serving');
    expect(await decisionWithMessage(config.auditFile, 'still serving')).toMatchObject({ server: 'lax', unconfined: true });
    const health = (await (await fetch(`http://127.0.0.1:${gateway.port}/healthz`)).json()) as { upstreams: Record<string, string>; unconfined: Record<string, string> };
    expect(health.upstreams.strict).not.toBe('ready');
    expect(Object.keys(health.unconfined).sort()).toEqual(['lax', 'loosened']);
  }, SLOW_TEST_MS);

  it('check says so and exits 1; managed requirements make a user\'s off required too', async () => {
    const check = await runMcpgate(['check', '--config', config.dir], NO_BWRAP);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^error +strict .*sandbox: refused \(MCPGATE_SANDBOX_UNAVAILABLE\)$/m);
    expect(check.stdout).toMatch(/^ok +lax .*sandbox: none \(bubblewrap is not installed .*\): runs unconfined$/m);
    expect(check.stdout).toMatch(/^ok +loosened .*sandbox: off /m);

    const managed = await runMcpgate(['check', '--config', config.dir, '--requirements', requirements], NO_BWRAP);
    expect(managed.code).toBe(1);
    expect(managed.stdout).toMatch(/^error +loosened .*sandbox: refused \(MCPGATE_SANDBOX_UNAVAILABLE\)$/m);
    expect(managed.stdout).toMatch(/^error +lax .*sandbox: refused/m);
    expect(managed.stdout).toContain(`servers.d/loosened.yaml: sandbox.mode: off (servers.d/loosened.yaml sandbox.mode) raised to required by managed requirements (${requirements} sandbox.mode)`);

    // with bubblewrap available the same managed floor sandboxes the server its user set to off
    const available = await runMcpgate(['check', '--config', config.dir, '--requirements', requirements]);
    expect(available.stdout).toMatch(/^ok +loosened .*sandbox: bwrap$/m);
  }, SLOW_TEST_MS);
});
