import { describe, expect, it } from 'vitest';
import { compileGlob, compileValuePattern, globToRegExp, parseRegexLiteral, valuePatternError } from '../../src/policy/glob.js';

describe('compileGlob', () => {
  const cases: Array<[glob: string, value: string, expected: boolean]> = [
    ['get_*', 'get_issue', true],
    ['get_*', 'get_', true],
    ['get_*', 'list_issues', false],
    ['get_*', 'xget_issue', false],
    ['*_issue', 'get_issue', true],
    ['*_issue', 'get_issues', false],
    ['*issue*', 'list_issue_comments', true],
    ['*issue*', 'list_pulls', false],
    ['get_?', 'get_a', true],
    ['get_?', 'get_', false],
    ['get_?', 'get_ab', false],
    ['a?c*z', 'abcxyz', true],
    ['a?c*z', 'acxyz', false],
    ['file.read', 'file.read', true],
    ['file.read', 'fileXread', false],
    ['a+b(c)', 'a+b(c)', true],
    ['[x]', 'x', false],
    ['*', '', true],
    ['**', 'anything', true],
    ['*a*b*c', 'xxaxxbxxc', true],
    ['*a*b*c', 'xxaxxbxxcx', false],
    ['refs/*/main', 'refs/heads/main', true],
    ['?', '😀', true],
    ['x?y', 'x😀y', true],
    ['line*', 'line1\nline2', true],
  ];
  it.each(cases)('%s against %j is %s', (glob, value, expected) => {
    expect(compileGlob(glob)(value)).toBe(expected);
  });

  it('agrees with globToRegExp on every case', () => {
    for (const [glob, value, expected] of cases) expect(globToRegExp(glob).test(value), `${glob} ${value}`).toBe(expected);
  });

  it('agrees with globToRegExp on every short glob and value', () => {
    const words = (alphabet: string[], max: number): string[] => {
      const out = [''];
      for (let i = 0; i < out.length; i += 1) {
        if ([...out[i]!].length < max) for (const char of alphabet) out.push(out[i] + char);
      }
      return out;
    };
    const values = words(['a', 'b', '😀'], 4);
    for (const glob of words(['*', '?', 'a', 'b'], 4)) {
      const match = compileGlob(glob);
      const regex = globToRegExp(glob);
      for (const value of values) if (match(value) !== regex.test(value)) expect.fail(`${glob} against ${value}`);
    }
  });

  it('stays fast on agent-sized values that a backtracking RegExp would struggle with', () => {
    const match = compileGlob('*a*a*a*a*a*b');
    const value = 'a'.repeat(20_000);
    const started = performance.now();
    expect(match(value)).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('argument-value patterns', () => {
  it('reads /regex/flags but not a path glob with slashes in it', () => {
    expect(parseRegexLiteral('/^main$/i')).toEqual({ source: '^main$', flags: 'i' });
    expect(parseRegexLiteral('/a\\/b/')).toEqual({ source: 'a\\/b', flags: '' });
    expect(parseRegexLiteral('/home/*/')).toBeUndefined();
    expect(parseRegexLiteral('/etc/*')).toBeUndefined();
    expect(parseRegexLiteral('//')).toBeUndefined();
    expect(parseRegexLiteral('main')).toBeUndefined();
  });

  it('tests a regex unanchored and case-insensitively with i', () => {
    const test = compileValuePattern('/prod/i');
    expect(test?.('eu-PROD-1')).toBe(true);
    expect(test?.('staging')).toBe(false);
  });

  it('drops the g flag so repeated tests give the same answer', () => {
    const test = compileValuePattern('/main/g');
    expect([test?.('main'), test?.('main'), test?.('main')]).toEqual([true, true, true]);
  });

  it('matches a glob against the whole value', () => {
    const test = compileValuePattern('release-*');
    expect(test?.('release-1.2')).toBe(true);
    expect(test?.('pre-release-1.2')).toBe(false);
  });

  it('reports a regex that does not compile', () => {
    expect(compileValuePattern('/(/')).toBeUndefined();
    expect(valuePatternError('/(/')).toMatch(/^invalid regular expression \/\(\/: /);
    expect(valuePatternError('/ok/')).toBeUndefined();
    expect(valuePatternError('plain*')).toBeUndefined();
  });
});
