/**
 * The tamper-evident log under real processes: kill -9 of the gateway during a burst of calls
 * (the log is a verifiable prefix of the chain; with `fsync: always` every answered call has
 * its records), and size rotation with signed checkpoints across several files.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureServer, makeConfig, runMcpgate, startStdioGateway, waitFor, waitForAudit, type AuditRecord, type StdioGateway, type TempConfig } from '../support/gateway.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('audit chain under real processes', () => {
  let config: TempConfig | undefined;
  let gateway: StdioGateway | undefined;

  afterEach(async () => {
    await gateway?.close().catch(() => undefined);
    gateway = undefined;
    await config?.cleanup();
  });

  /** Starts a burst of calls, SIGKILLs the gateway once `killAfter` responses arrived; returns the answered messages. */
  async function burstAndKill(fsync: 'always' | 'batch', total: number, killAfter: number): Promise<Set<string>> {
    config = await makeConfig({ gateway: { audit: { fsync } }, servers: { echo: fixtureServer('echo', { concurrency: 16, tools: { default: 'allow' } }) } });
    gateway = await startStdioGateway(config.dir);
    await gateway.client.callTool({ name: 'echo__echo', arguments: { message: 'warm-up' } });
    const answered = new Set<string>();
    let killed = false;
    const calls = Array.from({ length: total }, (_, i) =>
      gateway!.client.callTool({ name: 'echo__echo', arguments: { message: `m${i}` } }).then(
        () => {
          if (!killed) answered.add(`m${i}`);
        },
        () => undefined,
      ),
    );
    await waitFor(() => answered.size >= killAfter, 30_000, () => `${killAfter} answers`);
    process.kill(gateway.transport.pid as number, 'SIGKILL');
    killed = true;
    const snapshot = new Set(answered);
    await Promise.race([Promise.allSettled(calls), new Promise((r) => setTimeout(r, 5000))]);
    gateway = undefined;
    return snapshot;
  }

  async function completeRecords(file: string): Promise<AuditRecord[]> {
    const text = await readFile(file, 'utf8');
    return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
  }

  function expectPrefixOfChain(records: AuditRecord[]): void {
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
    const decided = new Set<unknown>();
    for (const r of records) {
      if (r.event === 'mcpgate.tool.decision') decided.add(r.call);
      if (r.event === 'mcpgate.tool.result') expect(decided.has(r.call)).toBe(true);
    }
  }

  it('kill -9 during a burst (fsync: batch): the log verifies up to its last complete record, and a restart repairs and continues it', async () => {
    const answered = await burstAndKill('batch', 1500, 300);
    expect(answered.size).toBeLessThan(1500);
    const verify = await runMcpgate(['audit', 'verify', '--config', config!.dir]);
    // Either intact, or only the last line is torn: everything before it verifies.
    if (verify.code !== 0) expect(verify.stdout).toMatch(/^broken at seq \d+: torn:/);
    const records = await completeRecords(config!.auditFile);
    expectPrefixOfChain(records);
    expect(records.filter((r) => r.event === 'mcpgate.tool.result').length).toBeGreaterThan(0);
    // A restart continues the same chain (cutting off and recording a torn line if there was one).
    gateway = await startStdioGateway(config!.dir);
    await gateway.client.callTool({ name: 'echo__echo', arguments: { message: 'after restart' } });
    await gateway.close();
    gateway = undefined;
    await waitForAudit(config!.auditFile, (rs) => rs.some((r) => r.event === 'mcpgate.session.end' && (r.seq as number) > records.length));
    const after = await runMcpgate(['audit', 'verify', '--config', config!.dir]);
    expect(after.stdout).toMatch(/^intact \(/);
    expect(after.code).toBe(0);
  }, 90_000);

  it('kill -9 during a burst (fsync: always): every call the client got an answer for has its decision and result on disk', async () => {
    const answered = await burstAndKill('always', 600, 150);
    const records = await completeRecords(config!.auditFile);
    expectPrefixOfChain(records);
    const calls = new Map<unknown, string>();
    for (const r of records) if (r.event === 'mcpgate.tool.decision') calls.set(r.call, String((r.arguments as { message: string }).message));
    const resulted = new Set(records.filter((r) => r.event === 'mcpgate.tool.result').map((r) => calls.get(r.call)));
    const missing = [...answered].filter((message) => !resulted.has(message));
    expect(missing).toEqual([]);
    expect(answered.size).toBeGreaterThanOrEqual(150);
    const verify = await runMcpgate(['audit', 'verify', '--config', config!.dir]);
    if (verify.code !== 0) expect(verify.stdout).toMatch(/^broken at seq \d+: torn:/);
  }, 90_000);

  it('rotates across several files with signed checkpoints: verify --key and query read them all in order', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    config = await makeConfig({
      gateway: { audit: { rotate: { maxBytes: 4096 }, checkpoint: { key: '${file:audit-key.pem}', every: 10 } } },
      servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) },
    });
    await writeFile(join(config.dir, 'audit-key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const pub = join(config.dir, 'audit-key.pub.pem');
    await writeFile(pub, publicKey.export({ type: 'spki', format: 'pem' }));
    gateway = await startStdioGateway(config.dir);
    for (let i = 0; i < 40; i++) await gateway.client.callTool({ name: 'echo__echo', arguments: { message: `rotate ${i} ${'x'.repeat(40)}` } });
    const pid = gateway.transport.pid as number;
    await gateway.close();
    gateway = undefined;
    // The final checkpoint is written at shutdown: wait for the process to be gone.
    await waitFor(() => !alive(pid), 15_000, () => `gateway ${pid} to exit`);
    const files = (await readdir(config.dir)).filter((n) => n.startsWith('audit.log'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    let lines = 0;
    const pemBody = (privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).split('\n')[1]!;
    for (const name of files) {
      const text = await readFile(join(config.dir, name), 'utf8');
      lines += text.split('\n').filter(Boolean).length;
      expect(text).not.toContain(pemBody); // the signing key never reaches the log
    }

    const verify = await runMcpgate(['audit', 'verify', '--config', config.dir, '--key', pub]);
    expect(verify.stdout).toMatch(new RegExp(`^intact \\(${lines} records, seq 1\\.\\.${lines}, files: audit\\.log\\.1, .*audit\\.log; \\d+ signed checkpoint\\(s\\) verified\\)`));
    expect(verify.code).toBe(0);
    const other = join(config.dir, 'other.pem');
    await writeFile(other, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const wrong = await runMcpgate(['audit', 'verify', '--config', config.dir, '--key', other]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/^broken at seq \d+: signature:/);

    const query = await runMcpgate(['audit', 'query', '--config', config.dir, '--json']);
    const seqs = query.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as AuditRecord).seq);
    expect(seqs).toEqual(Array.from({ length: lines }, (_, i) => i + 1));
    const allowed = await runMcpgate(['audit', 'query', '--config', config.dir, '--json', '--decision', 'allow']);
    expect(allowed.stdout.split('\n').filter(Boolean)).toHaveLength(80);
  }, 60_000);

  it('an unresolvable checkpoint key fails check and stops serve, naming the field and never a value', async () => {
    config = await makeConfig({
      gateway: { audit: { checkpoint: { key: '${env:MCPGATE_TEST_AUDIT_KEY}', alg: 'HS256' } } },
      servers: { echo: fixtureServer('echo') },
    });
    const check = await runMcpgate(['check', '--config', config.dir]);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/gateway\.yaml: audit\.checkpoint\.key: \$\{env:MCPGATE_TEST_AUDIT_KEY\} is not set/);
    const serve = await runMcpgate(['serve', '--config', config.dir]);
    expect(serve.code).toBe(1);
    expect(serve.stderr).toMatch(/audit\.checkpoint\.key: \$\{env:MCPGATE_TEST_AUDIT_KEY\} is not set/);
    const short = await runMcpgate(['check', '--config', config.dir], { MCPGATE_TEST_AUDIT_KEY: 'too-short-secret' });
    expect(short.code).toBe(1);
    expect(short.stdout).toMatch(/HS256 secret must be at least 32 bytes/);
    expect(short.stdout + short.stderr).not.toContain('too-short-secret');
    const ok = await runMcpgate(['check', '--config', config.dir], { MCPGATE_TEST_AUDIT_KEY: 'a-long-enough-hs256-secret-of-32-bytes+' });
    expect(ok.code).toBe(0);
  }, 30_000);
});
