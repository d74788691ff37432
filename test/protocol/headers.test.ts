import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { checkParamHeaders, checkRoutingHeaders, checkVersionHeader, decodeHeaderValue, paramHeadersOf, type HeaderBag } from '../../src/protocol/headers.js';

function outcome(fn: () => void): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof ProtocolError) return `${error.rpcCode}/${error.httpStatus}`;
    throw error;
  }
}

describe('MCP-Protocol-Version', () => {
  it.each<[HeaderBag, string]>([
    [{ 'mcp-protocol-version': '2026-07-28' }, 'ok'],
    [{}, '-32020/400'],
    [{ 'mcp-protocol-version': '2025-11-25' }, '-32020/400'],
    [{ 'mcp-protocol-version': ' 2026-07-28 ' }, 'ok'],
  ])('%j → %s', (headers, expected) => {
    expect(outcome(() => checkVersionHeader(headers, '2026-07-28'))).toBe(expected);
  });
});

describe('Mcp-Method and Mcp-Name', () => {
  const call = { name: 'echo', arguments: {} };
  it.each<[string, HeaderBag, string, Record<string, unknown>, string]>([
    ['matching method', { 'mcp-method': 'tools/list' }, 'tools/list', {}, 'ok'],
    ['missing method', {}, 'tools/list', {}, '-32020/400'],
    ['other method', { 'mcp-method': 'prompts/list' }, 'tools/list', {}, '-32020/400'],
    ['method values are case-sensitive', { 'mcp-method': 'TOOLS/LIST' }, 'tools/list', {}, '-32020/400'],
    ['matching name', { 'mcp-method': 'tools/call', 'mcp-name': 'echo' }, 'tools/call', call, 'ok'],
    ['name with surrounding whitespace', { 'mcp-method': 'tools/call', 'mcp-name': '  echo  ' }, 'tools/call', call, 'ok'],
    ['missing name', { 'mcp-method': 'tools/call' }, 'tools/call', call, '-32020/400'],
    ['other name', { 'mcp-method': 'tools/call', 'mcp-name': 'wrong_tool_name' }, 'tools/call', call, '-32020/400'],
    ['base64 name', { 'mcp-method': 'tools/call', 'mcp-name': `=?base64?${Buffer.from('echo').toString('base64')}?=` }, 'tools/call', call, 'ok'],
    ['resource uri', { 'mcp-method': 'resources/read', 'mcp-name': 'test://x' }, 'resources/read', { uri: 'test://x' }, 'ok'],
    ['resource uri missing', { 'mcp-method': 'resources/read' }, 'resources/read', { uri: 'test://x' }, '-32020/400'],
    ['task id', { 'mcp-method': 'tasks/get', 'mcp-name': 't1' }, 'tasks/get', { taskId: 't1' }, 'ok'],
  ])('%s', (_name, headers, method, params, expected) => {
    expect(outcome(() => checkRoutingHeaders(headers, method, params))).toBe(expected);
  });
});

describe('header value decoding', () => {
  it.each([
    ['Hello', 'Hello'],
    [`=?base64?${Buffer.from('Hello').toString('base64')}?=`, 'Hello'],
    [`=?base64?${Buffer.from('日本').toString('base64')}?=`, '日本'],
    ['=?base64?SGVsbG8=', '=?base64?SGVsbG8='], // no ?= suffix: literal
    ['SGVsbG8=', 'SGVsbG8='], // no prefix: literal
    ['=?BASE64?SGVsbG8=?=', '=?BASE64?SGVsbG8=?='], // markers are case-sensitive
  ])('%s → %s', (value, expected) => {
    expect(decodeHeaderValue(value, 'Mcp-Name')).toBe(expected);
  });

  it.each(['=?base64?SGVsbG8?=', '=?base64?SGVs!!!bG8=?=', 'caf\u00e9'])('refuses %s with -32020', (value) => {
    expect(outcome(() => decodeHeaderValue(value, 'Mcp-Param-X'))).toBe('-32020/400');
  });
});

describe('Mcp-Param-* headers', () => {
  const schema = {
    type: 'object',
    properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, count: { type: 'integer', 'x-mcp-header': 'Count' }, dry: { type: 'boolean', 'x-mcp-header': 'Dry' }, note: { type: 'string' } },
  };
  const annotations = paramHeadersOf(schema) ?? [];

  it('reads the annotations of a tool', () => {
    expect(annotations.map((a) => a.header)).toEqual(['Region', 'Count', 'Dry']);
  });

  it.each<[string, HeaderBag, Record<string, unknown>, string]>([
    ['all present and equal', { 'mcp-param-region': 'eu', 'mcp-param-count': '3', 'mcp-param-dry': 'true' }, { region: 'eu', count: 3, dry: true }, 'ok'],
    ['integers compare numerically', { 'mcp-param-count': '3.0' }, { count: 3 }, 'ok'],
    ['absent arguments need no header', {}, { note: 'x' }, 'ok'],
    ['base64 value', { 'mcp-param-region': `=?base64?${Buffer.from('Hello').toString('base64')}?=` }, { region: 'Hello' }, 'ok'],
    ['missing header for a value', {}, { region: 'eu' }, '-32020/400'],
    ['different value', { 'mcp-param-region': 'us' }, { region: 'eu' }, '-32020/400'],
    ['header for an absent argument', { 'mcp-param-region': 'eu' }, {}, '-32020/400'],
    ['header for a null argument', { 'mcp-param-region': 'eu' }, { region: null }, '-32020/400'],
    ['boolean spelled otherwise', { 'mcp-param-dry': 'TRUE' }, { dry: true }, '-32020/400'],
    ['unknown Mcp-Param headers are ignored', { 'mcp-param-other': 'x' }, {}, 'ok'],
  ])('%s', (_name, headers, args, expected) => {
    expect(outcome(() => checkParamHeaders(headers, annotations, args))).toBe(expected);
  });

  it.each([
    ['a header name that is not a token', { properties: { a: { type: 'string', 'x-mcp-header': 'Bad Name' } } }],
    ['two properties naming one header', { properties: { a: { type: 'string', 'x-mcp-header': 'X' }, b: { type: 'string', 'x-mcp-header': 'x' } } }],
    ['a non-primitive property', { properties: { a: { type: 'object', 'x-mcp-header': 'A' } } }],
    ['a number (float) property', { properties: { a: { type: 'number', 'x-mcp-header': 'A' } } }],
    ['an empty header name', { properties: { a: { type: 'string', 'x-mcp-header': '' } } }],
    ['a null property', { properties: { a: { type: 'null', 'x-mcp-header': 'A' } } }],
    ['an annotation that is not a string', { properties: { a: { type: 'string', 'x-mcp-header': 3 } } }],
  ])('marks a tool with %s as invalid', (_name, schema) => {
    expect(paramHeadersOf(schema)).toBeUndefined();
  });
});
