/**
 * Task ids of the tasks extension as callers see them: sealed (the upstream and its id are not
 * readable), bound to the caller key (another caller's id is unknown), unforgeable (an altered id
 * or a request state is unknown), and opened by any gateway holding the same key.
 */
import { describe, expect, it } from 'vitest';
import { randomStateKey } from '../../src/protocol/requestState.js';
import { declaresTasks, TaskIdCodec } from '../../src/protocol/taskId.js';

describe('TaskIdCodec', () => {
  it('seals the route, opens it for the same caller only, on any gateway sharing the key', async () => {
    const key = randomStateKey();
    const codec = new TaskIdCodec(key);
    const id = await codec.seal({ server: 'jobs', taskId: 'upstream-task-7' }, 'k_aaaaaaaaaaaaaaaa');
    expect(id).not.toContain('upstream-task-7');
    expect(Buffer.from(id.split('.')[3] ?? '', 'base64url').toString('latin1')).not.toContain('jobs');
    await expect(codec.open(id, 'k_aaaaaaaaaaaaaaaa')).resolves.toEqual({ server: 'jobs', taskId: 'upstream-task-7' });
    await expect(new TaskIdCodec(randomStateKey(), [key]).open(id, 'k_aaaaaaaaaaaaaaaa')).resolves.toEqual({ server: 'jobs', taskId: 'upstream-task-7' });
    await expect(codec.open(id, 'k_bbbbbbbbbbbbbbbb')).resolves.toBeUndefined(); // another caller's task
    await expect(new TaskIdCodec(randomStateKey()).open(id, 'k_aaaaaaaaaaaaaaaa')).resolves.toBeUndefined(); // another key
  });

  it('an altered id, a foreign string, or a non-string is unknown (never a throw)', async () => {
    const codec = new TaskIdCodec(randomStateKey());
    const id = await codec.seal({ server: 'jobs', taskId: 't' }, 'k_aaaaaaaaaaaaaaaa');
    const altered = `${id.slice(0, -3)}${id.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    for (const bad of [altered, 'tasks-conformance-isolation-probe', '', 42, undefined, 'a'.repeat(5000)]) {
      await expect(codec.open(bad, 'k_aaaaaaaaaaaaaaaa')).resolves.toBeUndefined();
    }
  });

  it('declaresTasks reads the extension from clientCapabilities', () => {
    expect(declaresTasks({ extensions: { 'io.modelcontextprotocol/tasks': {} } })).toBe(true);
    expect(declaresTasks({ extensions: {} })).toBe(false);
    expect(declaresTasks({ tasks: {} })).toBe(false);
  });
});
