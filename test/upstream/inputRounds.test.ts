import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { fulfilRounds, logLevelFor, MAX_INPUT_ROUNDS, ownedAnswer, requestWithRounds } from '../../src/upstream/inputRounds.js';

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

describe('the log level asked of a 2026 server', () => {
  it("is the caller's; a 2025 session without one hears everything, a 2026 caller without one nothing", () => {
    expect(logLevelFor({ generation: 'legacy', logLevel: 'warning' })).toBe('warning');
    expect(logLevelFor({ generation: 'legacy', logLevel: undefined })).toBe('debug');
    expect(logLevelFor({ generation: 'modern', logLevel: 'info' })).toBe('info');
    expect(logLevelFor({ generation: 'modern', logLevel: undefined })).toBeUndefined();
    expect(logLevelFor(undefined)).toBeUndefined();
  });
});

describe("mcpgate's own answers for a client without the capability", () => {
  it('no roots, elicitation declined, sampling refused', () => {
    expect(ownedAnswer({ method: 'roots/list' }, 's')).toEqual({ roots: [] });
    expect(ownedAnswer({ method: 'elicitation/create' }, 's')).toEqual({ action: 'decline' });
    expect(() => ownedAnswer({ method: 'sampling/createMessage' }, 's')).toThrow(expect.objectContaining({ code: 'MCPGATE_CLIENT_CAPABILITY_MISSING' }));
  });
});

describe('a request to a 2026 upstream', () => {
  const caller = { generation: 'legacy' as const, logLevel: undefined, closed: false, capabilities: { elicitation: {} } };
  const owner = { caller } as unknown as import('../../src/upstream/forwardOptions.js').CallOwner;
  const round = { resultType: 'input_required', inputRequests: { confirm: ELICIT }, requestState: 'st' };

  it("returns the raw InputRequiredResult when the caller takes the rounds (inputRequired: 'return')", async () => {
    const sent: unknown[] = [];
    const result = await requestWithRounds(async (params) => (sent.push(params), round), { name: 't' }, 's', { owner, inputRequired: 'return' }, async () => {
      throw new Error('must not ask');
    });
    expect(result).toBe(round);
    expect(sent).toHaveLength(1);
  });

  it('asks the owner by default and retries with its answer, keeping the log level of the first request', async () => {
    const sent: Array<Record<string, unknown>> = [];
    const asked: unknown[] = [];
    const result = await requestWithRounds(
      async (params) => (sent.push(params ?? {}), sent.length === 1 ? round : { content: [{ type: 'text', text: 'ok' }] }),
      { name: 't' },
      's',
      { owner },
      async (request, _signal, by) => (asked.push([request.method, by === owner]), { action: 'accept' }),
    );
    expect(result).toEqual({ content: [{ type: 'text', text: 'ok' }] });
    expect(asked).toEqual([['elicitation/create', true]]);
    expect(sent[1]).toMatchObject({ name: 't', inputResponses: { confirm: { action: 'accept' } }, requestState: 'st', _meta: { 'io.modelcontextprotocol/logLevel': 'debug' } });
  });
});
