/**
 * What the redactor recognises, attacked the way a hostile upstream would hide a value it holds:
 * escaped (once, twice, three times; `\u`, `\x`, percent), used as a key or a number, one line of
 * a multi-line value, base64 or hex. Each case failed before scrubbing worked on decoded values.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor } from '../../src/secrets/redactor.js';

const PASSWORD = 'pa"ss\\wörd 42';
const PEM = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
  'MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu',
  'NMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ',
  '-----END PRIVATE KEY-----',
  '',
].join('\n');
const TOKEN = 'ghp_TokenValue0123';

function redactor(): Redactor {
  const r = new Redactor();
  r.add([PASSWORD, PEM, TOKEN]);
  return r;
}

const jsonEscape = (text: string) => JSON.stringify(text).slice(1, -1);
const uEscape = (text: string) => [...text].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');

describe('secret values behind escaping', () => {
  const r = redactor();
  const variants: Array<[string, string]> = [
    ['JSON-escaped once', jsonEscape(PASSWORD)],
    ['JSON-escaped twice (JSON inside a JSON string)', jsonEscape(jsonEscape(PASSWORD))],
    ['JSON-escaped three times', jsonEscape(jsonEscape(jsonEscape(PASSWORD)))],
    ['every character as \\uXXXX', uEscape(TOKEN)],
    ['\\u escapes, then escaped as JSON again', jsonEscape(uEscape(TOKEN))],
    ['some characters as \\xHH', TOKEN.replace('T', '\\x54').replace('0', '\\x30')],
    ['percent-encoded (encodeURIComponent)', encodeURIComponent(PASSWORD)],
    ['every byte percent-encoded', [...Buffer.from(TOKEN)].map((b) => `%${b.toString(16)}`).join('')],
    ['percent-encoded twice', encodeURIComponent(encodeURIComponent(PASSWORD))],
    ['spaces as +', PASSWORD.replaceAll(' ', '+')],
    ['the whole PEM JSON-escaped twice', jsonEscape(jsonEscape(PEM))],
  ];
  for (const [name, hidden] of variants) {
    it(`${name}: the whole escaped spelling is replaced`, () => {
      const out = r.scrub(`before ${hidden} after`);
      expect(out).toBe(`before ${REDACTED} after`);
    });
  }

  it('a JSON document holding the values, serialised twice, keeps its shape around the redactions', () => {
    const env = JSON.stringify({ PASSWORD, PEM, OTHER: 'kept' }, null, 2);
    const twice = JSON.stringify({ text: env });
    const out = r.scrub(twice);
    expect(JSON.parse(JSON.parse(out).text)).toEqual({ PASSWORD: REDACTED, PEM: REDACTED, OTHER: 'kept' });
  });

  it('escapes that are not escapes, and text with none, are left as they are', () => {
    for (const text of ['100% sure, 5%% off, %zz, %4', 'C:\\path\\to, \\q \\u12 \\x4', 'plain text']) expect(r.scrub(text)).toBe(text);
  });
});

describe('a multi-line value (a PEM key)', () => {
  const r = redactor();
  const lines = PEM.split('\n').slice(1, 4);

  it('each of its lines is a value of its own (a line-based path shows one line at a time)', () => {
    for (const line of lines) expect(r.scrub(`stderr: ${line}`)).toBe(`stderr: ${REDACTED}`);
  });

  it('each line with \\r\\n endings, indented, or escaped', () => {
    expect(r.scrub(`  ${lines[0]}\r`)).toBe(`  ${REDACTED}\r`);
    expect(r.scrub(jsonEscape(`${lines[1]}\r\n`))).toBe(`${REDACTED}\\r\\n`);
  });

  it('its armour lines are not secrets (they would mangle every PEM shown anywhere)', () => {
    expect(r.scrub('-----BEGIN PRIVATE KEY-----')).toBe('-----BEGIN PRIVATE KEY-----');
  });
});

describe('encoded values', () => {
  const r = redactor();

  it('base64 of the value inside a longer text, at each of the three byte alignments, both alphabets', () => {
    for (const prefix of ['', 'a', 'ab', 'abc']) {
      const encoded = Buffer.from(`${prefix}token=${TOKEN};rest`).toString('base64');
      expect(r.scrub(encoded)).toContain(REDACTED);
      expect(r.scrub(Buffer.from(`${prefix}${PASSWORD}`).toString('base64url'))).toContain(REDACTED);
    }
  });

  it('hex, either case', () => {
    const hex = Buffer.from(TOKEN).toString('hex');
    expect(r.scrub(`x${hex}x`)).toBe(`x${REDACTED}x`);
    expect(r.scrub(hex.toUpperCase())).toBe(REDACTED);
  });
});

describe('Redactor.scrubJson', () => {
  it('scrubs keys, strings and numbers at every level, and returns the very same object when clean', () => {
    const r = new Redactor();
    r.add([TOKEN, '9876543210']);
    const clean = { content: [{ type: 'text', text: 'fine' }], structuredContent: { n: 1, list: [true, null] } };
    expect(r.scrubJson(clean)).toBe(clean);
    const dirty = { a: { b: [{ [TOKEN]: 'key leak' }, 9876543210, `x${uEscape(TOKEN)}`] }, untouched: { k: 'v' } };
    const out = r.scrubJson(dirty);
    expect(out).toEqual({ a: { b: [{ [REDACTED]: 'key leak' }, REDACTED, `x${REDACTED}`] }, untouched: { k: 'v' } });
    expect(out.untouched).toBe(dirty.untouched); // parts that needed nothing are shared, not copied
    expect(JSON.stringify(dirty)).toContain(TOKEN); // the input is not changed
  });

  it('keeps a __proto__ key as data', () => {
    const r = new Redactor();
    r.add([TOKEN]);
    const out = r.scrubJson(JSON.parse(`{"__proto__":{"x":1},"t":"${TOKEN}"}`)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 't']);
  });

  it('costs one branch with no value registered', () => {
    const value = { a: TOKEN };
    expect(new Redactor().scrubJson(value)).toBe(value);
  });
});

describe('Redactor.scrubCut', () => {
  it('also redacts the start of a value left at the end of text that was cut', () => {
    const r = redactor();
    expect(r.scrubCut(`log line ${TOKEN.slice(0, 9)}`)).toBe(`log line ${REDACTED}`);
    expect(r.scrubCut('log line ghp')).toBe('log line ghp'); // too short to tell
  });
});

describe('Redactor.onChange', () => {
  it('fires when the set of values changes, not when a count does', () => {
    const r = new Redactor();
    let changes = 0;
    r.onChange(() => changes++);
    r.add([TOKEN]);
    r.add([TOKEN]);
    r.remove([TOKEN]);
    expect(changes).toBe(1);
    r.remove([TOKEN]);
    expect(changes).toBe(2);
  });
});
