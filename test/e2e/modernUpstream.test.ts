/**
 * A 2025-11-25 SDK client → `mcpgate serve` → 2026-07-28 upstreams (test/fixtures/servers/modern.ts,
 * which refuses `initialize`), over stdio and over Streamable HTTP, beside a 2025 upstream: the
 * probe picks the revision per server, every request carries the envelope (and on HTTP the
 * SEP-2243 headers the fixture checks), and the upstream's `input_required` rounds become requests
 * to the 2025 client (elicitation accepted or declined, sampling, roots, two rounds), or are
 * answered by mcpgate when the client lacks the capability.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema, LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modernCall } from '../support/modern.js';
import { fixtureServer, freePort, makeConfig, readAudit, REPO, runMcpgate, startHttpGateway, startStdioGateway, textOf, waitFor, waitForTools, type AuditRecord, type HttpGateway, type StdioGateway, type TempConfig } from '../support/gateway.js';

async function startModernHttp(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test/fixtures/servers/modern.ts'), '--http', String(port)], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}/mcp`;
  await waitFor(async () => (await fetch(url, { method: 'GET', signal: AbortSignal.timeout(500) }).catch(() => undefined)) !== undefined, 20_000, () => `modern fixture on ${port}: ${stderr}`);
  return { url, child };
}

/** The text of a call's result, or its error message. */
async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> {
  return client.callTool({ name, arguments: args }).then(
    (result) => textOf(result),
    (error: unknown) => `error: ${(error as Error).message}`,
  );
}

