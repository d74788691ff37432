/**
 * Single use of a requestState across replicas: two codecs sharing the state key (two gateway
 * processes) and a real redis-server as the replay store. A state used on one is refused on the
 * other; the claim expires with the state; a store that cannot be reached refuses (fail closed).
 */
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisReplayGuard } from '../../src/protocol/redisReplayGuard.js';
import { RequestStateCodec, randomStateKey, type NewRequestState, type StateBinding } from '../../src/protocol/requestState.js';
import { jsonDigest } from '../../src/canonicalJson.js';
import { startRedis, type RedisServer } from '../support/redis.js';

const binding: StateBinding = { m: 'tools/call', t: 'echo__echo', ad: jsonDigest({ message: 'x' }), pv: 'sha256:p', sub: 'k_abc' };
const payload: NewRequestState = { ...binding, call: 'c1', kind: 'approval', asked: { 'mcpgate:approval': 'sha256:q' }, round: 1 };

describe('RedisReplayGuard', () => {
  let redis: RedisServer;
  const guards: RedisReplayGuard[] = [];
  const guard = (url: string, problems: string[] = []) => {
    const made = new RedisReplayGuard(url, (message) => problems.push(message));
    guards.push(made);
    return made;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(guards.map((g) => g.close()));
    await redis?.close();
  });

  it('a state used on one replica is refused on another sharing the store', async () => {
    const key = randomStateKey();
    const replicaA = new RequestStateCodec(key, [], guard(redis.url));
    const replicaB = new RequestStateCodec(key, [], guard(redis.url));
    const token = await replicaA.seal(payload, 60_000);
    expect(await replicaB.open(token, binding)).toMatchObject({ ok: true });
    expect(await replicaA.open(token, binding)).toMatchObject({ ok: false, reason: expect.stringContaining('already used') });
    const other = await replicaA.seal(payload, 60_000); // another state of the same call is its own
    expect(await replicaA.open(other, binding)).toMatchObject({ ok: true });
  });

  it('the claim expires with the state (plus the clock skew), so the store does not grow', async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const g = guard(redis.url);
      expect(await g.consume('jti-ttl', Date.now() + 60_000)).toBe(true);
      const ttl = await client.pTTL('mcpgate:request-state:jti-ttl');
      expect(ttl).toBeGreaterThan(60_000);
      expect(ttl).toBeLessThanOrEqual(65_000);
    } finally {
      await client.close();
    }
  });

  it('refuses (fail closed) when the store cannot be reached, saying why, and reports it', async () => {
    const problems: string[] = [];
    const down = await startRedis();
    const url = down.url;
    await down.close(); // nothing listens there any more
    const codec = new RequestStateCodec(randomStateKey(), [], guard(url, problems));
    const token = await codec.seal(payload, 60_000);
    const started = Date.now();
    const opened = await codec.open(token, binding);
    expect(opened).toMatchObject({ ok: false, restart: true, reason: expect.stringContaining('the replay store could not be asked') });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(problems.join('\n')).toContain('request-state replay store');
  });
});
