import { describe, expect, it } from 'vitest';
import { modernResult } from '../../src/protocol/results.js';

describe('modern results', () => {
  it('stamps resultType, serverInfo and caching hints on a cacheable list', () => {
    expect(modernResult('tools/list', { tools: [] })).toEqual({
      tools: [],
      resultType: 'complete',
      ttlMs: 0,
      cacheScope: 'private',
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'mcpgate', version: expect.any(String) } },
    });
  });

  it("replaces an upstream's serverInfo and keeps the rest of its _meta", () => {
    const out = modernResult('tools/call', { content: [], _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'upstream', version: '9' }, trace: 'x' } });
    expect(out._meta).toEqual({ 'io.modelcontextprotocol/serverInfo': { name: 'mcpgate', version: expect.any(String) }, trace: 'x' });
    expect(out).not.toHaveProperty('ttlMs');
  });

  it('keeps an input_required or task resultType, without caching hints', () => {
    expect(modernResult('resources/read', { resultType: 'input_required', inputRequests: {} })).not.toHaveProperty('ttlMs');
    expect(modernResult('tools/call', { resultType: 'task' }).resultType).toBe('task');
  });
});
