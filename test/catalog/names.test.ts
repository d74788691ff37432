import { describe, expect, it } from 'vitest';
import { MAX_PUBLIC_NAME, publicName } from '../../src/catalog/names.js';

describe('publicName', () => {
  it('joins prefix and name with a double underscore, or keeps the name for an empty prefix', () => {
    expect(publicName('github', 'create_issue')).toBe('github__create_issue');
    expect(publicName('', 'create_issue')).toBe('create_issue');
  });

  it('cuts names over 64 characters, keeping them distinct and stable', () => {
    const a = publicName('server', `a_${'x'.repeat(80)}`);
    const b = publicName('server', `b_${'x'.repeat(80)}`);
    const a2 = publicName('server', `a_${'x'.repeat(79)}y`);
    expect(a).toHaveLength(MAX_PUBLIC_NAME);
    expect(a).toMatch(/^server__a_x+_[0-9a-f]{8}$/);
    expect(a).toBe(publicName('server', `a_${'x'.repeat(80)}`));
    expect(new Set([a, b, a2]).size).toBe(3);
  });

  it('leaves a name of exactly 64 characters alone', () => {
    const name = 'n'.repeat(64 - 'p__'.length);
    expect(publicName('p', name)).toBe(`p__${name}`);
  });
});
