import { describe, expect, it } from 'vitest';
import { paramHeadersOf } from '../../src/protocol/headers.js';
import { callableTools } from '../../src/upstream/connection.js';
import { encodeHeaderValue, modernLeg, readDiscover, requestHeaders, withEnvelope } from '../../src/upstream/modern.js';

describe('the server/discover verdict', () => {
  it.each<[string, Parameters<typeof readDiscover>[0], string]>([
    ['a result listing 2026-07-28', { result: { supportedVersions: ['2026-07-28'], capabilities: { tools: {} } } }, 'modern'],
    ['a 2025-only list', { result: { supportedVersions: ['2025-11-25'] } }, 'legacy'],
    ['a result without a list', { result: {} }, 'legacy'],
    ['-32601 (a 2025 server)', { error: { code: -32601 } }, 'legacy'],
    ['another error', { error: { code: -32000 } }, 'legacy'],
    ['-32022 naming 2026-07-28: ask again', { error: { code: -32022, data: { supported: ['2026-07-28'] } } }, 'retry'],
    ['-32022 naming only other versions', { error: { code: -32022, data: { supported: ['2099-01-01'] } } }, 'legacy'],
  ])('%s → %s', (_name, message, kind) => {
    expect(readDiscover(message).kind).toBe(kind);
  });

  it('keeps the capabilities (an array is none)', () => {
    expect(readDiscover({ result: { supportedVersions: ['2026-07-28'], capabilities: { tools: { listChanged: true } } } })).toEqual({ kind: 'modern', capabilities: { tools: { listChanged: true } } });
    expect(readDiscover({ result: { supportedVersions: ['2026-07-28'], capabilities: [] } })).toEqual({ kind: 'modern', capabilities: {} });
  });
});

describe('the envelope', () => {
  it("is added to every request, keeping the request's own _meta", () => {
    const params = withEnvelope({ name: 'x', _meta: { progressToken: 'p1' } });
    expect(params._meta).toMatchObject({ progressToken: 'p1', 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'mcpgate' } });
    expect(withEnvelope(undefined)._meta).toHaveProperty(['io.modelcontextprotocol/clientCapabilities']);
  });

  it('records name only a 2026 leg', () => {
    expect(modernLeg('2026-07-28')).toBe('2026-07-28');
    expect(modernLeg('2025-11-25')).toBeUndefined();
    expect(modernLeg(undefined)).toBeUndefined();
  });
});

describe('SEP-2243 request headers', () => {
  it.each([
    ['us-west1', 'us-west1'],
    ['us west 1', 'us west 1'],
    ['', ''],
    [' padded ', `=?base64?${Buffer.from(' padded ').toString('base64')}?=`],
    ['Hello, 世界', `=?base64?${Buffer.from('Hello, 世界').toString('base64')}?=`],
    ['line1\nline2', `=?base64?${Buffer.from('line1\nline2').toString('base64')}?=`],
    ['\tindented', `=?base64?${Buffer.from('\tindented').toString('base64')}?=`],
  ])('encodes %j as %j', (value, encoded) => {
    expect(encodeHeaderValue(value)).toBe(encoded);
  });

  const schema = { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, n: { type: 'integer', 'x-mcp-header': 'N' }, dry: { type: 'boolean', 'x-mcp-header': 'Dry' }, q: { type: 'string' } } };
  const annotations = paramHeadersOf(schema) ?? [];

  it('names method, name and the annotated arguments of a tools/call (null and unannotated ones left out)', () => {
    const message = { method: 'tools/call', params: { name: 'search', arguments: { region: 'eu', n: 3, dry: false, q: 'secret query', nothing: null } } };
    expect(requestHeaders(message, () => annotations)).toEqual({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'search', 'mcp-param-region': 'eu', 'mcp-param-n': '3', 'mcp-param-dry': 'false' });
    expect(requestHeaders({ method: 'tools/call', params: { name: 'search', arguments: { region: null } } }, () => annotations)).not.toHaveProperty('mcp-param-region');
  });

  it('uses the uri for resources/read and no name for lists', () => {
    expect(requestHeaders({ method: 'resources/read', params: { uri: 'file:///a b.txt' } }, () => undefined)['mcp-name']).toBe('file:///a b.txt');
    expect(requestHeaders({ method: 'tools/list', params: {} }, () => undefined)).toEqual({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
  });
});

describe('tools with x-mcp-header annotations', () => {
  it('leaves out the invalid ones and keeps the rest with their annotations', () => {
    const tool = (name: string, property: Record<string, unknown>) => ({ name, inputSchema: { type: 'object' as const, properties: { v: property } } });
    const { kept, dropped, headers } = callableTools([
      tool('valid', { type: 'string', 'x-mcp-header': 'Region' }),
      tool('plain', { type: 'string' }),
      tool('number', { type: 'number', 'x-mcp-header': 'Score' }),
      tool('space', { type: 'string', 'x-mcp-header': 'My Region' }),
      tool('object', { type: 'object', 'x-mcp-header': 'Data' }),
    ]);
    expect(kept.map((t) => t.name)).toEqual(['valid', 'plain']);
    expect(dropped).toEqual(['number', 'space', 'object']);
    expect([...headers.keys()]).toEqual(['valid']);
  });
});
