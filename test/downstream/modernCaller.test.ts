/**
 * The Caller of a 2026-07-28 request: identity from its envelope (caller key, whether the key
 * names one client), input answered only from a verified retry (else InputRequired), an
 * upstream's mid-call ask refused for an undeclared capability (-32021) and bridged otherwise,
 * and log messages only at the request's own logLevel.
 */
import { describe, expect, it } from 'vitest';
import { InputRequired, wantsLog } from '../../src/caller/caller.js';
import { ModernCaller, type ModernOrigin, type UpstreamAsk } from '../../src/downstream/modernCaller.js';
import { LineModernStream } from '../../src/downstream/modernStream.js';
import { readEnvelope } from '../../src/protocol/envelope.js';
import type { RequestState } from '../../src/protocol/requestState.js';

const HTTP: ModernOrigin = { transportKind: 'http', identity: undefined, subjectIsSession: false };

function callerOf(capabilities: Record<string, unknown> = {}, meta: Record<string, unknown> = {}, origin: ModernOrigin = HTTP): { caller: ModernCaller; lines: string[] } {
  const envelope = readEnvelope({
    _meta: {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': capabilities,
      'io.modelcontextprotocol/clientInfo': { name: 'unit', version: '1' },
      ...meta,
    },
  });
  const lines: string[] = [];
  return { caller: new ModernCaller(envelope, origin, new LineModernStream((line) => lines.push(line))), lines };
}

const ASK = { method: 'elicitation/create', params: { message: 'approve?' } } as const;

describe('ModernCaller', () => {
  it('is a stateless Caller: no session id, its caller key, specific only when the key names one client', () => {
    const { caller } = callerOf();
    expect(caller.generation).toBe('modern');
    expect(caller.sessionId).toBeUndefined();
    expect(caller.protocolVersion).toBe('2026-07-28');
    expect(caller.identity.key).toMatch(/^k_[a-z2-7]{16}$/);
    expect(caller.identity.specific).toBe(false); // anonymous HTTP, no dev.mcpgate/session
    expect(callerOf({}, { 'dev.mcpgate/session': 'session-aaaaaaaaaaaaaaaa' }).caller.identity.specific).toBe(true);
    expect(callerOf({}, {}, { transportKind: 'stdio', identity: undefined, subjectIsSession: false }).caller.identity.specific).toBe(true);
  });

  it('input(): InputRequired naming the key until a verified retry asked it and carries the answer', async () => {
    const { caller } = callerOf({ elicitation: {} });
    const thrown = await caller.input('mcpgate:approval', ASK).catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(InputRequired);
    expect((thrown as InputRequired).requests).toEqual({ 'mcpgate:approval': ASK });
    const state = { asked: { 'mcpgate:approval': 'sha256:x' } } as unknown as RequestState;
    caller.resumed = { state, responses: { 'mcpgate:approval': { action: 'accept' }, other: { action: 'accept' } } };
    await expect(caller.input('mcpgate:approval', ASK)).resolves.toEqual({ action: 'accept' });
    // answered but never asked in the last round: asked again
    await expect(caller.input('other', ASK)).rejects.toBeInstanceOf(InputRequired);
  });

  it("an upstream's ask: -32021 for an undeclared capability (the request's answer), else handed to the bridge", async () => {
    const bare = callerOf().caller;
    await expect(bare.input('u:1', { method: 'sampling/createMessage', params: {} }, { fromUpstream: true })).rejects.toMatchObject({ rpcCode: -32021 });
    expect(bare.failure?.data).toEqual({ requiredCapabilities: { sampling: {} } });

    const { caller } = callerOf({ elicitation: {} });
    await expect(caller.input('u:1', ASK, { fromUpstream: true })).rejects.toMatchObject({ data: { code: 'MCPGATE_CLIENT_REQUEST_UNROUTABLE' } }); // no bridge: not relayed
    const asks: UpstreamAsk[] = [];
    caller.bridge = (ask) => asks.push(ask);
    const answered = caller.input('u:1', ASK, { fromUpstream: true });
    expect(asks.map((ask) => ask.request)).toEqual([ASK]);
    asks[0]!.resolve({ action: 'decline' });
    await expect(answered).resolves.toEqual({ action: 'decline' });
  });

  it("hears log messages only at its request's logLevel; notifications go to its own stream", () => {
    expect(wantsLog(callerOf().caller, 'error')).toBe(false);
    const { caller, lines } = callerOf({}, { 'io.modelcontextprotocol/logLevel': 'warning' });
    expect([wantsLog(caller, 'info'), wantsLog(caller, 'error')]).toEqual([false, true]);
    caller.notify({ method: 'notifications/progress', params: { progressToken: 1, progress: 1 } });
    expect(JSON.parse(lines[0]!)).toEqual({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } });
  });
});
