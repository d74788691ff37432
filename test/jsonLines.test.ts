import { describe, expect, it } from 'vitest';
import { LineSplitter, OVERFLOW_EDGE, overflowId, rememberRawResult, spliceResponse, type Overflow } from '../src/jsonLines.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('LineSplitter', () => {
  it('splits chunks into lines across chunk boundaries, dropping blank lines and \\r', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l), () => lines.push('OVERFLOW'), 1024);
    splitter.push(bytes('{"a":1}\n{"b"'));
    splitter.push(bytes(':2}\r\n\n   \n{"c":3}'));
    expect(lines).toEqual(['{"a":1}', '{"b":2}']);
    splitter.push(bytes('\n'));
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('joins a UTF-8 character split across chunks', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l), () => lines.push('OVERFLOW'), 1024);
    const line = bytes('{"t":"é€😀"}\n');
    for (let i = 0; i < line.length; i++) splitter.push(line.subarray(i, i + 1));
    expect(lines).toEqual(['{"t":"é€😀"}']);
  });

  it('drops a line past the limit whole (its rest is not a line of its own), reports its size and edges, then carries on', () => {
    const lines: string[] = [];
    const overflows: Overflow[] = [];
    const splitter = new LineSplitter((l) => lines.push(l), (o) => overflows.push(o), 100);
    splitter.push(bytes(`{"result":{"text":"${'x'.repeat(150)}`));
    expect(overflows).toEqual([]);
    splitter.push(bytes(`${'y'.repeat(2000)}ok"},"jsonrpc":"2.0","id":"mcpgate-7"}\n{"next":1}\n`));
    expect(lines).toEqual(['{"next":1}']);
    expect(overflows).toHaveLength(1);
    const [overflow] = overflows as [Overflow];
    expect(overflow.bytes).toBe(19 + 150 + 2000 + 38);
    expect(overflow.head.startsWith('{"result":{"text":"xxx')).toBe(true);
    expect(overflow.tail.endsWith('"id":"mcpgate-7"}')).toBe(true);
    expect(overflow.tail.length).toBeLessThanOrEqual(OVERFLOW_EDGE);
    expect(overflowId(overflow)).toBe('mcpgate-7');
  });

  it('a line exactly at the limit is a line', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l), () => lines.push('OVERFLOW'), 10);
    splitter.push(bytes('0123456789\n01234567890\n'));
    expect(lines).toEqual(['0123456789', 'OVERFLOW']);
  });

  it('finds the id of an oversized message at its end, else at its start, else none', () => {
    expect(overflowId({ bytes: 0, head: '{"jsonrpc":"2.0","id":12,"result":{"a', tail: 'zzz"}}' })).toBe(12);
    expect(overflowId({ bytes: 0, head: '{"result":{"id":"inner"', tail: '"}},"id":"mcpgate-3"}' })).toBe('mcpgate-3');
    expect(overflowId({ bytes: 0, head: '{"method":"notifications/progress","params":{"x":"', tail: 'zzz"}}' })).toBeUndefined();
  });

  it('takes time linear in the length of one long line (it used to rescan its buffer on every chunk)', () => {
    const chunk = Buffer.alloc(65536, 0x61);
    const time = (mib: number) => {
      let best = Infinity;
      for (let run = 0; run < 3; run++) {
        const splitter = new LineSplitter(() => undefined, () => undefined, 1024 * 1024 * 1024);
        const started = performance.now();
        for (let i = 0; i < mib * 16; i++) splitter.push(chunk);
        splitter.push(bytes('\n'));
        best = Math.min(best, performance.now() - started);
      }
      return best;
    };
    time(4); // warm up
    const small = Math.max(time(4), 1);
    const large = time(32);
    // Eight times the input: about eight times the time (quadratic would be about sixty times).
    expect(large / small).toBeLessThan(24);
  });
});

describe('spliceResponse', () => {
  it('rewrites only the trailing id of the line a result came from', () => {
    const line = '{"result":{"content":[{"type":"text","text":"id \\"mcpgate-7\\" inside"}]},"jsonrpc":"2.0","id":"mcpgate-7"}';
    const message = JSON.parse(line) as { result: object };
    rememberRawResult(message.result, line, 'mcpgate-7');
    const spliced = spliceResponse(message.result, 42);
    expect(spliced).toBe('{"result":{"content":[{"type":"text","text":"id \\"mcpgate-7\\" inside"}]},"jsonrpc":"2.0","id":42}');
    expect(JSON.parse(spliced as string)).toEqual({ ...JSON.parse(line), id: 42 });
    expect(JSON.parse(spliceResponse(message.result, 'client-1') as string).id).toBe('client-1');
  });

  it('declines results it has no line for, or lines not ending in the id', () => {
    expect(spliceResponse({}, 1)).toBeUndefined();
    const line = '{"jsonrpc":"2.0","id":"mcpgate-8","result":{}}';
    const message = JSON.parse(line) as { result: object };
    rememberRawResult(message.result, line, 'mcpgate-8');
    expect(spliceResponse(message.result, 1)).toBeUndefined();
  });
});
