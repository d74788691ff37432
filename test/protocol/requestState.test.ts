import { describe, expect, it } from 'vitest';
import { MemoryReplayGuard, RequestStateCodec, randomStateKey, stateKeysFrom, type NewRequestState, type StateBinding } from '../../src/protocol/requestState.js';
import { canonicalJson, jsonDigest } from '../../src/canonicalJson.js';
import { callerKey, isSpecificKey } from '../../src/protocol/callerKey.js';

const binding: StateBinding = { m: 'tools/call', t: 'github__create_issue', ad: jsonDigest({ title: 'x' }), pv: 'sha256:p1', sub: 'k_abc' };
const payload: NewRequestState = { ...binding, call: 'c1', kind: 'approval', asked: { 'mcpgate:approval': 'sha256:q' }, round: 1 };

describe('request state', () => {
  it('round-trips a state bound to its request', async () => {
    const codec = new RequestStateCodec(randomStateKey());
    const token = await codec.seal(payload, 60_000);
    expect(token.split('.')).toHaveLength(5); // compact JWE
    expect(token).not.toContain('github__create_issue'); // encrypted, not just signed
    const opened = await codec.open(token, binding);
    expect(opened.ok && opened.state).toMatchObject({ call: 'c1', kind: 'approval', round: 1, asked: { 'mcpgate:approval': 'sha256:q' } });
  });

  it('refuses a tampered state', async () => {
    const codec = new RequestStateCodec(randomStateKey());
    const token = await codec.seal(payload, 60_000);
    for (const forged of [`${token}-TAMPERED`, token.replace(/.(?=\.[^.]*$)/, (c) => (c === 'A' ? 'B' : 'A')), 'eyJhbGciOiJkaXIifQ....', 42, undefined]) {
      expect(await codec.open(forged, binding)).toMatchObject({ ok: false, restart: false });
    }
  });

  it('refuses a state sealed with another key, and accepts one sealed with the previous key', async () => {
    const old = randomStateKey();
    const sealedOld = await new RequestStateCodec(old).seal(payload, 60_000);
    expect(await new RequestStateCodec(randomStateKey()).open(sealedOld, binding)).toMatchObject({ ok: false, reason: expect.stringMatching(/unknown key/) });
    expect(await new RequestStateCodec(randomStateKey(), [old]).open(sealedOld, binding)).toMatchObject({ ok: true });
  });

  it('opens on another process sharing the key (same key, own replay memory)', async () => {
    const key = randomStateKey();
    const token = await new RequestStateCodec(key).seal(payload, 60_000);
    expect(await new RequestStateCodec(key).open(token, binding)).toMatchObject({ ok: true });
  });

  it('refuses an expired state', async () => {
    let now = 1_800_000_000_000;
    const codec = new RequestStateCodec(randomStateKey(), [], new MemoryReplayGuard(() => now), () => now);
    const token = await codec.seal(payload, 10_000);
    now += 10_000 + 6_000;
    expect(await codec.open(token, binding)).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/), restart: false });
  });

  it('refuses a replay', async () => {
    const codec = new RequestStateCodec(randomStateKey());
    const token = await codec.seal(payload, 60_000);
    expect(await codec.open(token, binding)).toMatchObject({ ok: true });
    expect(await codec.open(token, binding)).toMatchObject({ ok: false, reason: expect.stringMatching(/already used/) });
  });

  it.each<[string, Partial<StateBinding>, RegExp, boolean]>([
    ['another caller', { sub: 'k_other' }, /another caller/, false],
    ['another tool', { t: 'github__delete_repo' }, /another request/, false],
    ['another method', { m: 'prompts/get' }, /another request/, false],
    ['other arguments', { ad: jsonDigest({ title: 'y' }) }, /other arguments/, false],
    ['a changed policy (the call starts over)', { pv: 'sha256:p2' }, /policy changed/, true],
  ])('refuses a state presented for %s', async (_name, change, reason, restart) => {
    const codec = new RequestStateCodec(randomStateKey());
    const token = await codec.seal(payload, 60_000);
    expect(await codec.open(token, { ...binding, ...change })).toMatchObject({ ok: false, reason: expect.stringMatching(reason), restart });
  });
});

describe('canonical JSON', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
    expect(jsonDigest({ a: 1, b: 2 })).toBe(jsonDigest({ b: 2, a: 1 }));
    expect(jsonDigest({ a: 1 })).not.toBe(jsonDigest({ a: '1' }));
  });
});

describe('caller key', () => {
  it('differs by subject, client name and session id, and is stable', () => {
    const base = { subject: 'alice', clientName: 'claude', session: undefined };
    expect(callerKey(base)).toMatch(/^k_[a-z2-7]{16}$/);
    expect(callerKey(base)).toBe(callerKey({ ...base }));
    expect(callerKey({ ...base, subject: 'bob' })).not.toBe(callerKey(base));
    expect(callerKey({ ...base, clientName: 'cursor' })).not.toBe(callerKey(base));
    expect(callerKey({ ...base, session: 'abcdefghijklmnop' })).not.toBe(callerKey(base));
    // length-prefixed parts: moving a character between parts changes the key
    expect(callerKey({ subject: 'ab', clientName: 'c', session: undefined })).not.toBe(callerKey({ subject: 'a', clientName: 'bc', session: undefined }));
  });

  it('is specific on stdio, with a session id, or for a subject when the operator says so', () => {
    expect(isSpecificKey({ subject: 'stdio:12', clientName: 'x', session: undefined }, false)).toBe(true);
    expect(isSpecificKey({ subject: 'anonymous', clientName: 'x', session: 'abcdefghijklmnop' }, false)).toBe(true);
    expect(isSpecificKey({ subject: 'alice', clientName: 'x', session: undefined }, false)).toBe(false);
    expect(isSpecificKey({ subject: 'alice', clientName: 'x', session: undefined }, true)).toBe(true);
    expect(isSpecificKey({ subject: 'anonymous', clientName: 'x', session: undefined }, true)).toBe(false);
  });
});

describe('MCPGATE_REQUEST_STATE_KEY', () => {
  it('reads kid:key pairs, the first sealing, all opening; unset is a random key', async () => {
    const a = Buffer.alloc(32, 1).toString('base64url');
    const b = Buffer.alloc(32, 2).toString('base64url');
    const keys = stateKeysFrom(` new:${a}, old:${b}`);
    expect(keys.current.kid).toBe('new');
    expect(keys.previous.map((k) => k.kid)).toEqual(['old']);
    const oldCodec = new RequestStateCodec(keys.previous[0]!);
    const rotated = new RequestStateCodec(keys.current, keys.previous);
    expect((await rotated.open(await oldCodec.seal(payload, 60_000), binding)).ok).toBe(true);
    expect(stateKeysFrom(undefined).current.key).toHaveLength(32);
  });

  it('refuses a malformed entry instead of falling back to a random key', () => {
    expect(() => stateKeysFrom('k1:short')).toThrow(/MCPGATE_REQUEST_STATE_KEY entry 1/);
    expect(() => stateKeysFrom(`${Buffer.alloc(32).toString('base64url')}`)).toThrow(/kid:/);
  });
});
