/**
 * The audit writer on real files: the chain continues across restarts and rotated files, a torn
 * last line is cut off and recorded, `keep` prunes old files, and checkpoints are signed.
 */
import { generateKeyPairSync } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/auditLog.js';
import { checkpointSigner, verificationKey } from '../../src/audit/checkpoint.js';
import { readAuditRecords } from '../../src/audit/query.js';
import { describeVerify, verifyAudit } from '../../src/audit/verify.js';
import { defaultResolver } from '../../src/secrets/resolve.js';
import type { GatewayConfig } from '../../src/config/types.js';
import type { GatewayEvent } from '../../src/telemetry/events.js';

const state = (n: number): GatewayEvent => ({ event: 'mcpgate.upstream.state', server: `s${n}`, state: 'ready' });

async function write(file: string, count: number, options: ConstructorParameters<typeof AuditLog>[1] = {}, from = 0): Promise<void> {
  const log = new AuditLog(file, options);
  for (let i = 0; i < count; i++) {
    log.emit(state(from + i));
    if (i % 7 === 6) await new Promise((r) => setImmediate(r));
  }
  await log.close();
}

describe('audit log writer', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpgate-audit-'));
    file = join(dir, 'audit.log');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('continues the chain after a restart', async () => {
    await write(file, 5);
    await write(file, 4, {}, 5);
    const report = await verifyAudit(file);
    expect(report.break).toBeUndefined();
    expect(report).toMatchObject({ records: 9, firstSeq: 1, lastSeq: 9 });
  });

  it('cuts off a torn last line on restart, records it, and stays intact', async () => {
    await write(file, 3);
    const torn = '{"seq":4,"prev":"0123';
    await appendFile(file, torn);
    expect((await verifyAudit(file)).break).toMatchObject({ seq: 4, kind: 'torn' });
    await write(file, 2, {}, 3);
    const report = await verifyAudit(file);
    expect(describeVerify(report)).toMatch(/^intact \(6 records/);
    const recovery = (await readAuditRecords(file)).records.find((r) => r.event === 'mcpgate.audit.recovery');
    expect(recovery).toMatchObject({ seq: 4, torn_bytes: torn.length });
    expect(Buffer.from(String(recovery?.torn_base64), 'base64').toString()).toBe(torn);
  });

  it('never cuts anything off a file that is not an audit chain (binary, or text without a final newline)', async () => {
    const binary = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0xff, 0xfe, 0x0a, 0x00, 0x13, 0x37]);
    await writeFile(file, binary);
    expect(() => new AuditLog(file)).toThrow(/cannot be continued/);
    expect(await readFile(file)).toEqual(binary);
    const notes = 'my notes\nsecond line without a newline';
    await writeFile(file, notes);
    expect(() => new AuditLog(file)).toThrow(/not an audit record/);
    expect(await readFile(file, 'utf8')).toBe(notes);
    // An older (unchained) log whose writer crashed mid-line: refused whole, its tail kept too.
    const legacy = '{"time":"2025-01-01T00:00:00.000Z","event":"mcpgate.session.start"}\n{"seq":2,"pr';
    await writeFile(file, legacy);
    expect(() => new AuditLog(file)).toThrow(/not a chained audit record/);
    expect(await readFile(file, 'utf8')).toBe(legacy);
  });

  it('repairs a torn first record (a crash during the very first write)', async () => {
    await writeFile(file, '{"seq":1,"prev":"00');
    await write(file, 2);
    const report = await verifyAudit(file);
    expect(report.break).toBeUndefined();
    expect(report).toMatchObject({ records: 3, firstSeq: 1, lastSeq: 3 });
  });

  for (const fsync of ['always', 'batch'] as const) {
    it(`keeps going (fsync: ${fsync}) when a rotation cannot reopen the file, and writes again once it can`, async () => {
      const sub = join(dir, 'logs');
      const active = join(sub, 'audit.log');
      const errors: string[] = [];
      const log = new AuditLog(active, { fsync, rotate: { maxBytes: 300 }, onError: (error) => errors.push(error.message) });
      const settle = () => new Promise((r) => setTimeout(r, 30));
      for (let i = 0; i < 3; i++) log.emit(state(i));
      await settle();
      await rm(sub, { recursive: true, force: true }); // someone removed the log directory
      for (let i = 3; i < 8; i++) {
        expect(() => log.emit(state(i))).not.toThrow();
        await settle();
      }
      expect(errors.some((e) => /ENOENT/.test(e))).toBe(true);
      await mkdir(sub, { recursive: true });
      for (let i = 8; i < 14; i++) {
        log.emit(state(i));
        await settle();
      }
      await log.close();
      const records = (await readAuditRecords(active)).records;
      const seqs = records.map((r) => r.seq as number);
      const dropped = records.filter((r) => r.event === 'mcpgate.audit.dropped');
      const report = await verifyAudit(active);
      expect(report.break).toBeUndefined();
      if (fsync === 'batch') {
        // Kept and retried: everything since the directory vanished is in the new files, chained.
        expect(dropped).toEqual([]);
        expect(Math.max(...seqs)).toBe(14);
        expect(Math.min(...seqs)).toBeLessThanOrEqual(4);
      } else {
        // Write-ahead records are not retried: the ones that failed are accounted for by a dropped record.
        expect(dropped).toHaveLength(1);
        // … written right after the first record that could be written again (seq 9).
        expect(dropped[0]).toMatchObject({ seq: 10, reason: expect.stringMatching(/ENOENT.*fsync: always/) });
        expect(Number(dropped[0]!.first_seq)).toBeGreaterThanOrEqual(4);
        expect(dropped[0]).toMatchObject({ last_seq: 8, records: 8 - Number(dropped[0]!.first_seq) + 1 });
        expect(Math.max(...seqs)).toBe(15);
      }
    });
  }

  it('refuses to continue a file whose last line is not a chained record', async () => {
    await writeFile(file, '{"time":"2025-01-01T00:00:00.000Z","event":"mcpgate.session.start"}\n');
    expect(() => new AuditLog(file)).toThrow(/MCPGATE_AUDIT_CORRUPT|cannot be continued/);
    expect(await readFile(file, 'utf8')).toContain('session.start');
  });

  it('rotates by size, keeps the chain across files, and prunes beyond keep', async () => {
    await write(file, 60, { rotate: { maxBytes: 4096 } });
    const names = (await readdir(dir)).sort();
    expect(names.length).toBeGreaterThan(2);
    const report = await verifyAudit(file);
    expect(report.break).toBeUndefined();
    expect(report).toMatchObject({ records: 60, firstSeq: 1, lastSeq: 60 });
    // Each rotated file is named after its first seq.
    for (const name of names.filter((n) => n !== 'audit.log')) {
      const first = JSON.parse((await readFile(join(dir, name), 'utf8')).split('\n')[0]!);
      expect(name).toBe(`audit.log.${first.seq}`);
    }
    await write(file, 60, { rotate: { maxBytes: 4096, keep: 1 } }, 60);
    expect((await readdir(dir)).filter((n) => n !== 'audit.log')).toHaveLength(1);
    const pruned = await verifyAudit(file);
    expect(pruned.break).toBeUndefined();
    expect(pruned.lastSeq).toBe(120);
    expect(pruned.firstSeq).toBeGreaterThan(1);
  });

  it('signs checkpoints that verify with the public key and fail with another', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    await writeFile(join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(join(dir, 'pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const config = { dir, audit: { checkpoint: { key: '${file:key.pem}', alg: 'EdDSA', every: 10, intervalMs: 60_000 } } } as unknown as GatewayConfig;
    const signer = await checkpointSigner(config, defaultResolver(dir));
    await write(file, 25, { checkpoint: signer! });
    const report = await verifyAudit(file, await verificationKey(join(dir, 'pub.pem'), defaultResolver(dir)));
    expect(report.break).toBeUndefined();
    expect(report.checkpoints).toBeGreaterThanOrEqual(2); // after 10 or more records, and at close
    const records = (await readAuditRecords(file)).records;
    expect(records.at(-1)).toMatchObject({ event: 'mcpgate.audit.checkpoint', checkpoint_seq: 25 + report.checkpoints - 1 });
    expect(report.checkpointsVerified).toBe(report.checkpoints);
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' });
    await writeFile(join(dir, 'other.pem'), other);
    const wrong = await verifyAudit(file, await verificationKey(join(dir, 'other.pem'), defaultResolver(dir)));
    expect(wrong.break).toMatchObject({ kind: 'signature' });
  });

  it('rejects a checkpoint key written inline instead of as a reference', async () => {
    const config = { dir, audit: { checkpoint: { key: 'not-a-reference', alg: 'HS256', every: 10, intervalMs: 60_000 } } } as unknown as GatewayConfig;
    await expect(checkpointSigner(config, defaultResolver(dir))).rejects.toThrow(/must be a reference/);
  });
});
