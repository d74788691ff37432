/**
 * The appender when writes fail, on real files: the records of failed writes wait and are retried
 * with a backoff (the chain stays intact), beyond the memory bound the oldest are dropped and told
 * (so the log can explain the gap), and the errors are reported without flooding.
 *
 * The failure is real: the active file is reached through a symlinked directory; removing the
 * link makes the rotation's rename and every reopen fail (ENOENT) while the file itself, with the
 * records written so far, stays where it is; restoring the link lets the retries write again into
 * the same file.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Appender } from '../../src/audit/appender.js';
import { AuditLog } from '../../src/audit/auditLog.js';
import { formatLine, GENESIS, hashLine } from '../../src/audit/chain.js';
import type { DroppedRecords } from '../../src/audit/dropped.js';
import { readAuditRecords } from '../../src/audit/query.js';
import { describeVerify, verifyAudit } from '../../src/audit/verify.js';
import { breakableLogDir } from '../support/breakableDir.js';
import { waitFor } from '../support/gateway.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Chained record lines seq from..from+count-1 (each about 200 bytes). */
function records(chain: { prev: string }, from: number, count = 1): Buffer {
  let text = '';
  for (let seq = from; seq < from + count; seq++) {
    const line = formatLine(seq, chain.prev, new Date().toISOString(), `"event":"mcpgate.upstream.state","server":"s${seq}","state":"ready","error":"${'x'.repeat(60)}"}`);
    chain.prev = hashLine(line);
    text += `${line}\n`;
  }
  return Buffer.from(text);
}

