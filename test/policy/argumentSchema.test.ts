/**
 * Argument validation against a tool's inputSchema, with hostile schemas (from the upstream) and
 * hostile arguments (from the agent). Pure: no processes.
 */
import { describe, expect, it } from 'vitest';
import { argumentValidator, MAX_SCHEMA_CHARS, type ArgumentValidator } from '../../src/policy/argumentSchema.js';
import { combine, LAYERS } from '../../src/policy/layers.js';
import { decideCall } from '../../src/policy/policy.js';
import type { Verdict } from '../../src/policy/verdict.js';

const ALLOW: Verdict = Object.freeze({ decision: 'allow', decidedBy: 'rule', reason: 'allowed by rule' });
const DENY: Verdict = Object.freeze({ decision: 'deny', decidedBy: 'rule', reason: 'no writes to /etc' });
function decide(inputSchema: Record<string, unknown>, args: Record<string, unknown> | undefined, base: Verdict = ALLOW): Verdict {
  return validatedVerdict(base, argumentValidator({ name: 't', inputSchema } as never, 'servers.d/fs.yaml'), args);
}

const WRITE = {
  type: 'object',
  properties: { path: { type: 'string' }, content: { type: 'string' }, force: { type: 'boolean' } },
  required: ['path', 'content'],
  additionalProperties: false,
};

/** The verdict of a call whose other layers said `verdict`, with its arguments checked (src/policy/policy.ts decideCall). */
function validatedVerdict(verdict: Verdict, validator: ArgumentValidator | undefined, args: Record<string, unknown> | undefined): Verdict {
  const tool = { upstream: { name: 'fs' }, name: 't', publicTool: { name: 't', inputSchema: { type: 'object' } }, policy: { listing: verdict, conditional: false, decide: () => verdict }, validator };
  return decideCall(tool as never, undefined, args);
}

