/**
 * Session approvals: kept per session until it ends; a stateless (2026-07-28) caller key's are
 * forgotten once unused for STATELESS_IDLE_MS, and a use keeps them alive. The clock is injected.
 */
import { describe, expect, it } from 'vitest';
import { SessionMemory, STATELESS_IDLE_MS } from '../../src/approval/sessionMemory.js';

describe('SessionMemory', () => {
  it('keeps a session\'s approvals until forget, and never shows them to another session', () => {
    let now = 0;
    const memory = new SessionMemory('tool', () => now);
    memory.remember('s1', 'echo__echo', {});
    now += 10 * STATELESS_IDLE_MS;
    expect(memory.has('s1', 'echo__echo', {})).toBe(true);
    expect(memory.has('s2', 'echo__echo', {})).toBe(false);
    memory.forget('s1');
    expect(memory.has('s1', 'echo__echo', {})).toBe(false);
  });

  it('forgets a stateless caller\'s approvals once unused for the idle time; each use extends them', () => {
    let now = 1_000;
    const memory = new SessionMemory('arguments', () => now);
    memory.remember('k_a', 'echo__echo', { message: 'x' }, true);
    now += STATELESS_IDLE_MS - 1;
    expect(memory.has('k_a', 'echo__echo', { message: 'x' })).toBe(true); // used: the clock restarts
    expect(memory.has('k_a', 'echo__echo', { message: 'y' })).toBe(false); // other arguments never
    now += STATELESS_IDLE_MS - 1;
    expect(memory.has('k_a', 'echo__echo', { message: 'x' })).toBe(true);
    now += STATELESS_IDLE_MS;
    expect(memory.has('k_a', 'echo__echo', { message: 'x' })).toBe(false);
  });

  it('drops expired stateless callers from memory as new approvals arrive', () => {
    let now = 0;
    const memory = new SessionMemory('tool', () => now);
    for (let i = 0; i < 100; i++) memory.remember(`k_${i}`, 't', {}, true);
    memory.remember('legacy-session', 't', {});
    expect(memory.size).toBe(101);
    now += STATELESS_IDLE_MS + 60_000;
    memory.remember('k_new', 't', {}, true);
    expect(memory.size).toBe(2);
  });
});
