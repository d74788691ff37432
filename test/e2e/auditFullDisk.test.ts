/**
 * The audit writer (`audit.fsync: batch`, the default) under a real file-size limit (RLIMIT_FSIZE,
 * a soft limit set on the gateway process; the test lifts it with prlimit(1), as freeing disk
 * space would): the file never holds a partial line, the records that could not be written are
 * retried once writing works again (the chain stays intact), and stderr carries the first error
 * and a few summary lines, not one line per failed write.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureServer, MAIN, makeConfig, readAudit, runMcpgate, startStdioGateway, type TempConfig, waitFor, waitForExit } from '../support/gateway.js';

/** The audit file's lines as they are: complete JSON records only, the file ending in a newline. */
async function assertWholeLines(file: string): Promise<number> {
  const text = await readFile(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  for (const line of lines) expect(() => JSON.parse(line) as unknown, line.slice(0, 80)).not.toThrow();
  return Buffer.byteLength(text);
}

describe('audit log under a file-size limit (fsync: batch)', () => {
  let config: TempConfig | undefined;
  let client: Client | undefined;

  afterEach(async () => {
    await client?.close().catch(() => undefined);
    await config?.cleanup();
    config = undefined;
  });

  /** A gateway whose files may not grow beyond 32 KiB (a soft limit: prlimit can lift it). */
  async function limitedGateway(): Promise<{ pid: number; stderr: () => string }> {
    config ??= await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    // dash counts ulimit -f in 512-byte blocks: 64 = 32 KiB. Node ignores SIGXFSZ, so a write
    // past the limit fails with EFBIG (after a short write up to the limit) instead of killing it.
    const script = `ulimit -S -f 64; exec "${process.execPath}" "${MAIN}" serve --config "${config.dir}"`;
    const transport = new StdioClientTransport({ command: 'sh', args: ['-c', script], env: { ...(process.env as Record<string, string>), MCPGATE_LOG_LEVEL: 'warn' }, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    client = new Client({ name: 'full-disk-test', version: '1.0.0' });
    await client.connect(transport);
    return { pid: transport.pid as number, stderr: () => stderr };
  }

  /** Calls echo `count` times, `parallel` at a time; every call is answered (batch mode never refuses). */
  async function burst(tag: string, count: number, parallel: number): Promise<void> {
    for (let i = 0; i < count; i += parallel) {
      const calls = Array.from({ length: Math.min(parallel, count - i) }, (_, j) => client!.callTool({ name: 'echo__echo', arguments: { message: `${tag}-${i + j} ${'x'.repeat(600)}` } }));
      for (const result of await Promise.all(calls)) expect(result.isError).not.toBe(true);
    }
  }

  const auditLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('mcpgate: audit log'));

  it('keeps no partial line while the limit is hit, and writes every waiting record once it is lifted', async () => {
    const gateway = await limitedGateway();
    await burst('a', 120, 20); // ~120 KiB of records: the limit is hit mid-burst
    await waitFor(() => /EFBIG|too large/i.test(gateway.stderr()), 10_000, () => `the first write error; stderr:\n${gateway.stderr()}`);
    // Keep the writer failing for ~2 s (a write every 20 ms would have printed ~100 lines before).
    for (let i = 0; i < 10; i++) {
      await burst(`b${i}`, 4, 4);
      await new Promise((r) => setTimeout(r, 200));
      expect(await assertWholeLines(config!.auditFile)).toBeLessThanOrEqual(32 * 1024);
    }
    expect((await runMcpgate(['audit', 'verify', '--file', config!.auditFile])).stdout).toMatch(/^intact/);

    execFileSync('prlimit', ['--pid', String(gateway.pid), '--fsize=unlimited']);
    const decisions = async () => (await readAudit(config!.auditFile)).filter((r) => r.event === 'mcpgate.tool.decision').length;
    await waitFor(async () => (await decisions()) === 160, 15_000, () => 'the waiting records to be written');
    await burst('c', 20, 10);
    await client!.close();
    client = undefined;
    await waitForExit(gateway.pid);

    const verify = await runMcpgate(['audit', 'verify', '--file', config!.auditFile]);
    expect(verify.stdout).toMatch(/^intact \(\d+ records, seq 1\.\./);
    expect(verify.code).toBe(0);
    await assertWholeLines(config!.auditFile);
    const records = await readAudit(config!.auditFile);
    const calls = records.filter((r) => r.event === 'mcpgate.tool.decision').map((r) => r.call);
    expect(calls).toHaveLength(180);
    expect(new Set(records.filter((r) => r.event === 'mcpgate.tool.result').map((r) => r.call))).toEqual(new Set(calls));
    expect(records.some((r) => r.event === 'mcpgate.audit.dropped')).toBe(false);

    const lines = auditLines(gateway.stderr());
    expect(lines[0]).toMatch(/EFBIG: file too large.*the records are kept and retried/);
    expect(lines.some((line) => /writing again after \d+ failed attempts/.test(line))).toBe(true);
    expect(lines.length, lines.join('\n')).toBeLessThanOrEqual(4);
  });

  it('stops cleanly while the limit is still hit, saying what it could not write; a new writer continues the chain', async () => {
    const gateway = await limitedGateway();
    await burst('a', 120, 20);
    await waitFor(() => /EFBIG|too large/i.test(gateway.stderr()), 10_000, () => `the first write error; stderr:\n${gateway.stderr()}`);
    await client!.close();
    client = undefined;
    await waitForExit(gateway.pid);
    await waitFor(() => /not written/.test(gateway.stderr()), 10_000, () => `the shutdown report; stderr:\n${gateway.stderr()}`);
    expect(auditLines(gateway.stderr()).at(-1)).toMatch(/shutting down with [\d,]+ records \(seqs \d+\.\.\d+\) not written \(EFBIG.*they are not in the log/);
    await assertWholeLines(config!.auditFile);
    expect((await runMcpgate(['audit', 'verify', '--file', config!.auditFile])).stdout).toMatch(/^intact/);

    // Restarted without the limit: the new writer continues from the last record on disk.
    const next = await startStdioGateway(config!.dir);
    await next.client.callTool({ name: 'echo__echo', arguments: { message: 'after' } });
    await next.close();
    await waitForExit(next.transport.pid as number);
    const verify = await runMcpgate(['audit', 'verify', '--file', config!.auditFile]);
    expect(verify.stdout).toMatch(/^intact/);
    expect((await readAudit(config!.auditFile)).some((r) => (r.arguments as { message?: string } | undefined)?.message === 'after')).toBe(true);
  });
});
