import { describe, expect, it } from 'vitest';
import { decodeLayer } from '../../src/secrets/escapes.js';

describe('decodeLayer', () => {
  it('decodes one layer of JSON, \\x and percent escapes and maps every character back', () => {
    const text = 'a\\"b\\u0063\\x64%65%C3%A9\\\\n';
    const layer = decodeLayer(text);
    expect(layer?.text).toBe('a"bcdeé\\n');
    const below = [...(layer?.below ?? [])];
    // a ← 0, " ← 1..3, b ← 3, c ← 4..10, d ← 10..14, e ← 14..17, é ← 17..23, \ ← 23..25, n ← 25
    expect(below).toEqual([0, 1, 3, 4, 10, 14, 17, 23, 25, 26]);
  });

  it('peels exactly one layer: a doubled backslash becomes one', () => {
    const twice = JSON.stringify(JSON.stringify('x"y')).slice(1, -1);
    const once = decodeLayer(twice);
    expect(once?.text).toBe(JSON.stringify('x"y'));
    expect(decodeLayer(once?.text ?? '')?.text).toBe('"x"y"');
  });

  it('returns undefined for text with nothing to decode, and keeps what is not an escape', () => {
    expect(decodeLayer('plain')).toBeUndefined();
    expect(decodeLayer('50% off \\q \\u12 %G1')).toBeUndefined();
    expect(decodeLayer('%FF%41')?.text).toBe('%FFA'); // not UTF-8: left as written
  });

  it('maps an astral character from percent escapes to all of its source', () => {
    const layer = decodeLayer('x%F0%9F%98%80y');
    expect(layer?.text).toBe('x😀y');
    expect([...(layer?.below ?? [])]).toEqual([0, 1, 1, 13, 14]);
  });

  it('is linear in the number of escapes', () => {
    const time = (n: number) => {
      const text = 'a%41\\n'.repeat(n);
      const started = performance.now();
      decodeLayer(text);
      return performance.now() - started;
    };
    time(20_000);
    const small = Math.max(time(50_000), 1);
    expect(time(200_000) / small).toBeLessThan(10);
  });
});
