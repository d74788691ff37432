/**
 * The chain logic without processes: lines built and hashed as the writer does, then edited,
 * deleted, inserted, reordered and torn; checkChain names the first bad seq and why.
 */
import { describe, expect, it } from 'vitest';
import { ChainWalker, checkChain, formatLine, GENESIS, hashLine, type ChainLine } from '../../src/audit/chain.js';

function chain(n: number): ChainLine[] {
  const lines: ChainLine[] = [];
  let prev = GENESIS;
  for (let seq = 1; seq <= n; seq++) {
    const text = formatLine(seq, prev, '2025-01-01T00:00:00.000Z', JSON.stringify({ event: 'mcpgate.tool.decision', call: `c${seq}`, decision: 'allow' }).slice(1));
    prev = hashLine(text);
    lines.push({ file: 'audit.log', line: seq, text });
  }
  return lines;
}

const renumber = (lines: ChainLine[]) => lines.map((l, i) => ({ ...l, line: i + 1 }));

describe('audit chain', () => {
  it('accepts an untouched chain and records every hash', () => {
    const result = checkChain(chain(6));
    expect(result.break).toBeUndefined();
    expect(result).toMatchObject({ records: 6, firstSeq: 1, lastSeq: 6 });
    expect(result.hashes.get(6)).toBe(hashLine(chain(6)[5]!.text));
  });

  it('chains the first record to the genesis value', () => {
    const lines = chain(3);
    expect(JSON.parse(lines[0]!.text).prev).toBe('0'.repeat(64));
    expect(JSON.parse(lines[1]!.text).prev).toBe(hashLine(lines[0]!.text));
  });

  it('names an edited record', () => {
    const lines = chain(6);
    lines[2] = { ...lines[2]!, text: lines[2]!.text.replace('"allow"', '"deny"') };
    expect(checkChain(lines).break).toMatchObject({ seq: 3, kind: 'edited', line: 3 });
  });

  it('names a deleted record', () => {
    const lines = chain(6);
    lines.splice(3, 1);
    expect(checkChain(renumber(lines)).break).toMatchObject({ seq: 4, kind: 'deleted' });
  });

  it('names an inserted record even when it chains to its predecessor', () => {
    const lines = chain(6);
    const forged = formatLine(4, hashLine(lines[2]!.text), '2025-01-01T00:00:00.000Z', JSON.stringify({ event: 'mcpgate.tool.decision', call: 'forged' }).slice(1));
    lines.splice(3, 0, { file: 'audit.log', line: 0, text: forged });
    expect(checkChain(renumber(lines)).break).toMatchObject({ seq: 4, kind: 'inserted' });
  });

  it('names reordered records', () => {
    const lines = chain(6);
    [lines[2], lines[3]] = [lines[3]!, lines[2]!];
    expect(checkChain(renumber(lines)).break).toMatchObject({ seq: 3, kind: 'reordered' });
  });

  it('names a line that is not a record', () => {
    const lines = chain(4);
    lines.splice(2, 0, { file: 'audit.log', line: 3, text: '{"time":"x","event":"mcpgate.tool.decision"}' });
    expect(checkChain(renumber(lines)).break).toMatchObject({ seq: 3, kind: 'invalid' });
  });

  it('reports a torn last line after verifying everything before it', () => {
    const result = checkChain(chain(5), { file: 'audit.log', line: 6, text: '{"seq":6,"prev":"ab' });
    expect(result.break).toMatchObject({ seq: 6, kind: 'torn' });
    expect(result.records).toBe(5);
  });

  it('accepts a chain that starts after seq 1 (older files rotated away)', () => {
    const result = checkChain(chain(8).slice(3));
    expect(result.break).toBeUndefined();
    expect(result).toMatchObject({ firstSeq: 4, lastSeq: 8, records: 5 });
  });

  it('rejects a first record whose prev is not the genesis value', () => {
    const lines = chain(3);
    lines[0] = { ...lines[0]!, text: lines[0]!.text.replace(GENESIS, 'f'.repeat(64)) };
    expect(checkChain(lines).break).toMatchObject({ seq: 1, kind: 'edited' });
  });

  it('walks on across a gap it is told to bridge, and maps seqs to line indexes around the gaps', () => {
    // seqs 1..12 with 3..4 and 8..10 left out (as a writer that dropped them: the prevs still chain across).
    const lines = renumber(chain(12).filter((l) => ![3, 4, 8, 9, 10].includes(l.line)));
    const walker = new ChainWalker();
    const gaps: Array<{ expected: number; seq: number }> = [];
    for (const line of lines) {
      if (walker.push(line) !== undefined) continue;
      const gap = walker.gap;
      expect(gap).toBeDefined();
      gaps.push({ expected: gap!.expected, seq: gap!.seq });
      // The record after the gap holds the hash of the last seq missing: what last_hash claims.
      expect(gap!.prev).toBe(hashLine(chain(12)[gap!.seq - 2]!.text));
      expect(walker.bridge(line)).toBe(hashLine(line.text));
    }
    expect(gaps).toEqual([{ expected: 3, seq: 5 }, { expected: 8, seq: 11 }]);
    expect(walker.outcome()).toEqual({ records: 7, firstSeq: 1, lastSeq: 12 });
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map((seq) => walker.indexOf(seq))).toEqual([0, 1, undefined, undefined, 2, 3, 4, undefined, undefined, undefined, 5, 6, undefined]);
    // Without a bridge the same gap is named as before.
    expect(checkChain(lines).break).toMatchObject({ seq: 3, kind: 'deleted' });
  });
});
