/** Whether an audit chain's lock was left by a holder that is gone (pure), and claiming chains in one process. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimChain, FOREIGN_STALE_MS, lockIsStale, type HolderIdentity, type Liveness } from '../../src/audit/chainLock.js';
import { auditChains, chainFileName, chainOfName } from '../../src/audit/chains.js';

const self: HolderIdentity = { pid: 100, host: 'h', pidns: 'pid:[1]', boot: 'b', start: '500' };
const now = 1_000_000_000;
const look = (living: Record<number, string>): Liveness => ({ self, alive: (pid) => pid in living, start: (pid) => living[pid] ?? '', now });
const lock = (holder: Partial<HolderIdentity>) => JSON.stringify({ ...self, pid: 200, start: '700', token: 't', ...holder });

describe('lockIsStale', () => {
  it('same host and PID namespace: stale exactly when the holder is gone', () => {
    expect(lockIsStale(lock({}), now, look({ 200: '700' }))).toBe(false);
    expect(lockIsStale(lock({}), now, look({}))).toBe(true);
    // PID reused by another process: its start time differs.
    expect(lockIsStale(lock({}), now, look({ 200: '999' }))).toBe(true);
    // Our own PID: this process holds no such lock, an earlier one with our PID left it (a container restart).
    expect(lockIsStale(lock({ pid: 100 }), now, look({ 100: '500' }))).toBe(true);
    // A reboot ended every holder.
    expect(lockIsStale(lock({ boot: 'old' }), now - 1000, look({ 200: '700' }))).toBe(true);
  });

  it('another host or PID namespace: held while refreshed, stale after FOREIGN_STALE_MS', () => {
    for (const other of [{ host: 'elsewhere' }, { pidns: 'pid:[2]' }]) {
      expect(lockIsStale(lock(other), now - 1000, look({}))).toBe(false);
      expect(lockIsStale(lock(other), now - FOREIGN_STALE_MS - 1, look({}))).toBe(true);
    }
  });

  it('a lock that is not ours to read is stale only once old (a holder writes its token at once)', () => {
    expect(lockIsStale('', now - 1000, look({}))).toBe(false);
    expect(lockIsStale('garbage', now - FOREIGN_STALE_MS - 1, look({}))).toBe(true);
  });
});

describe('chains of one audit file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpgate-chains-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('names chain K beside the file and tells a chain file back', () => {
    expect(chainFileName('/x/mcpgate-audit.log', 1)).toBe('/x/mcpgate-audit.log');
    expect(chainFileName('/x/mcpgate-audit.log', 3)).toBe('/x/mcpgate-audit.chain-3.log');
    expect(chainFileName('/x/audit', 2)).toBe('/x/audit.chain-2');
    expect(chainOfName('/x/mcpgate-audit.chain-3.log')).toEqual({ chain: 3, base: '/x/mcpgate-audit.log' });
    expect(chainOfName('/x/mcpgate-audit.log.17')).toEqual({ chain: 1, base: '/x/mcpgate-audit.log.17' });
  });

  it('two writers in one process get two chains; a released chain is claimed again first', async () => {
    const base = join(dir, 'audit.log');
    const a = claimChain(base);
    const b = claimChain(base);
    expect([a.chain, b.chain]).toEqual([1, 2]);
    expect((await readdir(dir)).sort()).toEqual(['audit.chain-2.log.lock', 'audit.log.lock']);
    a.release();
    const c = claimChain(base);
    expect(c.chain).toBe(1);
    b.release();
    c.release();
    expect(await readdir(dir)).toEqual([]);
    expect(await auditChains(base)).toEqual([]);
  });
});