describe('argument validation', () => {
  it('passes valid arguments through to the policy verdict', () => {
    expect(decide(WRITE, { path: '/tmp/a', content: 'x' })).toBe(ALLOW);
  });

  it.each([
    [{ path: ['/etc/passwd'], content: 'x' }, '/path must be string'],
    [{ path: { p: '/etc/passwd' }, content: 'x' }, '/path must be string'],
    [{ path: 1, content: 'x' }, '/path must be string'],
    [{ path: '/a', content: 'x', force: 1 }, '/force must be boolean'],
    [{ path: '/a', content: 'x', force: 'true' }, '/force must be boolean'],
    [{ content: 'x' }, "(arguments) must have required property 'path'"],
    [{ path: '/a', content: 'x', mode: '0777' }, '(arguments) must NOT have additional properties ("mode")'],
  ])('refuses %j: %s', (args, problem) => {
    expect(decide(WRITE, args)).toEqual({ decision: 'deny', decidedBy: 'schema', reason: `the arguments do not match the tool's inputSchema: ${problem}` });
  });

  it('checks a call without arguments as {}', () => {
    expect(decide(WRITE, undefined).reason).toContain("must have required property 'path'");
    expect(decide({ type: 'object' }, undefined)).toBe(ALLOW);
  });

  it('keeps the reason of a deny (no validation needed) and validates before an ask is asked', () => {
    expect(decide(WRITE, { path: 5 }, DENY)).toBe(DENY);
    const ask: Verdict = { decision: 'ask', decidedBy: 'rule', reason: 'approval required' };
    expect(decide(WRITE, { path: 5 }, ask).decidedBy).toBe('schema');
  });

  it('escapes control characters of agent-chosen names in the reason', () => {
    expect(decide(WRITE, { path: '/a', content: 'x', 'a\u001b[31mb': 1 }).reason).toContain('("a\\u001b[31mb")');
  });

  it('runs upstream patterns in linear time (RE2): a catastrophic pattern does not stall', () => {
    const schema = { type: 'object', properties: { p: { type: 'string', pattern: '^(a+)+$' } } };
    const started = performance.now();
    expect(decide(schema, { p: `${'a'.repeat(100_000)}!` }).reason).toContain('/p must match pattern "^(a+)+$"');
    expect(decide(schema, { p: 'aaa' })).toBe(ALLOW);
    // a backtracking engine would not finish this in the lifetime of the test
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('checks uniqueItems in linear time', () => {
    const schema = { type: 'object', properties: { items: { type: 'array', uniqueItems: true } } };
    const items = Array.from({ length: 100_000 }, (_, i) => ({ id: i, tags: [i] }));
    const started = performance.now();
    expect(decide(schema, { items })).toBe(ALLOW);
    // pairwise comparison would be 5·10⁹ deep comparisons (minutes); linear is ~1 s even on a loaded machine
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(decide(schema, { items: [{ a: 1, b: 2 }, { b: 2, a: 1 }] }).decidedBy).toBe('schema');
  });

  it('reads the dialect from $schema: draft-07 tuples, 2020-12 by default, draft-07 shapes without $schema', () => {
    const tuple = { type: 'object', properties: { t: { type: 'array', items: [{ type: 'string' }] } } };
    expect(decide({ $schema: 'http://json-schema.org/draft-07/schema#', ...tuple }, { t: [1] }).reason).toContain('/t/0 must be string');
    expect(decide(tuple, { t: [1] }).reason).toContain('/t/0 must be string');
    const prefix = { type: 'object', properties: { t: { type: 'array', prefixItems: [{ type: 'string' }] } } };
    expect(decide(prefix, { t: [1] }).reason).toContain('/t/0 must be string');
    expect(decide({ type: 'object', properties: { t: { $ref: '#/$defs/n' } }, $defs: { n: { type: 'integer' } } }, { t: 1.5 }).reason).toContain('/t must be integer');
  });

  it.each([
    ['an unsupported dialect', { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' }, /unsupported \$schema/],
    ['a $ref it cannot resolve (never fetched)', { type: 'object', properties: { t: { $ref: 'http://127.0.0.1:1/x' } } }, /can't resolve reference/],
    ['a pattern RE2 cannot run', { type: 'object', properties: { t: { type: 'string', pattern: '^(?=a)' } } }, /unsupported Perl syntax/],
    ['a type that does not exist', { type: 'object', properties: { t: { type: 'strin' } } }, /type must be JSONType/],
    ['a schema too large to compile', { type: 'object', description: 'x'.repeat(MAX_SCHEMA_CHARS) }, /more than the 65536 mcpgate compiles/],
  ])('refuses every call to a tool with %s (fail closed), naming the opt-out', (_name, schema, why) => {
    const verdict = decide(schema, { t: 'a' });
    expect(verdict).toMatchObject({ decision: 'deny', decidedBy: 'schema' });
    expect(verdict.reason).toMatch(why);
    expect(verdict.reason).toContain('set validateArguments: false in servers.d/fs.yaml');
  });

  it('keeps tools with the same $id apart', () => {
    expect(decide({ $id: 'https://example.com/tool.json', type: 'object', properties: { t: { type: 'number' } } }, { t: 'a' }).decidedBy).toBe('schema');
    expect(decide({ $id: 'https://example.com/tool.json', type: 'object', properties: { t: { type: 'string' } } }, { t: 'a' })).toBe(ALLOW);
  });

  it('refuses arguments nested too deep to check rather than forwarding them', () => {
    const schema = { type: 'object', properties: { t: { $ref: '#/$defs/node' } }, $defs: { node: { type: 'array', items: { $ref: '#/$defs/node' } } } };
    let deep: unknown[] = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(decide(schema, { t: deep })).toMatchObject({ decision: 'deny', decidedBy: 'schema' });
  });
});

describe('argument validation after every policy layer', () => {
  it('a clients: allow that lifts a default deny still has its arguments checked', () => {
    const defaultDeny: Verdict = { decision: 'deny', decidedBy: 'default', reason: 'deny by default' };
    const clientAllow: Verdict = { decision: 'allow', decidedBy: 'rule', reason: 'allowed by clients[0]' };
    const combined = combine(defaultDeny, clientAllow, LAYERS.clients);
    expect(combined).toBe(clientAllow);
    expect(validatedVerdict(combined, argumentValidator({ name: 't', inputSchema: WRITE } as never, 'servers.d/fs.yaml'), { path: 1 }).decidedBy).toBe('schema');
  });
});
