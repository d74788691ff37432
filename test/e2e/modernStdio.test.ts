/**
 * stdio, per line: a 2026-07-28 request (its `_meta` claims the revision) is served statelessly
 * beside the lines of the process's 2025 session, before and after `initialize`, each answer going
 * back by id; a modern caller on stdio has a specific caller key (one client per process), so its
 * approval rounds offer "for this session".
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, MAIN, makeConfig, readAudit, textOf, waitFor, type TempConfig } from '../support/gateway.js';
import { modernRequest } from '../support/modern.js';

type Message = Record<string, unknown> & { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string } };

describe('modern (2026-07-28) lines over stdio beside a 2025 session', () => {
  let config: TempConfig;
  let child: ChildProcessWithoutNullStreams;
  const received: Message[] = [];

  const send = (message: Record<string, unknown>) => child.stdin.write(`${JSON.stringify(message)}\n`);
  async function answer(id: unknown): Promise<Message> {
    await waitFor(() => received.some((m) => m.id === id && ('result' in m || 'error' in m)), 30_000, () => `an answer to ${String(id)}; got ${JSON.stringify(received).slice(0, 2000)}`);
    return received.find((m) => m.id === id && ('result' in m || 'error' in m)) as Message;
  }

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { channel: 'elicitation' } },
      servers: { echo: fixtureServer('echo', { tools: { allow: ['echo', 'slow', 'stats'], ask: ['add'] } }) },
    });
    child = spawn(process.execPath, [MAIN, 'serve', '--config', config.dir], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, MCPGATE_LOG_LEVEL: 'warn' } });
    child.stderr.resume();
    createInterface({ input: child.stdout }).on('line', (line) => received.push(JSON.parse(line) as Message));
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.stdin.end();
      await new Promise((resolve) => {
        child.once('exit', resolve);
        setTimeout(() => resolve(child.kill('SIGKILL')), 8000).unref();
      });
    }
    await config?.cleanup();
  });

  it('serves a modern line before initialize, then both generations interleaved on one pipe', async () => {
    send(modernRequest('m1', 'tools/call', { name: 'echo__echo', arguments: { message: 'modern before init' } }));
    const early = await answer('m1');
    expect(textOf(early.result)).toContain('modern before init');
    expect(early.result?.resultType).toBe('complete');

    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'legacy', version: '1' } } });
    expect((await answer(1)).result?.protocolVersion).toBe('2025-11-25');
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });

    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo__echo', arguments: { message: 'legacy line' } } });
    send(modernRequest('m2', 'tools/call', { name: 'echo__echo', arguments: { message: 'modern line' } }));
    send({ jsonrpc: '2.0', id: 3, method: 'ping' });
    send(modernRequest('m3', 'ping'));
    const [legacy, modern, ping, modernPing] = await Promise.all([answer(2), answer('m2'), answer(3), answer('m3')]);
    expect(textOf(legacy.result)).toContain('legacy line');
    expect(legacy.result?.resultType).toBeUndefined(); // the 2025 session's answers are as before
    expect(textOf(modern.result)).toContain('modern line');
    expect(modern.result?.resultType).toBe('complete');
    expect(ping.result).toEqual({});
    expect(modernPing.error?.code).toBe(-32601); // removed in 2026-07-28

    const records = await readAudit(config.auditFile);
    const sessions = (message: string) => records.filter((r) => r.event === 'mcpgate.tool.decision' && JSON.stringify(r.arguments).includes(message)).map((r) => String(r.session));
    expect(sessions('modern line')[0]).toMatch(/^k_[a-z2-7]{16}$/);
    expect(sessions('modern line')).toEqual(sessions('modern before init')); // one caller key per stdio client
    expect(sessions('legacy line')[0]).not.toMatch(/^k_/);
    const legacyDecision = records.find((r) => r.event === 'mcpgate.tool.decision' && JSON.stringify(r.arguments).includes('legacy line'));
    expect(legacyDecision?.protocol_version).toBe('2025-11-25'); // a 2025 session's records carry the revision it negotiated
    const modernDecision = records.find((r) => r.event === 'mcpgate.tool.decision' && JSON.stringify(r.arguments).includes('modern line'));
    expect(modernDecision?.protocol_version).toBe('2026-07-28');
  });

  it('an approval round on stdio offers "for this session" (the key names this one client)', async () => {
    send(modernRequest('m4', 'tools/call', { name: 'echo__add', arguments: { a: 1, b: 2 } }, { elicitation: {} }));
    const round = (await answer('m4')).result as Record<string, unknown>;
    expect(round.resultType).toBe('input_required');
    const ask = (round.inputRequests as Record<string, { params: { requestedSchema: { properties: { decision: { oneOf: Array<{ const: string }> } } } } }>)['mcpgate:approval'];
    expect(ask?.params.requestedSchema.properties.decision.oneOf.map((c) => c.const)).toContain('session');
    send(modernRequest('m5', 'tools/call', { name: 'echo__add', arguments: { a: 1, b: 2 }, requestState: round.requestState, inputResponses: { 'mcpgate:approval': { action: 'accept', content: { decision: 'once' } } } }, { elicitation: {} }));
    expect(textOf((await answer('m5')).result)).toContain('3');
  });

  it('notifications/cancelled naming a modern request cancels it upstream; it gets no answer', async () => {
    let n = 0;
    const stats = async () => {
      const id = `stats-${++n}`;
      send(modernRequest(id, 'tools/call', { name: 'echo__stats', arguments: {} }));
      return (await answer(id)).result?.structuredContent as { calls: number; cancelled: number };
    };
    const before = await stats();
    send(modernRequest('slow-1', 'tools/call', { name: 'echo__slow', arguments: { ms: 20_000 } }));
    await waitFor(async () => (await stats()).calls > before.calls + 1, 10_000, () => 'the slow call to reach the upstream');
    send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'slow-1', reason: 'test' } });
    await waitFor(async () => (await stats()).cancelled > before.cancelled, 10_000, () => 'the upstream to see the cancellation');
    expect(received.some((m) => m.id === 'slow-1')).toBe(false);
  });
});