describe('2026-07-28 upstreams behind a 2025 client', () => {
  let http: { url: string; child: ChildProcess };
  let config: TempConfig;
  let capable: StdioGateway;
  let bare: StdioGateway;
  let elicitation: { action: string; content?: Record<string, unknown> } = { action: 'accept', content: { ok: true } };
  const asked: string[] = [];

  beforeAll(async () => {
    http = await startModernHttp();
    config = await makeConfig({
      servers: {
        ms: fixtureServer('modern', { tools: { default: 'allow' } }),
        mh: { url: http.url, tools: { default: 'allow' } },
        old: fixtureServer('echo', { tools: { default: 'allow' } }),
      },
    });
    [capable, bare] = await Promise.all([startStdioGateway(config.dir, { capabilities: { elicitation: {}, sampling: {}, roots: {} } }), startStdioGateway(config.dir)]);
    capable.client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(`elicit ${request.params.message}`);
      return elicitation as never;
    });
    capable.client.setRequestHandler(CreateMessageRequestSchema, async () => {
      asked.push('sample');
      return { role: 'assistant', content: { type: 'text', text: 'hi' }, model: 'test-model' };
    });
    capable.client.setRequestHandler(ListRootsRequestSchema, async () => {
      asked.push('roots');
      return { roots: [{ uri: 'file:///work', name: 'work' }] };
    });
    await Promise.all([capable, bare].map((g) => waitForTools(g.client, ['ms__echo', 'mh__echo', 'old__echo'])));
  }, 60_000);

  afterAll(async () => {
    await capable?.close();
    await bare?.close();
    http?.child.kill();
    await config?.cleanup();
  });

  it('lists both generations, leaving out a tool with an invalid x-mcp-header', async () => {
    const names = (await capable.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['ms__echo', 'ms__region', 'mh__region', 'mh__confirm', 'old__echo']));
    expect(names.filter((n) => n.endsWith('__bad_header'))).toEqual([]);
  });

  describe.each([
    ['stdio', 'ms'],
    ['Streamable HTTP', 'mh'],
  ])('over %s', (_transport, server) => {
    it('calls statelessly with the envelope on every request', async () => {
      expect(await call(capable.client, `${server}__echo`, { message: 'hello' })).toBe('hello');
      const meta = JSON.parse(await call(capable.client, `${server}__meta`)) as Record<string, unknown>;
      expect(meta['io.modelcontextprotocol/protocolVersion']).toBe('2026-07-28');
      expect(meta['io.modelcontextprotocol/clientInfo']).toMatchObject({ name: 'mcpgate' });
      expect(meta['io.modelcontextprotocol/clientCapabilities']).toMatchObject({ elicitation: {}, sampling: {}, roots: {} });
    });

    it('mirrors an x-mcp-header argument (the HTTP fixture refuses the call without it)', async () => {
      expect(await call(capable.client, `${server}__region`, { region: 'eu-west1' })).toBe('region eu-west1');
    });

    it("bridges an elicitation round to the 2025 client: accepted gives the tool's answer", async () => {
      elicitation = { action: 'accept', content: { ok: true } };
      expect(await call(capable.client, `${server}__confirm`)).toBe('confirmed {"ok":true}');
      expect(asked.at(-1)).toContain('Proceed?');
    });

    it('declined: the tool answers what it does for a decline', async () => {
      elicitation = { action: 'decline' };
      expect(await call(capable.client, `${server}__confirm`)).toBe('not confirmed (decline)');
    });

    it('bridges sampling, and two rounds (elicitation, then roots) in one call', async () => {
      expect(await call(capable.client, `${server}__ask_model`)).toBe('the model said hi');
      elicitation = { action: 'accept', content: { ok: true } };
      const before = asked.length;
      expect(await call(capable.client, `${server}__several`)).toBe('two rounds, 1 roots');
      expect(asked.slice(before)).toEqual([expect.stringContaining('Proceed?'), 'roots']);
    });

    it('answers for a client without the capabilities: elicitation declined, no roots, sampling refused', async () => {
      expect(await call(bare.client, `${server}__confirm`)).toBe('not confirmed (decline)');
      expect(await call(bare.client, `${server}__several`)).toBe('two rounds, 0 roots');
      expect(await call(bare.client, `${server}__ask_model`)).toMatch(/sampling/);
    });
  });

  it("asks a 2026 server for the call's log messages and relays them to the session", async () => {
    const logs: unknown[] = [];
    capable.client.setNotificationHandler(LoggingMessageNotificationSchema, async (notification) => void logs.push(notification.params.data));
    expect(await call(capable.client, 'ms__echo', { message: 'logged' })).toBe('logged');
    await waitFor(() => logs.length > 0, 5000, () => 'the upstream log message');
    // a 2025 session that set no level hears everything: mcpgate asked for debug
    expect(logs).toEqual(['echo logged (asked: debug)']);
  });

  it("turns a session's resources/subscribe into the 2026 server's listen request, and relays its updates", async () => {
    const updates: string[] = [];
    capable.client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (notification) => void updates.push(notification.params.uri));
    expect((await capable.client.readResource({ uri: 'note://stdio/a' })).contents).toMatchObject([{ text: 'a note' }]);
    await capable.client.subscribeResource({ uri: 'note://stdio/a' });
    await capable.client.subscribeResource({ uri: 'note://http/a' });
    await waitFor(() => updates.includes('note://stdio/a') && updates.includes('note://http/a'), 10_000, () => `resource updates (have ${JSON.stringify(updates)})`);
  });

  it('still speaks 2025-11-25 to the server that does not offer 2026-07-28', async () => {
    expect(await call(capable.client, 'old__echo', { message: 'legacy' })).toBe('legacy');
  });

  it('shows the revision of each upstream in mcpgate status and on the audit result records', async () => {
    const status = await runMcpgate(['status', '--config', config.dir, '--json']);
    expect(status.code, status.stderr).toBe(0);
    const gateways = (JSON.parse(status.stdout) as { gateways: Array<{ upstreams: Array<{ name: string; protocol?: string }> }> }).gateways;
    expect(gateways.length).toBeGreaterThan(0);
    for (const gateway of gateways) {
      expect(Object.fromEntries(gateway.upstreams.map((u) => [u.name, u.protocol]))).toEqual({ ms: '2026-07-28', mh: '2026-07-28', old: '2025-11-25' });
    }
    const has = (records: AuditRecord[], name: string) => records.some((r) => r.event === 'mcpgate.tool.result' && r.public_name === name);
    // two gateways on one configuration: each writes its own audit chain (audit.log, audit.chain-2.log)
    const files = [config.auditFile, config.auditFile.replace(/\.log$/, '.chain-2.log')];
    const all = async () => (await Promise.all(files.map((file) => readAudit(file)))).flat();
    await waitFor(async () => {
      const records = await all();
      return has(records, 'mh__echo') && has(records, 'old__echo');
    }, 10_000, () => 'the result records of mh__echo and old__echo');
    const results = (await all()).filter((r) => r.event === 'mcpgate.tool.result');
    expect(results.find((r) => r.public_name === 'mh__echo')).toMatchObject({ upstream_protocol_version: '2026-07-28' });
    expect(results.find((r) => r.public_name === 'old__echo')).not.toHaveProperty('upstream_protocol_version');
  });

  // after the status test: this gateway's upstreams are not there to be listed
  describe('a 2025 client over Streamable HTTP to mcpgate', () => {
    let gateway: HttpGateway;
    let client: Client;

    beforeAll(async () => {
      gateway = await startHttpGateway(config.dir);
      client = await gateway.connect({ capabilities: { elicitation: {}, roots: {} } });
      client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { ok: true } }));
      client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///a' }, { uri: 'file:///b' }] }));
      await waitForTools(client, ['ms__several', 'mh__several']);
    }, 60_000);

    afterAll(async () => {
      await gateway?.close();
    });

    it('gets the rounds of both upstreams as requests on its session', async () => {
      expect(await call(client, 'ms__confirm')).toBe('confirmed {"ok":true}');
      expect(await call(client, 'mh__several')).toBe('two rounds, 2 roots');
      // sampling was not declared: mcpgate refuses it rather than inventing an answer
      expect(await call(client, 'mh__ask_model')).toMatch(/sampling/);
    });

    it("a 2026 caller gets the upstream's round passed through (the upstream's own key, its state sealed), and its retry finishes the call", async () => {
      const first = await modernCall(gateway.url, 1, 'tools/call', { name: 'mh__confirm', arguments: {} }, { elicitation: {} });
      const round = first.response.result as { resultType: string; inputRequests: Record<string, { method: string }>; requestState: string };
      expect(round, JSON.stringify(first.response).slice(0, 1000)).toMatchObject({ resultType: 'input_required' });
      const [key, request] = Object.entries(round.inputRequests)[0]!;
      expect(key).toBe('confirm'); // passed through (src/pipeline/upstreamRounds.ts), not bridged under a `u:` key
      expect(request.method).toBe('elicitation/create');
      const done = await modernCall(gateway.url, 2, 'tools/call', { name: 'mh__confirm', arguments: {}, requestState: round.requestState, inputResponses: { [key]: { action: 'accept', content: { ok: true } } } }, { elicitation: {} });
      expect(textOf(done.response.result), JSON.stringify(done.response).slice(0, 1000)).toBe('confirmed {"ok":true}');
    });
  });
});
