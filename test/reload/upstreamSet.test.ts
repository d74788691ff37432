/**
 * UpstreamSet tells its owner when a server a reload removed has stopped (the gateway then stops
 * that server's egress route), and not when the name came back meanwhile. The upstreams here are
 * stand-ins with the four members the set uses (a real Upstream needs a process; the e2e reload
 * tests drive real ones).
 */
import { describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../src/config/types.js';
import { UpstreamSet } from '../../src/reload/upstreamSet.js';
import type { Upstream } from '../../src/upstream/upstream.js';

/** A stand-in upstream whose retirement ends when the test says so. */
function standIn(name: string) {
  let finish: () => void = () => undefined;
  const retired = new Promise<void>((resolve) => (finish = resolve));
  const upstream = { name, state: 'ready', config: { timeoutMs: 1000 }, start: async () => undefined, stop: async () => undefined, retire: () => retired };
  return { upstream: upstream as unknown as Upstream, finish };
}

const server = (name: string) => ({ name, enabled: true }) as unknown as ServerConfig;
const none = { added: [], removed: [], restarted: [], reconfigured: [] };

describe('UpstreamSet', () => {
  it('reports a removed server once its retirement has ended', async () => {
    const made = new Map<string, ReturnType<typeof standIn>>();
    const removed: string[] = [];
    const set = new UpstreamSet((config) => (made.set(config.name, standIn(config.name)), made.get(config.name)!.upstream), (name) => removed.push(name));
    set.addAll([server('a'), server('b')]);
    await set.apply([server('b')], { ...none, removed: ['a'] }, () => undefined);
    expect(removed).toEqual([]); // still finishing its calls
    made.get('a')!.finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(removed).toEqual(['a']);
  });

  it('does not report a name added back before the old one stopped', async () => {
    const made: Array<ReturnType<typeof standIn>> = [];
    const removed: string[] = [];
    const set = new UpstreamSet((config) => (made.push(standIn(config.name)), made.at(-1)!.upstream), (name) => removed.push(name));
    set.addAll([server('a')]);
    await set.apply([], { ...none, removed: ['a'] }, () => undefined);
    await set.apply([server('a')], { ...none, added: ['a'] }, () => undefined);
    made[0]!.finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(removed).toEqual([]);
    expect(set.inService.get('a')).toBe(made[1]!.upstream);
  });
});
