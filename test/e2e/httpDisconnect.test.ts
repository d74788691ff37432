/**
 * HTTP clients that vanish, end to end against real `mcpgate serve --transport http` processes:
 * a raw node:http client whose connection drops while its call waits for approval or runs
 * upstream (the call is cancelled as if it had sent notifications/cancelled), a resumable SSE
 * stream that is resumed in time (the call keeps running), idle sessions expiring, the reason
 * on mcpgate.session.end records, and /healthz hiding upstream names from callers without a
 * valid token.
 */
import { request as httpRequest, type ClientRequest } from 'node:http';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decisionWithMessage,
  fixtureServer,
  makeConfig,
  readAudit,
  runMcpgate,
  startHttpGateway,
  startStdioGateway,
  textOf,
  waitFor,
  waitForAudit,
  type AuditRecord,
  type HttpGateway,
  type TempConfig,
} from '../support/gateway.js';

/** Protocol versions: before 2025-11-25 a POST's SSE stream carries no event id (not resumable). */
const PLAIN = '2025-06-18';
const RESUMABLE = '2025-11-25';

interface RawSession {
  readonly id: string;
  readonly version: string;
  /** POSTs a JSON-RPC message on the session and returns the whole response (body read to the end). */
  post(message: Record<string, unknown>): Promise<{ status: number; body: string }>;
  /** POSTs a request and hands back the open exchange once the response headers arrived (and, given `until`, the stream text matches it). */
  open(message: Record<string, unknown>, until?: RegExp): Promise<{ req: ClientRequest; first: string }>;
}

function headers(version: string, session?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': version,
    ...(session ? { 'mcp-session-id': session } : {}),
  };
}

/** A raw Streamable HTTP client: initialize + initialized, then requests by hand. */
async function rawSession(url: URL, version: string, capabilities: Record<string, unknown> = {}): Promise<RawSession> {
  const init = await fetch(url, {
    method: 'POST',
    headers: headers(version),
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: version, capabilities, clientInfo: { name: 'raw-vanishing', version: '1' } } }),
  });
  const id = init.headers.get('mcp-session-id');
  await init.text();
  if (!id) throw new Error(`initialize gave no session id (status ${init.status})`);
  const post = async (message: Record<string, unknown>) => {
    const res = await fetch(url, { method: 'POST', headers: headers(version, id), body: JSON.stringify(message) });
    return { status: res.status, body: await res.text() };
  };
  const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  if (initialized.status !== 202) throw new Error(`notifications/initialized: ${initialized.status} ${initialized.body}`);
  const open = (message: Record<string, unknown>, until?: RegExp) =>
    new Promise<{ req: ClientRequest; first: string }>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: headers(version, id) }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`POST answered ${res.statusCode}`));
        if (!until) return resolve({ req, first: '' });
        let text = '';
        const timer = setTimeout(() => reject(new Error(`no ${until} on the response stream within 10 s: ${text}`)), 10_000);
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (!until.test(text)) return;
          clearTimeout(timer);
          resolve({ req, first: text });
        });
      });
      req.on('error', () => undefined); // destroyed on purpose
      req.end(JSON.stringify(message));
    });
  return { id, version, post, open };
}

const call = (id: number, name: string, args: Record<string, unknown>) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

