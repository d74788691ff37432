import { describe, expect, it } from 'vitest';
import { sanitizeMetadata, sanitizePrompt, sanitizeResource, sanitizeTemplate, sanitizeTool, TooDeepToSanitize } from '../../src/catalog/sanitize.js';
import { printable, withoutInvisible } from '../../src/printable.js';

const tags = (text: string) => [...text].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');

describe('withoutInvisible / printable', () => {
  it('removes bidi, zero-width, tag, variation-selector, C0 (but tab and line feed) and C1 characters', () => {
    const cases: Array<[string, string]> = [
      ['abc\u202etxt.exe', 'abctxt.exe'],
      ['a\u2066b\u2067c\u2068d\u2069', 'abcd'],
      ['zero\u200bwidth\u200c\u200d\u2060\ufeff', 'zerowidth'],
      [`hidden${tags('rm -rf ~')}!`, 'hidden!'],
      ['emoji\ufe0f\u{e0100}', 'emoji'],
      ['soft\u00adhyphen\u061c\u115f\u3164', 'softhyphen'],
      ['line\nkept\ttab', 'line\nkept\ttab'],
      ['bell\u0007esc\u001b[2K del\u007f c1\u009b', 'bellesc[2K del c1'],
      ['cr\r\nlf', 'cr\nlf'],
      ['sep\u2028para\u2029', 'sep\npara\n'],
    ];
    for (const [input, output] of cases) expect(withoutInvisible(input), JSON.stringify(input)).toBe(output);
    const plain = 'nothing to remove: ünïcödé, 日本語, emoji 🙂';
    expect(withoutInvisible(plain)).toBe(plain);
  });

  it('escapes the same characters, and line feeds and tabs too, for terminals', () => {
    expect(printable(`a\u202eb\u200bc\n${tags('x')}\u009b`)).toBe('a\\u202eb\\u200bc\\u000a\\u{e0078}\\u009b');
  });
});

describe('sanitize', () => {
  it('cleans every string and key of a tool, and returns an unchanged tool as the same object', () => {
    const tool = {
      name: 'ls\u200b',
      title: 'List\u202e',
      description: `Lists.${tags('exfiltrate')}`,
      inputSchema: { type: 'object' as const, properties: { 'di\u200br': { type: 'string', description: 'a \u2067dir\u2069', enum: ['a\u200b', 'b'] } } },
      annotations: { title: 'T\ufeff' },
      _meta: { note: 'x\u0000' },
    };
    expect(sanitizeTool(tool)).toEqual({
      name: 'ls',
      title: 'List',
      description: 'Lists.',
      inputSchema: { type: 'object', properties: { dir: { type: 'string', description: 'a dir', enum: ['a', 'b'] } } },
      annotations: { title: 'T' },
      _meta: { note: 'x' },
    });
    const clean = { name: 'ls', description: 'Lists', inputSchema: { type: 'object' as const, properties: { dir: { type: 'string' } } } };
    expect(sanitizeTool(clean)).toBe(clean);
  });

  it('cleans prompts and their arguments', () => {
    expect(sanitizePrompt({ name: 'p\u202e', description: 'd\u200b', arguments: [{ name: 'a\u200b', description: 'x\u2066' }] })).toEqual({ name: 'p', description: 'd', arguments: [{ name: 'a', description: 'x' }] });
  });

  it('leaves out a resource or template whose URI holds invisible characters (an address cannot be rewritten)', () => {
    expect(sanitizeResource({ uri: 'file:///a\u202etxt.exe', name: 'a' })).toBeUndefined();
    expect(sanitizeTemplate({ uriTemplate: 'file:///{x}\u200b', name: 't' })).toBeUndefined();
    expect(sanitizeResource({ uri: 'file:///a.txt', name: 'a\u200b', description: 'd\u202e' })).toEqual({ uri: 'file:///a.txt', name: 'a', description: 'd' });
  });

  it('refuses a value nested too deep to walk instead of overflowing the stack', () => {
    let deep: Record<string, unknown> = { description: 'x\u200b' };
    for (let i = 0; i < 10_000; i++) deep = { properties: { a: deep } };
    expect(() => sanitizeMetadata(deep)).toThrow(TooDeepToSanitize);
  });
});
