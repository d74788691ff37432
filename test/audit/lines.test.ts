/** Streamed reading of audit files: same lines as split('\n'), any file size, any line length. */
import { appendFile, mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/auditLog.js';
import { forEachLine } from '../../src/audit/lines.js';
import { readAuditRecords } from '../../src/audit/query.js';
import { verifyAudit } from '../../src/audit/verify.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcpgate-lines-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function collect(file: string, max?: number): Promise<Array<[string | undefined, boolean]>> {
  const out: Array<[string | undefined, boolean]> = [];
  await forEachLine(file, (text, complete) => void out.push([text, complete]), max);
  return out;
}

describe('forEachLine', () => {
  it('yields what split would, across chunk boundaries and multi-byte characters', async () => {
    const file = join(dir, 'a.log');
    const lines = Array.from({ length: 3000 }, (_, i) => `${i}:${'é€'.repeat((i * 37) % 1500)}`);
    lines.splice(10, 0, '', '');
    const text = `${lines.join('\n')}\ntail without newline é`;
    await writeFile(file, text);
    const got = await collect(file);
    expect(got.map(([t]) => t)).toEqual(text.split('\n'));
    expect(got.filter(([, complete]) => !complete)).toEqual([['tail without newline é', false]]);
    await writeFile(file, '');
    expect(await collect(file)).toEqual([]);
    await writeFile(file, 'x'.repeat(5000) + '\nok\n' + 'y'.repeat(5000));
    expect(await collect(file, 4096)).toEqual([[undefined, true], ['ok', true], [undefined, false]]);
  });
});

describe('audit files larger than a string can hold', () => {
  it('verify names the damaged line and query skips it, instead of failing on the whole log', async () => {
    const file = join(dir, 'audit.log');
    const log = new AuditLog(file);
    for (let i = 0; i < 3; i++) log.emit({ event: 'mcpgate.upstream.state', server: `s${i}`, state: 'ready' });
    await log.close();
    const { size } = await stat(file);
    // A 600 MiB hole of NUL bytes (sparse: no disk space used), e.g. left by a crashed file system.
    await truncate(file, size + 600 * 1024 * 1024);
    await appendFile(file, '\n{"seq":5,"event":"mcpgate.upstream.state","server":"after"}\n');
    const report = await verifyAudit(file);
    expect(report.break).toMatchObject({ seq: 4, kind: 'invalid', line: 4 });
    expect(report.records).toBe(3);
    const read = await readAuditRecords(file);
    expect(read.skipped).toBe(1);
    expect(read.records.map((r) => r.server)).toEqual(['s0', 's1', 's2', 'after']);
  }, 60_000);
});
