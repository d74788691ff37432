import { describe, expect, it } from 'vitest';
import { LineSplitter, MAX_LINE_CHARS, rememberRawResult, spliceResponse } from '../src/jsonLines.js';

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