async function pendingApprovals(dir: string): Promise<Array<{ id: string; arguments: string }>> {
  const out = await runMcpgate(['approvals', '--config', dir, '--json']);
  if (out.code !== 0) throw new Error(`mcpgate approvals failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as Array<{ id: string; arguments: string }>;
}

async function slowStats(session: RawSession, id: number): Promise<{ calls: number; cancelled: number }> {
  const { body } = await session.post(call(id, 'echo__stats', {}));
  const data = [...body.matchAll(/^data: (.+)$/gm)].map((m) => m[1]).find((d) => d?.includes('"result"')) ?? body; // SSE: skip the priming event
  return (JSON.parse(data) as { result: { structuredContent: { calls: number; cancelled: number } } }).result.structuredContent;
}

describe('an HTTP client whose connection drops', () => {
  let config: TempConfig;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { channel: 'queue', timeout: '60s' } },
      servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'], allow: ['add', 'slow', 'stats'] } }) },
    });
    gateway = await startHttpGateway(config.dir);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('while its call waits in the approval queue: the wait ends, is recorded as a disconnect, and cannot be approved', async () => {
    const raw = await rawSession(gateway.url, PLAIN);
    const { req } = await raw.open(call(7, 'echo__echo', { message: 'vanishing-ask' }));
    let item: { id: string } | undefined;
    await waitFor(async () => (item = (await pendingApprovals(config.dir)).find((p) => p.arguments.includes('vanishing-ask'))) !== undefined, 15_000, () => 'the call to be queued');
    const dropped = Date.now();
    req.destroy();
    await waitFor(async () => !(await pendingApprovals(config.dir)).some((p) => p.arguments.includes('vanishing-ask')), 5000, () => 'the queue to forget the call');
    expect(Date.now() - dropped).toBeLessThan(4000); // ~immediately; the approvals CLI itself takes a while to start
    const decision = await decisionWithMessage(config.auditFile, 'vanishing-ask');
    expect(decision).toMatchObject({ decision: 'deny', session: raw.id });
    expect(String(decision.reason)).toContain('the client disconnected');
    const approve = await runMcpgate(['approve', item!.id, '--config', config.dir]);
    expect(approve.code).not.toBe(0);
    expect(approve.stderr).toContain(`no pending approval with id ${item!.id}`);
    const records = await readAudit(config.auditFile);
    expect(records.filter((r) => r.event === 'mcpgate.tool.decision' && JSON.stringify(r).includes('vanishing-ask'))).toHaveLength(1);
    expect(records.some((r) => r.event === 'mcpgate.tool.result' && r.session === raw.id)).toBe(false);

    // The gateway and other sessions carry on.
    const client = await gateway.connect();
    const sum = await client.callTool({ name: 'echo__add', arguments: { a: 2, b: 3 } });
    expect(textOf(sum)).toBe('5');
  });

  it('while its call runs upstream: the upstream receives notifications/cancelled and the result record says cancelled', async () => {
    const raw = await rawSession(gateway.url, PLAIN);
    const before = await slowStats(raw, 1);
    const { req } = await raw.open(call(2, 'echo__slow', { ms: 30_000 }));
    await waitFor(async () => (await slowStats(raw, 3)).calls > before.calls + 1, 10_000, () => 'the slow call to reach the upstream');
    req.destroy();
    await waitFor(async () => (await slowStats(raw, 4)).cancelled === before.cancelled + 1, 5000, () => 'the upstream to see the cancellation');
    const records = await waitForAudit(config.auditFile, (all) => all.some((r) => r.event === 'mcpgate.tool.result' && r.session === raw.id && r.tool === 'slow'));
    const result = records.find((r) => r.event === 'mcpgate.tool.result' && r.session === raw.id && r.tool === 'slow') as AuditRecord;
    expect(result.outcome).toBe('cancelled');
  });

  it('a resumable SSE stream gets a grace period: cancelled only if the client does not resume', async () => {
    const raw = await rawSession(gateway.url, RESUMABLE);
    const before = await slowStats(raw, 1);
    const { req, first } = await raw.open(call(2, 'echo__slow', { ms: 30_000 }), /^id: /m);
    expect(first).toMatch(/^id: /m); // the priming event: the client could resume
    await waitFor(async () => (await slowStats(raw, 3)).calls > before.calls + 1, 10_000, () => 'the slow call to reach the upstream');
    req.destroy();
    await new Promise((r) => setTimeout(r, 1000));
    expect((await slowStats(raw, 4)).cancelled).toBe(before.cancelled); // still waiting for a resume
    await waitFor(async () => (await slowStats(raw, 5)).cancelled === before.cancelled + 1, 8000, () => 'the cancellation after the grace period');
    // A client resuming after that finds the cancellation in the replay instead of waiting forever.
    const eventId = /^id: (.+)$/m.exec(first)?.[1] as string;
    const late = await fetch(gateway.url, { headers: { ...headers(RESUMABLE, raw.id), accept: 'text/event-stream', 'last-event-id': eventId }, signal: AbortSignal.timeout(10_000) });
    const reader = late.body!.getReader();
    let text = '';
    while (!text.includes('"id":2')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toContain('MCPGATE_CLIENT_DISCONNECTED');
    expect(text).toContain('the client disconnected');
  });

  it('a resumable SSE stream resumed within the grace period keeps its call and delivers the answer', async () => {
    const raw = await rawSession(gateway.url, RESUMABLE);
    const before = await slowStats(raw, 1);
    // Longer than RESUME_GRACE_MS (3 s): only the resume keeps it from being cancelled.
    const { req, first } = await raw.open(call(2, 'echo__slow', { ms: 4500 }), /^id: /m);
    const eventId = /^id: (.+)$/m.exec(first)?.[1];
    expect(eventId).toBeTruthy();
    req.destroy();
    await new Promise((r) => setTimeout(r, 500));
    const resumed = await fetch(gateway.url, { headers: { ...headers(RESUMABLE, raw.id), accept: 'text/event-stream', 'last-event-id': eventId! }, signal: AbortSignal.timeout(15_000) });
    expect(resumed.status).toBe(200);
    const body = await resumed.text(); // the stream ends once the answer was sent
    expect(body).toContain('"id":2');
    expect(body).toContain('"result"');
    expect((await slowStats(raw, 3)).cancelled).toBe(before.cancelled);
  });

  it('resuming one dropped stream does not rescue another: the stream not resumed is still cancelled after the grace period', async () => {
    const raw = await rawSession(gateway.url, RESUMABLE);
    const before = await slowStats(raw, 1);
    // A outlives the grace period and is resumed; B is not resumed and must be cancelled.
    const a = await raw.open(call(2, 'echo__slow', { ms: 7000 }), /^id: /m);
    const b = await raw.open(call(3, 'echo__slow', { ms: 30_000 }), /^id: /m);
    await waitFor(async () => (await slowStats(raw, 4)).calls > before.calls + 2, 10_000, () => 'both slow calls to reach the upstream');
    a.req.destroy();
    b.req.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const eventId = /^id: (.+)$/m.exec(a.first)?.[1] as string;
    const resumed = fetch(gateway.url, { headers: { ...headers(RESUMABLE, raw.id), accept: 'text/event-stream', 'last-event-id': eventId }, signal: AbortSignal.timeout(20_000) });
    expect((await resumed).status).toBe(200);
    await waitFor(async () => (await slowStats(raw, 5)).cancelled === before.cancelled + 1, 6000, () => 'the stream not resumed (B) to be cancelled after the grace period');
    const body = await (await resumed).text(); // A's answer arrives on the resumed stream
    expect(body).toContain('"id":2');
    expect(body).toContain('"result"');
    expect((await slowStats(raw, 6)).cancelled).toBe(before.cancelled + 1); // A was not cancelled
  });
});

describe('an HTTP client whose connection drops while it is asked (elicitation)', () => {
  let config: TempConfig;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { approval: { channel: 'elicitation', timeout: '60s' } },
      servers: { echo: fixtureServer('echo', { tools: { ask: ['echo'] } }) },
    });
    gateway = await startHttpGateway(config.dir);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('the ask ends at once as a disconnect; the call is not run', async () => {
    const raw = await rawSession(gateway.url, PLAIN, { elicitation: {} });
    const { req, first } = await raw.open(call(5, 'echo__echo', { message: 'vanishing-elicited' }), /elicitation\/create/);
    expect(first).toContain('elicitation/create'); // the question reached the client on the call's stream
    const dropped = Date.now();
    req.destroy();
    const decision = await decisionWithMessage(config.auditFile, 'vanishing-elicited');
    expect(Date.now() - dropped).toBeLessThan(5000); // not approval.timeout (60 s)
    expect(decision).toMatchObject({ decision: 'deny', session: raw.id, approval_channel: 'elicitation' });
    expect(String(decision.reason)).toContain('the client disconnected');
    const records = await readAudit(config.auditFile);
    expect(records.some((r) => r.event === 'mcpgate.tool.result' && r.session === raw.id)).toBe(false);
  });
});

describe('idle HTTP sessions', () => {
  let config: TempConfig;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { http: { sessionIdleTimeout: '1s' } },
      servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) },
    });
    gateway = await startHttpGateway(config.dir);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('a session idle for http.sessionIdleTimeout ends (reason idle) and then answers 404; a busy one stays', async () => {
    const idle = await rawSession(gateway.url, PLAIN);
    const busy = await rawSession(gateway.url, PLAIN);
    const deadline = Date.now() + 3000;
    let n = 1;
    while (Date.now() < deadline) {
      const { status, body } = await busy.post(call(n++, 'echo__echo', { message: 'still here' }));
      expect(status, body).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
    }
    const records = await waitForAudit(config.auditFile, (all) => all.some((r) => r.event === 'mcpgate.session.end' && r.session === idle.id));
    expect(records.find((r) => r.event === 'mcpgate.session.end' && r.session === idle.id)).toMatchObject({ transport: 'http', reason: 'idle' });
    expect(records.some((r) => r.event === 'mcpgate.session.end' && r.session === busy.id)).toBe(false);
    const late = await idle.post(call(1, 'echo__echo', { message: 'too late' }));
    expect(late.status).toBe(404);
    expect(late.body).toMatch(/[Ss]ession not found/);
  });

  it('a DELETE ends the session with reason deleted', async () => {
    const raw = await rawSession(gateway.url, PLAIN);
    const res = await fetch(gateway.url, { method: 'DELETE', headers: headers(PLAIN, raw.id) });
    expect(res.status).toBe(200);
    const records = await waitForAudit(config.auditFile, (all) => all.some((r) => r.event === 'mcpgate.session.end' && r.session === raw.id));
    expect(records.find((r) => r.event === 'mcpgate.session.end' && r.session === raw.id)).toMatchObject({ reason: 'deleted' });
  });
});

describe('idle HTTP sessions with auth', () => {
  const ISSUER = 'https://issuer.mcpgate.test';
  const AUDIENCE = 'mcpgate-idle';
  const KEY = 'hmac-key-for-the-idle-test-0123456789abcdef';
  let config: TempConfig;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { http: { sessionIdleTimeout: '1s' }, auth: { issuer: ISSUER, audience: AUDIENCE, secret: '${env:MCPGATE_TEST_IDLE_KEY}' } },
      servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) },
    });
    gateway = await startHttpGateway(config.dir, [], { MCPGATE_TEST_IDLE_KEY: KEY });
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  const token = (n: number) =>
    new SignJWT({ sub: 'idler', n }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(KEY));

  it('requests whose connection closed while their token was being verified do not keep the session from expiring', async () => {
    const auth = (t: string, session?: string) => ({ ...headers(PLAIN, session), authorization: `Bearer ${t}` });
    const first = await token(0);
    const init = await fetch(gateway.url, {
      method: 'POST',
      headers: auth(first),
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: PLAIN, capabilities: {}, clientInfo: { name: 'raw-idler', version: '1' } } }),
    });
    const id = init.headers.get('mcp-session-id') as string;
    await init.text();
    expect(id, `initialize answered ${init.status}`).toBeTruthy();
    const initialized = await fetch(gateway.url, { method: 'POST', headers: auth(first, id), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
    expect(initialized.status).toBe(202);
    // Each request carries a token not seen before (verified, not cached) and is dropped as soon as it is sent.
    for (let n = 1; n <= 20; n++) {
      const t = await token(n);
      await new Promise<void>((resolve) => {
        const req = httpRequest(gateway.url, { method: 'POST', headers: auth(t, id) });
        req.on('error', () => undefined);
        req.on('close', () => resolve());
        req.end(JSON.stringify({ jsonrpc: '2.0', id: n, method: 'tools/list' }), () => req.destroy());
      });
    }
    const records = await waitForAudit(config.auditFile, (all) => all.some((r) => r.event === 'mcpgate.session.end' && r.session === id), 8000);
    expect(records.find((r) => r.event === 'mcpgate.session.end' && r.session === id)).toMatchObject({ transport: 'http', reason: 'idle', subject: 'idler' });
  });
});

describe('session end reasons', () => {
  it('shutdown for the sessions a stopping HTTP gateway closes, disconnected for a stdio client that went away', async () => {
    const config = await makeConfig({ servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) } });
    try {
      const http = await startHttpGateway(config.dir);
      const raw = await rawSession(http.url, PLAIN);
      await http.close();
      const stdio = await startStdioGateway(config.dir);
      await stdio.client.callTool({ name: 'echo__echo', arguments: { message: 'hi' } });
      await stdio.close();
      const records = await waitForAudit(config.auditFile, (all) => all.filter((r) => r.event === 'mcpgate.session.end').length >= 2);
      const ends = records.filter((r) => r.event === 'mcpgate.session.end');
      expect(ends.find((r) => r.session === raw.id)).toMatchObject({ transport: 'http', reason: 'shutdown' });
      expect(ends.find((r) => r.transport === 'stdio')).toMatchObject({ reason: 'disconnected' });
    } finally {
      await config.cleanup();
    }
  });
});

describe('/healthz with auth', () => {
  const ISSUER = 'https://issuer.mcpgate.test';
  const AUDIENCE = 'mcpgate-health';
  const KEY = 'hmac-key-for-the-health-test-0123456789abcdef';
  let config: TempConfig;
  let gateway: HttpGateway;

  beforeAll(async () => {
    config = await makeConfig({
      gateway: { auth: { issuer: ISSUER, audience: AUDIENCE, secret: '${env:MCPGATE_TEST_HEALTH_KEY}' } },
      servers: { 'secret-upstream-name': fixtureServer('echo') },
    });
    gateway = await startHttpGateway(config.dir, [], { MCPGATE_TEST_HEALTH_KEY: KEY });
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
  });

  it('shows only the overall status without a valid token, the details with one', async () => {
    const url = `http://127.0.0.1:${gateway.port}/healthz`;
    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(200);
    const anonymousBody = await anonymous.text();
    expect(JSON.parse(anonymousBody)).toEqual({ status: 'ok' });
    const forged = await fetch(url, { headers: { authorization: 'Bearer not.a.token' } });
    expect(JSON.parse(await forged.text())).toEqual({ status: 'ok' });
    const token = await new SignJWT({ sub: 'ops' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(KEY));
    const detailed = (await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).json()) as { status: string; upstreams: Record<string, string> };
    expect(detailed.status).toBe('ok');
    expect(Object.keys(detailed.upstreams)).toEqual(['secret-upstream-name']);
  });
});
