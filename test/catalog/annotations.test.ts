import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { advertisedTool } from '../../src/catalog/annotations.js';
import { compilePolicy } from '../../src/policy/policy.js';

const policyOf = (decision: 'allow' | 'ask' | 'deny', args = false) =>
  compilePolicy({
    policy: { default: decision, allow: [], ask: [], deny: args ? [{ rule: { tool: '*/t', args: { x: 'y' } }, source: 'gateway.yaml', where: 'policy.deny[0]' }] : [], showDenied: false },
    servers: [],
  }).forTool('s', 't');

const claims: Tool = {
  name: 't',
  inputSchema: { type: 'object' },
  annotations: { title: 'T', readOnlyHint: true, idempotentHint: true, destructiveHint: false, openWorldHint: false },
};
const careful: Tool = { name: 't', inputSchema: { type: 'object' }, annotations: { readOnlyHint: false, idempotentHint: false, destructiveHint: true, openWorldHint: true } };

describe('advertised annotations', () => {
  it('untrusted: drops every reassuring hint, keeps the title and the careful ones', () => {
    expect(advertisedTool(claims, 's__t', false, policyOf('allow'))).toEqual({ name: 's__t', inputSchema: { type: 'object' }, annotations: { title: 'T' } });
    expect(advertisedTool(careful, 's__t', false, policyOf('allow')).annotations).toEqual(careful.annotations);
    expect(advertisedTool({ name: 't', inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } }, 's__t', false, policyOf('allow'))).toEqual({
      name: 's__t',
      inputSchema: { type: 'object' },
    });
  });

  it('trusted: passes them through when the tool is allowed outright', () => {
    expect(advertisedTool(claims, 's__t', true, policyOf('allow')).annotations).toEqual(claims.annotations);
  });

  it('never read-only when the tool asks, or argument rules may change its decision', () => {
    expect(advertisedTool(claims, 's__t', true, policyOf('ask')).annotations).toMatchObject({ readOnlyHint: false, idempotentHint: true });
    expect(advertisedTool(claims, 's__t', true, policyOf('allow', true)).annotations).toMatchObject({ readOnlyHint: false });
  });
});
