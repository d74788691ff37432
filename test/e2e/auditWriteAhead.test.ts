/**
 * Write-ahead audit (`audit.fsync: always`) fails closed: when the decision record of a call
 * cannot be written (here: a real file-size limit, RLIMIT_FSIZE, set on the gateway process),
 * the call is refused with MCPGATE_AUDIT_UNAVAILABLE and never reaches the upstream.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAIN, makeConfig, memoryServer, runMcpgate, type TempConfig, waitForExit } from '../support/gateway.js';

describe('write-ahead audit', () => {
  let config: TempConfig | undefined;
  let client: Client | undefined;
  let memoryFile = '';

  afterEach(async () => {
    await client?.close().catch(() => undefined);
    await config?.cleanup();
    if (memoryFile) await rm(dirname(memoryFile), { recursive: true, force: true });
  });

  it('refuses a call whose decision record cannot be written, and does not run it', async () => {
    memoryFile = join(await mkdtemp(join(tmpdir(), 'mcpgate-write-ahead-')), 'memory.jsonl');
    config = await makeConfig({
      gateway: { audit: { fsync: 'always' } },
      servers: { memory: memoryServer(memoryFile, { tools: { default: 'allow' } }) },
    });
    // A 16 KiB file-size limit for the gateway (and its upstream): SIGXFSZ ignored, so a write
    // past the limit fails with EFBIG instead of killing the process.
    const script = `trap '' XFSZ; ulimit -f 32; exec "${process.execPath}" "${MAIN}" serve --config "${config.dir}"`;
    const transport = new StdioClientTransport({ command: 'sh', args: ['-c', script], env: { MCPGATE_LOG_LEVEL: 'warn' }, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    client = new Client({ name: 'write-ahead-test', version: '1.0.0' });
    await client.connect(transport);

    let ran = 0;
    let refused: Error | undefined;
    for (let i = 0; i < 200 && !refused; i++) {
      try {
        const result = await client.callTool({ name: 'memory__create_entities', arguments: { entities: [{ name: `entity-${i}`, entityType: 'test', observations: ['x'.repeat(200)] }] } });
        expect(result.isError).not.toBe(true);
        ran++;
      } catch (error) {
        refused = error as Error;
      }
    }
    expect(refused?.message).toMatch(/memory__create_entities was not run: the audit log could not record it \(audit\.fsync: always\)/);
    expect(ran).toBeGreaterThan(0);
    // The refused call (and any later one whose record does not fit either) never reached the
    // upstream: its graph holds exactly the calls that ran. (The failed record's bytes were cut
    // off again, so a smaller record could still fit: this one is larger.)
    await expect(client.callTool({ name: 'memory__create_entities', arguments: { entities: [{ name: 'after', entityType: 'test', observations: ['x'.repeat(400)] }] } })).rejects.toThrow(/was not run/);
    const graph = (await readFile(memoryFile, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { name?: string });
    expect(graph.filter((e) => e.name?.startsWith('entity-')).length).toBe(ran);
    expect(graph.some((e) => e.name === 'after')).toBe(false);
    expect(stderr).toMatch(/audit log .*(EFBIG|too large)/i);

    // The records that failed were cut off again: the file holds whole lines only, and verify
    // finds an intact chain, or a gap the writer explained and linked across (if a later, smaller
    // record fitted, and then its mcpgate.audit.dropped record: exit 3), or, when that record did
    // not fit under the limit either, a gap of exactly the seqs the writer said on stderr it dropped.
    const pid = transport.pid as number;
    await client.close();
    client = undefined;
    await waitForExit(pid);
    const text = await readFile(config.auditFile, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const verify = await runMcpgate(['audit', 'verify', '--file', config.auditFile]);
    expect(verify.stdout).not.toMatch(/torn|invalid/);
    const gap = /^broken at seq \d+: deleted: (seqs? [\d.]+) (?:is|are) missing/.exec(verify.stdout);
    if (gap) {
      expect(stderr).toContain(`(${gap[1]!}): the write failed (EFBIG`);
      expect(verify.code).toBe(1);
    } else {
      expect(verify.stdout).toMatch(/^intact (\(|except \d+ explained gaps?: )/);
      expect(verify.code).toBe(/^intact except/.test(verify.stdout) ? 3 : 0);
    }
  });
});
