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

  it('names the paths it cut', () => {
    const out = record({ content: 'y'.repeat(10_000), nested: { body: 'z'.repeat(5000), keep: 'k' }, path: 'a.txt' }, 'full', 1024);
    expect(out.arguments_cut).toEqual(['content', 'nested.body']);
    expect((out.arguments as { nested: { keep: string } }).nested.keep).toBe('k');
  });

  it('padding does not hide the argument that mattered: long padding is shortened, every key stays', () => {
    const padded = { pad1: ' '.repeat(50_000), pad2: 'x'.repeat(50_000), pad3: { deep: ['y'.repeat(50_000)] }, command: 'rm -rf ~' };
    const out = record(padded, 'full', 512);
    const recorded = out.arguments as Record<string, unknown>;
    expect(recorded.command).toBe('rm -rf ~');
    expect(Object.keys(recorded)).toEqual(['pad1', 'pad2', 'pad3', 'command']);
    expect(out.arguments_cut).toEqual(['pad1', 'pad2', 'pad3.deep[0]']);
    expect(Buffer.byteLength(JSON.stringify(recorded))).toBeLessThanOrEqual(512);
  });

  it('many padding keys: every key kept while keys fit, deep containers summarised first', () => {
    const padded = {
      a: { b: { c: Array.from({ length: 300 }, (_, i) => ({ i })) } },
      list: Array.from({ length: 300 }, (_, i) => i),
      command: 'rm -rf ~',
    };
    const out = record(padded, 'full', 256);
    const recorded = out.arguments as Record<string, unknown>;
    expect(recorded.command).toBe('rm -rf ~');
    expect(Object.keys(recorded)).toEqual(['a', 'list', 'command']);
    expect(out.arguments_cut).toContain('list');
    expect(JSON.stringify(recorded)).toContain('[cut: array of 300 items]');
  });

  it('more keys than the cap can name: as many as fit, the rest named as cut (bounded)', () => {
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`key_${i}`, i]));
    const out = record({ ...many, command: 'rm -rf ~' }, 'full', 256);
    expect(out.arguments_truncated).toBe(true);
    const recorded = out.arguments as Record<string, number>;
    expect(recorded.key_0).toBe(0);
    expect(Buffer.byteLength(JSON.stringify(recorded))).toBeLessThanOrEqual(256);
    const kept = Object.keys(recorded).length;
    expect(out.arguments_cut?.slice(0, 2)).toEqual([`key_${kept}`, `key_${kept + 1}`]);
    expect(out.arguments_cut?.at(-1)).toBe(`…and ${501 - kept - 32} more`);
  });

  it('cuts the redacted form, never the secret', () => {
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`password_${i}`, `${GITHUB_TOKEN}-${i}`]));
    const out = record({ a: GITHUB_TOKEN, ...many }, 'full', 128);
    expect((out.arguments as { a: string }).a).toBe(REDACTED);
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

  it('hashes and records the whole value, however deep (arguments differing only at depth 200 used to collide)', () => {
    const nest = (depth: number, leaf: string): unknown => (depth === 0 ? leaf : { n: nest(depth - 1, leaf) });
    const a = nest(200, 'rm -rf /tmp/x');
    const b = nest(200, 'rm -rf ~');
    expect(record(a, 'hash').arguments_sha256).not.toBe(record(b, 'hash').arguments_sha256);
    expect(canonicalJson(a)).not.toBe(canonicalJson(b));
    expect(JSON.stringify(record(b, 'full', 1_000_000).arguments)).toContain('rm -rf ~');
    expect(JSON.stringify(record(b, 'full', 1_000_000).arguments)).not.toContain('[Too deep]');
  });

  it('refuses to give a canonical text to a value too deep to copy whole (never a shared placeholder)', () => {
    const nest = (depth: number): unknown => (depth === 0 ? 'leaf' : [nest(depth - 1)]);
    expect(() => canonicalJson(nest(2000))).toThrow(/nested deeper than/);
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
