import { describe, expect, it } from 'vitest';
import { Limiter } from '../../src/upstream/limiter.js';

const deferred = () => {
  let resolve!: (value: string) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

describe('Limiter', () => {
  it('runs at most `limit` tasks at once and starts the rest in arrival order', async () => {
    const limiter = new Limiter(2);
    const started: number[] = [];
    const gates = Array.from({ length: 5 }, deferred);
    const results = gates.map((gate, i) =>
      limiter.run(() => {
        started.push(i);
        return gate.promise;
      }),
    );
    expect(started).toEqual([0, 1]);
    expect(limiter.running).toBe(2);
    expect(limiter.queued).toBe(3);
    gates[1]?.resolve('b');
    await results[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    gates[0]?.reject(new Error('a failed'));
    await expect(results[0]).rejects.toThrow('a failed'); // a failure frees its slot too
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const gate of gates) gate.resolve('x');
    await Promise.all(results.slice(2));
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(limiter.running).toBe(0);
  });

  it('drops a waiter whose signal aborts, without running it', async () => {
    const limiter = new Limiter(1);
    const gate = deferred();
    const first = limiter.run(() => gate.promise);
    const controller = new AbortController();
    let ran = false;
    const second = limiter.run(async () => {
      ran = true;
      return 'no';
    }, controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(second).rejects.toThrow('cancelled');
    gate.resolve('yes');
    expect(await first).toBe('yes');
    expect(ran).toBe(false);
    expect(limiter.queued).toBe(0);
    expect(await limiter.run(async () => 'next')).toBe('next');
  });

  it('turns a task that throws synchronously into a rejection and frees the slot', async () => {
    const limiter = new Limiter(1);
    await expect(limiter.run(() => { throw new Error('sync'); })).rejects.toThrow('sync');
    expect(limiter.running).toBe(0);
  });
});
