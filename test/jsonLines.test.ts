import { describe, expect, it } from 'vitest';
import { LineSplitter, MAX_LINE_CHARS } from '../src/jsonLines.js';

describe('LineSplitter', () => {
  it('splits chunks into lines across chunk boundaries, dropping blank lines and \\r', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l), () => lines.push('OVERFLOW'));
    splitter.push('{"a":1}\n{"b"');
    splitter.push(':2}\r\n\n   \n{"c":3}');
    expect(lines).toEqual(['{"a":1}', '{"b":2}']);
    splitter.push('\n');
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('drops an unterminated line that grows past the limit, then carries on', () => {
    const lines: string[] = [];
    let overflows = 0;
    const splitter = new LineSplitter((l) => lines.push(l), () => overflows++);
    splitter.push('x'.repeat(MAX_LINE_CHARS + 1));
    expect(overflows).toBe(1);
    splitter.push('ok\n');
    expect(lines).toEqual(['ok']);
  });
});
