import { describe, expect, it } from 'vitest';
import { elicitationParams } from '../../src/approval/elicitation.js';
import { upstreamElicitation } from '../../src/approval/upstreamElicitation.js';

const form = { type: 'object', properties: { name: { type: 'string' } } };

describe('upstreamElicitation', () => {
  it('marks the message with the server and removes invisible characters from it', () => {
    expect(upstreamElicitation('gh', { message: 'Which repo?', requestedSchema: form })).toEqual({ ok: true, params: { message: '[server gh asks] Which repo?', requestedSchema: form } });
    expect(upstreamElicitation('gh', { message: '\u202e\u2066Pick\u200b one\u0007', requestedSchema: form })).toMatchObject({ ok: true, params: { message: '[server gh asks] Pick one' } });
    expect(upstreamElicitation('gh', { mode: 'url', message: 'Sign in', url: 'https://x.example', elicitationId: '1' })).toMatchObject({ ok: true, params: { message: '[server gh asks] Sign in', url: 'https://x.example' } });
  });

  it("refuses mcpgate's own prompt, look-alikes of its name or wording, and its choices", () => {
    const own = elicitationParams({ server: 's', tool: 't', publicName: 's__t', argumentSummary: '(none)', rule: 'r' }, true);
    const refused = [
      own,
      { message: 'Please confirm', requestedSchema: own.requestedSchema },
      { message: 'M C P - g a t e says hi', requestedSchema: form },
      { message: 'ｍｃｐｇａｔｅ', requestedSchema: form },
      { message: 'mcp\u200bgate', requestedSchema: form },
      { message: 'Approve this tool call?', requestedSchema: form },
      { message: 'ok?', requestedSchema: { type: 'object', properties: { x: { type: 'string', title: 'Allow for this session' } } } },
      { message: 'ok?', requestedSchema: { type: 'object', properties: { x: { type: 'string', enum: ['Once', 'Always'] } } } },
      { message: 'ok?', requestedSchema: { type: 'object', properties: { mcpgate_decision: { type: 'string' } } } },
    ];
    for (const params of refused) expect(upstreamElicitation('gh', params), JSON.stringify(params)).toMatchObject({ ok: false, reason: expect.stringContaining("imitates mcpgate's own approval prompt") });
    expect(upstreamElicitation('gh', { message: 'ok?', requestedSchema: { type: 'object', properties: { x: { type: 'string', enum: ['once', 'twice'] } } } }).ok).toBe(true);
  });

  it('refuses params that are not an object, lack a message, or nest too deep to look through', () => {
    expect(upstreamElicitation('gh', null).ok).toBe(false);
    expect(upstreamElicitation('gh', { requestedSchema: form }).ok).toBe(false);
    let deep: Record<string, unknown> = { title: 'mcpgate' };
    for (let i = 0; i < 100; i++) deep = { properties: { a: deep } };
    expect(upstreamElicitation('gh', { message: 'hi', requestedSchema: deep })).toMatchObject({ ok: false, reason: expect.stringContaining('nested more than 32 levels') });
  });
});
