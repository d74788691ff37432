import { describe, expect, it } from 'vitest';
import { jsonSafeCopy, MIN_SECRET_LENGTH, REDACTED, Redactor } from '../../src/secrets/redactor.js';

describe('Redactor.scrub', () => {
  it('returns the very same string when no value is known', () => {
    const text = 'nothing to see here';
    expect(new Redactor().scrub(text)).toBe(text);
  });

  it('replaces a known value inside a longer string, every time it occurs', () => {
    const redactor = new Redactor();
    redactor.add(['ghp_s3cret']);
    expect(redactor.scrub('Bearer ghp_s3cret, again ghp_s3cret.')).toBe(`Bearer ${REDACTED}, again ${REDACTED}.`);
  });

  it('treats values literally, not as regular expressions', () => {
    const redactor = new Redactor();
    redactor.add(['a.b*c+d(e)']);
    expect(redactor.scrub('x a.b*c+d(e) y aXbbbcd(e)')).toBe(`x ${REDACTED} y aXbbbcd(e)`);
  });

  it('redacts the longest value when one contains another', () => {
    const redactor = new Redactor();
    redactor.add(['abcdef', 'abcdefghij']);
    expect(redactor.scrub('k=abcdefghij')).toBe(`k=${REDACTED}`);
    expect(redactor.scrub('k=abcdefXX')).toBe(`k=${REDACTED}XX`);
  });

  it(`ignores values shorter than ${MIN_SECRET_LENGTH} characters`, () => {
    const redactor = new Redactor();
    redactor.add(['1', 'true', '12345']);
    expect(redactor.size).toBe(0);
    expect(redactor.scrub('true 1 12345')).toBe('true 1 12345');
  });

  it('also catches JSON-escaped and percent-encoded forms', () => {
    const redactor = new Redactor();
    redactor.add(['p@ss "word"/x']);
    expect(redactor.scrub(JSON.stringify({ v: 'p@ss "word"/x' }))).toBe(`{"v":"${REDACTED}"}`);
    expect(redactor.scrub(`https://h/?k=${encodeURIComponent('p@ss "word"/x')}`)).toBe(`https://h/?k=${REDACTED}`);
  });

  it('does not re-scan its own replacement', () => {
    const redactor = new Redactor();
    redactor.add(['REDACT']);
    expect(redactor.scrub('REDACT')).toBe(REDACTED);
  });

  it('forgets a value after remove, but only when every add was removed', () => {
    const redactor = new Redactor();
    redactor.add(['shared-token']);
    redactor.add(['shared-token', 'other-token']);
    redactor.remove(['shared-token', 'other-token']);
    expect(redactor.scrub('shared-token other-token')).toBe(`${REDACTED} other-token`);
    redactor.remove(['shared-token', 'never-added']);
    expect(redactor.scrub('shared-token')).toBe('shared-token');
    expect(redactor.size).toBe(0);
  });
});

describe('Redactor.scrubDeep', () => {
  it('copies with every string and key scrubbed', () => {
    const redactor = new Redactor();
    redactor.add(['topsecret']);
    const input = { topsecret: 'a topsecret b', list: ['topsecret', 3, true, null], nested: { deep: { x: 'topsecret!' } } };
    const out = redactor.scrubDeep(input);
    expect(out).toEqual({ [REDACTED]: `a ${REDACTED} b`, list: [REDACTED, 3, true, null], nested: { deep: { x: `${REDACTED}!` } } });
    expect(out).not.toBe(input);
    expect(input.nested.deep.x).toBe('topsecret!');
  });

  it('redacts the values of the keys a predicate selects', () => {
    const out = new Redactor().scrubDeep({ a: { pin: { n: 1 } }, b: 2 }, { redactKey: (key) => key === 'pin' });
    expect(out).toEqual({ a: { pin: REDACTED }, b: 2 });
  });
});

describe('jsonSafeCopy', () => {
  it('replaces cycles but keeps repeated, non-circular references', () => {
    const shared = { v: 1 };
    const input: Record<string, unknown> = { a: shared, b: shared };
    input.self = input;
    expect(jsonSafeCopy(input)).toEqual({ a: { v: 1 }, b: { v: 1 }, self: '[Circular]' });
  });

  it('follows JSON for odd values and never throws', () => {
    const getter = Object.defineProperty({}, 'bad', { enumerable: true, get: () => { throw new Error('x'); } });
    const input = {
      big: 10n,
      fn: () => 1,
      nan: Number.NaN,
      when: new Date(0),
      err: new Error('oops'),
      arr: [undefined, () => 1],
      getter,
    };
    expect(jsonSafeCopy(input)).toEqual({
      big: '10',
      nan: null,
      when: '1970-01-01T00:00:00.000Z',
      err: { name: 'Error', message: 'oops' },
      arr: [null, null],
      getter: { bad: '[Unreadable]' },
    });
  });

  it('keeps a __proto__ key as data', () => {
    const out = jsonSafeCopy(JSON.parse('{"__proto__":{"polluted":true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('bounds nesting depth', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 10_000; i += 1) deep = { d: deep };
    const text = JSON.stringify(jsonSafeCopy(deep));
    expect(text).toContain('[Too deep]');
    expect(text).not.toContain('leaf');
  });
});
