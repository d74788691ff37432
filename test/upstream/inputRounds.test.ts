import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { fulfilRounds, MAX_INPUT_ROUNDS, ownedAnswer } from '../../src/upstream/inputRounds.js';

const ELICIT = { method: 'elicitation/create', params: { message: 'ok?' } };

/** An upstream scripted by its answers; records every retry's extra params and every input request. */
function scripted(answers: Result[]) {
  const retries: Array<Record<string, unknown>> = [];
  const asked: string[] = [];
  return {
    retries,
    asked,
    io: {
      retry: async (extra: Record<string, unknown>) => {
        retries.push(extra);
        return answers.shift() ?? { content: [] };
      },
      answer: async (key: string, request: { method: string }, round: number) => {
        asked.push(`${round}:${key}:${request.method}`);
        return { action: 'accept', content: { ok: true } };
      },
    },
  };
}

describe('input_required rounds', () => {
  it('returns a complete result (or one without resultType) as it is', async () => {
    const upstream = scripted([]);
    expect(await fulfilRounds({ content: [] }, 's', upstream.io)).toEqual({ content: [] });
    expect(upstream.retries).toEqual([]);
  });

  it('answers each round and retries with the answers and the state byte for byte', async () => {
    const upstream = scripted([{ resultType: 'input_required', inputRequests: { roots: { method: 'roots/list' } } }, { resultType: 'complete', content: [{ type: 'text', text: 'done' }] }]);
    const result = await fulfilRounds({ resultType: 'input_required', inputRequests: { confirm: ELICIT }, requestState: ' opaque==state ' }, 's', upstream.io);
    expect(result).toMatchObject({ content: [{ text: 'done' }] });
    expect(upstream.asked).toEqual(['1:confirm:elicitation/create', '2:roots:roots/list']);
    expect(upstream.retries[0]).toEqual({ inputResponses: { confirm: { action: 'accept', content: { ok: true } } }, requestState: ' opaque==state ' });
    // the second round had no state: none is sent
    expect(upstream.retries[1]).not.toHaveProperty('requestState');
  });

  it(`stops after ${MAX_INPUT_ROUNDS} rounds`, async () => {
    const again = { resultType: 'input_required', inputRequests: { confirm: ELICIT }, requestState: 's' };
    const upstream = scripted(Array.from({ length: 20 }, () => again));
    await expect(fulfilRounds(again, 's', upstream.io)).rejects.toThrow(/more than 8 times/);
    expect(upstream.retries).toHaveLength(MAX_INPUT_ROUNDS);
  });

  it.each([
    ['an unknown method', { confirm: { method: 'tools/call' } }],
    ['params that are not an object', { confirm: { method: 'roots/list', params: [1] } }],
    ['inputRequests that are not an object', 'nope'],
  ])('refuses a round with %s (fail closed)', async (_name, inputRequests) => {
    const upstream = scripted([]);
    await expect(fulfilRounds({ resultType: 'input_required', inputRequests } as Result, 's', upstream.io)).rejects.toBeInstanceOf(GatewayError);
    expect(upstream.asked).toEqual([]);
  });

  it('refuses a round with neither input requests nor state', async () => {
    await expect(fulfilRounds({ resultType: 'input_required' }, 's', scripted([]).io)).rejects.toThrow(/neither inputRequests nor requestState/);
  });
});

describe("mcpgate's own answers for a client without the capability", () => {
  it('no roots, elicitation declined, sampling refused', () => {
    expect(ownedAnswer({ method: 'roots/list' }, 's')).toEqual({ roots: [] });
    expect(ownedAnswer({ method: 'elicitation/create' }, 's')).toEqual({ action: 'decline' });
    expect(() => ownedAnswer({ method: 'sampling/createMessage' }, 's')).toThrow(expect.objectContaining({ code: 'MCPGATE_CLIENT_CAPABILITY_MISSING' }));
  });
});
