import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, isSecretKey, recordArguments } from '../../src/audit/redact.js';
import { REDACTED, Redactor } from '../../src/secrets/redactor.js';

const GITHUB_TOKEN = 'ghp_0123456789abcdef';

function redactorWith(...values: string[]): Redactor {
  const redactor = new Redactor();
  redactor.add(values);
  return redactor;
}

const record = (args: unknown, mode: Parameters<typeof recordArguments>[1], maxBytes = 4096, redactor = redactorWith(GITHUB_TOKEN)) =>
  recordArguments(args, mode, { maxBytes, redactor });

describe('recordArguments modes', () => {
  const args = {
    path: 'README.md',
    password: 'hunter2',
    options: { api_key: 'k-1', headers: { Authorization: 'Basic abc' }, list: [{ client_secret: 'cs' }] },
    note: `token is ${GITHUB_TOKEN} ok`,
  };

  it('full: records the arguments as sent, minus known secret values', () => {
    expect(record(args, 'full')).toEqual({
      arguments: { ...args, note: `token is ${REDACTED} ok` },
    });
  });

  it('redacted: also blanks the values of secret-looking keys at any depth', () => {
    expect(record(args, 'redacted')).toEqual({
      arguments: {
        path: 'README.md',
        password: REDACTED,
        options: { api_key: REDACTED, headers: { Authorization: REDACTED }, list: [{ client_secret: REDACTED }] },
        note: `token is ${REDACTED} ok`,
      },
    });
  });

  it('hash: only the sha256 of the canonical JSON', () => {
    const out = record(args, 'hash');
    expect(Object.keys(out)).toEqual(['arguments_sha256']);
    expect(out.arguments_sha256).toBe(createHash('sha256').update(canonicalJson(args)).digest('hex'));
    expect(out.arguments_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('none: nothing', () => {
    expect(record(args, 'none')).toEqual({});
  });

  it('does not change the caller’s arguments', () => {
    const input = { password: 'x', note: GITHUB_TOKEN };
    record(input, 'redacted');
    expect(input).toEqual({ password: 'x', note: GITHUB_TOKEN });
  });
});

describe('secret-looking keys', () => {
  it.each([
    'password', 'PASSWORD', 'passwd', 'db_password', 'secret', 'clientSecret', 'client_secret', 'token', 'accessToken',
    'refresh_token', 'session_token', 'api_key', 'apikey', 'api-key', 'apiKey', 'X-Api-Key', 'APIKey', 'authorization',
    'auth', 'credential', 'credentials', 'private_key', 'privateKey', 'access_key', 'cookie', 'Set-Cookie',
  ])('%s is one', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each(['path', 'max_tokens', 'author', 'authority_name', 'keyword', 'key', 'secretary', 'tokenizer'])(
    '%s is not',
    (key) => {
      expect(isSecretKey(key)).toBe(false);
    },
  );
});

describe('known secret values', () => {
  it('are scrubbed inside longer strings and in arrays', () => {
    const out = record({ cmd: `curl -H "x: ${GITHUB_TOKEN}"`, argv: ['--token', GITHUB_TOKEN] }, 'full');
    expect(JSON.stringify(out)).not.toContain(GITHUB_TOKEN);
    expect(out.arguments).toEqual({ cmd: `curl -H "x: ${REDACTED}"`, argv: ['--token', REDACTED] });
  });

  it('shorter than the minimum are left alone', () => {
    const redactor = redactorWith('abc', 'true');
    expect(recordArguments({ flag: 'true', s: 'abcdef' }, 'full', { maxBytes: 4096, redactor }).arguments).toEqual({ flag: 'true', s: 'abcdef' });
  });
});

describe('size cap', () => {
  it('leaves arguments within the cap untouched and unflagged', () => {
    const out = record({ text: 'x'.repeat(100) }, 'full', 200);
    expect(out).toEqual({ arguments: { text: 'x'.repeat(100) } });
  });

  it('cuts long strings with a suffix saying how much was cut', () => {
    const out = record({ content: 'y'.repeat(10_000), path: 'a.txt' }, 'full', 1024);
    expect(out.arguments_truncated).toBe(true);
    const recorded = out.arguments as { content: string; path: string };
    expect(recorded.path).toBe('a.txt');
    const match = /^(y+)…\[truncated (\d+) chars\]$/.exec(recorded.content);
    expect(match).not.toBeNull();
    expect(match![1]!.length + Number(match![2])).toBe(10_000);
    expect(Buffer.byteLength(JSON.stringify(recorded))).toBeLessThanOrEqual(1024);
  });

  it('counts bytes, not characters', () => {
    const out = record({ text: 'é'.repeat(150) }, 'full', 200);
    expect(out.arguments_truncated).toBe(true);
  });

  it('falls back to a preview when the structure itself is too big', () => {
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`key_${i}`, i]));
    const out = record(many, 'full', 256);
    expect(out.arguments_truncated).toBe(true);
    const recorded = out.arguments as { _truncated: boolean; preview: string };
    expect(recorded._truncated).toBe(true);
    expect(recorded.preview).toBe(JSON.stringify(many).slice(0, 256));
  });

  it('previews the redacted form, never the secret', () => {
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`password_${i}`, `${GITHUB_TOKEN}-${i}`]));
    const out = record({ a: GITHUB_TOKEN, ...many }, 'full', 128);
    expect((out.arguments as { preview: string }).preview.startsWith(`{"a":"${REDACTED}"`)).toBe(true);
    expect(JSON.stringify(out)).not.toContain(GITHUB_TOKEN);
  });
});

describe('hash determinism', () => {
  it('ignores key order at every depth', () => {
    const a = record({ b: 1, a: { y: [1, { q: 1, p: 2 }], x: 'z' } }, 'hash');
    const b = record({ a: { x: 'z', y: [1, { p: 2, q: 1 }] }, b: 1 }, 'hash');
    expect(a.arguments_sha256).toBe(b.arguments_sha256);
  });

  it('differs when a value or array order differs', () => {
    const base = record({ a: [1, 2] }, 'hash').arguments_sha256;
    expect(record({ a: [2, 1] }, 'hash').arguments_sha256).not.toBe(base);
    expect(record({ a: [1, 3] }, 'hash').arguments_sha256).not.toBe(base);
  });

  it('writes sorted canonical JSON', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 'x' }], u: undefined, '10': 0, '9': 0 })).toBe('{"10":0,"9":0,"a":[{"c":"x","d":1}],"b":1}');
  });
});

describe('weird input never throws', () => {
  const circular: Record<string, unknown> = { name: 'loop', password: 'p' };
  circular.self = circular;

  it.each(['full', 'redacted'] as const)('%s: a cycle becomes a placeholder', (mode) => {
    const out = record(circular, mode);
    expect(out.arguments).toMatchObject({ name: 'loop', self: '[Circular]' });
  });

  it('hash: a cycle still hashes, deterministically', () => {
    const first = record(circular, 'hash').arguments_sha256;
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(record(circular, 'hash').arguments_sha256).toBe(first);
  });

  it('a throwing proxy yields a placeholder instead of an exception', () => {
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error('no'); } });
    expect(() => record(hostile, 'full')).not.toThrow();
    expect(record(hostile, 'full').arguments).toBe('[Unreadable]');
    expect(() => record(hostile, 'hash')).not.toThrow();
  });

  it('undefined arguments record nothing in full mode', () => {
    expect(record(undefined, 'full')).toEqual({});
  });
});