describe('audit appender when writes fail', () => {
  const logs = breakableLogDir('mcpgate-appender-');

  /** Writes seq 1..3, then cuts the way to the file and rotates (rename and reopen fail from now on). */
  async function breakAfterThree(appender: Appender, chain: { prev: string }): Promise<void> {
    appender.write(records(chain, 1, 3));
    await waitFor(async () => (await readFile(logs.active, 'utf8').catch(() => '')).split('\n').length === 4);
    await logs.cut();
    appender.rotate(1);
  }

  it('keeps the records of failed writes, retries them with a backoff, and the chain stays intact', async () => {
    const messages: string[] = [];
    const appender = new Appender(logs.active, { fsync: 'batch', fsyncIntervalMs: 1000, onError: (e) => messages.push(e.message) });
    const chain = { prev: GENESIS };
    await breakAfterThree(appender, chain);
    // 1.5 s of failing writes, a chunk every 20 ms (75 chunks).
    for (let seq = 4; seq < 79; seq++) {
      appender.write(records(chain, seq));
      await sleep(20);
    }
    await logs.mend();
    await waitFor(async () => (await readFile(logs.active, 'utf8')).includes('"seq":78,'), 10_000, () => 'the retried records');
    appender.write(records(chain, 79));
    await appender.close();

    const report = await verifyAudit(logs.active);
    expect(describeVerify(report)).toMatch(/^intact \(79 records, seq 1\.\.79/);
    // Reported: the first error at once, the rest counted; the recovery once, naming the attempts.
    expect(messages[0]).toMatch(/ENOENT/);
    const recovery = messages.find((m) => m.startsWith('writing again after'));
    const attempts = Number(/after (\d+) failed attempt/.exec(recovery ?? '')?.[1]);
    // Backoff 100, 200, 400, 800 ms… over ~1.5 s: a handful of attempts, not one per chunk.
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(10);
    expect(messages.length).toBeLessThanOrEqual(4);
  });

  it('drops the oldest waiting records beyond the memory bound and tells once it can write again', async () => {
    const messages: string[] = [];
    const dropped: DroppedRecords[] = [];
    const appender = new Appender(logs.active, { fsync: 'batch', fsyncIntervalMs: 1000, maxPendingBytes: 2000, onError: (e) => messages.push(e.message), onDropped: (d) => dropped.push(d) });
    const chain = { prev: GENESIS };
    await breakAfterThree(appender, chain);
    for (let seq = 4; seq < 34; seq++) {
      appender.write(records(chain, seq));
      await sleep(10);
    }
    expect(dropped).toEqual([]); // nothing told while nothing can be written
    await logs.mend();
    await waitFor(() => dropped.length > 0, 10_000, () => 'the dropped records to be told');
    await appender.close();

    const written = (await readFile(logs.active, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { seq: number; prev: string });
    const seqs = written.map((r) => r.seq);
    const kept = seqs.filter((seq) => seq > 3);
    // The newest records within the bound (2000 bytes: ~9 of these lines) were kept, in order, up to the last.
    expect(kept.at(-1)).toBe(33);
    expect(kept.length).toBeGreaterThan(3);
    expect(kept.length * 200).toBeLessThanOrEqual(2000 + 200);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => (kept[0] as number) + i));
    // last_hash links across the gap: it is the prev of the first record kept after it.
    const next = written.find((r) => r.seq === kept[0]) as { prev: string };
    expect(dropped).toEqual([{ first_seq: 4, last_seq: (kept[0] as number) - 1, records: (kept[0] as number) - 4, reason: expect.stringMatching(/more than 2,000 bytes of records waited while writes failed \(ENOENT/), last_hash: next.prev }]);
    expect(messages.some((m) => m.startsWith(`dropped ${(kept[0] as number) - 4} records (seqs 4..${(kept[0] as number) - 1})`))).toBe(true);
  });

  it('reports at shutdown the records it still could not write', async () => {
    const messages: string[] = [];
    const appender = new Appender(logs.active, { fsync: 'batch', fsyncIntervalMs: 1000, onError: (e) => messages.push(e.message) });
    const chain = { prev: GENESIS };
    await breakAfterThree(appender, chain);
    appender.write(records(chain, 4, 5));
    await sleep(50);
    await appender.close();
    expect(messages.at(-1)).toMatch(/^shutting down with 5 records \(seqs 4\.\.8\) not written \(ENOENT.*: they are not in the log$/);
    // The file is a clean prefix of the chain.
    expect(describeVerify(await verifyAudit(join(logs.real, 'audit.log')))).toMatch(/^intact \(3 records/);
  });

  it('writes a mcpgate.audit.dropped record, and verify goes on across the gap it explains', async () => {
    const messages: string[] = [];
    const log = new AuditLog(logs.active, { rotate: { maxBytes: 400 }, maxPendingBytes: 600, onError: (e) => messages.push(e.message) });
    for (let i = 0; i < 2; i++) log.emit({ event: 'mcpgate.upstream.state', server: `s${i}`, state: 'ready' });
    log.flush();
    await waitFor(async () => (await readFile(logs.active, 'utf8').catch(() => '')).split('\n').length === 3);
    await logs.cut();
    // The next records make the file rotate: the rename and the reopen fail, the records wait.
    for (let i = 2; i < 30; i++) {
      log.emit({ event: 'mcpgate.upstream.state', server: `s${i}`, state: 'ready' });
      await sleep(10);
    }
    await logs.mend();
    await waitFor(async () => (await readAuditRecords(logs.active)).records.some((r) => r.event === 'mcpgate.audit.dropped'), 10_000, () => 'the dropped record');
    await log.close();

    const all = (await readAuditRecords(logs.active)).records;
    const drop = all.find((r) => r.event === 'mcpgate.audit.dropped')!;
    expect(drop).toMatchObject({ first_seq: 3, reason: expect.stringMatching(/waited while writes failed \(ENOENT/) });
    const report = await verifyAudit(logs.active);
    expect(report.break).toBeUndefined();
    expect(report).toMatchObject({ records: all.length, lastSeq: all.at(-1)!.seq, gaps: { count: 1 } });
    const text = describeVerify(report);
    expect(text).toMatch(/^intact except 1 explained gap: /);
    expect(text).toContain(`gap: seqs 3..${String(drop.last_seq)} (mcpgate.audit.dropped at seq ${String(drop.seq)}: more than 600 bytes`);
    // Every record not dropped is in the file, once, in order.
    expect(all.map((r) => r.seq)).toEqual([1, 2, ...Array.from({ length: Number(drop.seq) - Number(drop.last_seq) }, (_, i) => Number(drop.last_seq) + 1 + i)]);
  });
  it('records waiting while writes fail hold about maxPendingBytes of memory, not a pooled 2 KiB buffer each (one small record per event-loop turn)', async () => {
    // A real process (built dist/, --expose-gc so the measure is of what is retained): 12,000
    // records ~120 bytes each, one per turn, while the file cannot be reopened after a rotation.
    const auditLog = pathToFileURL(join(process.cwd(), 'dist/audit/auditLog.js')).href;
    const script = `
      import { unlinkSync, readFileSync } from 'node:fs';
      const { AuditLog } = await import(${JSON.stringify(auditLog)});
      const [active, link] = process.argv.slice(1);
      const bound = 1024 * 1024;
      const log = new AuditLog(active, { rotate: { maxBytes: 400 }, maxPendingBytes: bound, onError: () => undefined });
      for (let i = 0; i < 2; i++) log.emit({ event: 'mcpgate.upstream.state', server: 's' + i, state: 'ready' });
      log.flush();
      while (readFileSync(active, 'utf8').split('\\n').length < 3) await new Promise((r) => setTimeout(r, 5));
      unlinkSync(link);
      const turn = () => new Promise((r) => setImmediate(r));
      for (let i = 0; i < 200; i++) { log.emit({ event: 'mcpgate.upstream.state', server: 'warm' + i, state: 'ready' }); await turn(); }
      globalThis.gc(); globalThis.gc();
      const before = process.memoryUsage().arrayBuffers;
      for (let i = 0; i < 12000; i++) { log.emit({ event: 'mcpgate.upstream.state', server: 'p' + i, state: 'ready' }); await turn(); }
      globalThis.gc(); globalThis.gc();
      const grown = process.memoryUsage().arrayBuffers - before;
      // Closed while the writes still fail (what it could not write is reported, not written):
      // mending the link first would make close() write the ~8,000 waiting records through a
      // 400-byte rotation each, some 6,000 fsynced files and ~16 s, which this test does not measure.
      await log.close();
      process.stdout.write(JSON.stringify({ grown, bound }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--input-type=module', '-e', script, logs.active, logs.link], { timeout: 60_000 });
    const { grown, bound } = JSON.parse(stdout) as { grown: number; bound: number };
    // 12,000 records of ~120 bytes (~1.4 MB) reach the 1 MiB bound: what they hold stays near it.
    expect(grown, `${grown} bytes of buffers retained for a ${bound}-byte bound`).toBeLessThan(2 * bound);
  });
});

describe('audit appender when a write hangs past shutdown', () => {
  const logs = breakableLogDir('mcpgate-appender-hang-');

  // A FIFO nobody drains stands in for a hung file system: once its 64 KiB buffer is full, the
  // appender's write blocks in the thread pool. close() gives up waiting after 5 s; the write's
  // late callback must then not touch a descriptor number the process may have reused meanwhile.
  it('does not close a descriptor with a write in flight, so a late callback cannot hit a reused one', async () => {
    const fifo = join(logs.real, 'audit.log');
    await promisify(execFile)('mkfifo', [fifo]);
    const { openSync, readSync, closeSync, writeFileSync, readFileSync, constants } = await import('node:fs');
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const appender = new Appender(fifo, { fsync: 'batch', fsyncIntervalMs: 1000, onError: () => undefined });
    appender.write(Buffer.alloc(256 * 1024, 0x61));
    appender.write(Buffer.from('{"seq":2}\n')); // queued behind the hung write
    const started = Date.now();
    await appender.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(4500);
    // Whatever descriptor number the appender held, a file opened now must not be written or cut by it.
    const other = join(logs.real, 'other.txt');
    writeFileSync(other, 'precious\n');
    const otherFd = openSync(other, 'r+');
    const chunk = Buffer.alloc(64 * 1024);
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      try {
        readSync(reader, chunk, 0, chunk.length, null); // unblock the hung write: its callback fires
      } catch {
        // EAGAIN: nothing to read right now
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    closeSync(otherFd);
    closeSync(reader);
    expect(readFileSync(other, 'utf8')).toBe('precious\n');
  }, 20_000);
});
