/**
 * Authenticated HTTP clients end to end: bearer JWTs verified by a real gateway process
 * (HMAC key from a real keychain, RS256 through a JWKS the test serves on loopback), every
 * rejection a 401 with `WWW-Authenticate` pointing at the RFC 9728 metadata, per-subject rules
 * observed on real calls and in the audit log, the client's token never reaching an upstream,
 * and no unauthenticated HTTP on a non-loopback address.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startSecretService, type SessionBus } from '../support/keyring.js';
import {
  fixtureServer,
  freePort,
  MAIN,
  makeConfig,
  readAudit,
  startHttpGateway,
  textOf,
  waitForAudit,
  type HttpGateway,
  type TempConfig,
} from '../support/gateway.js';

const ISSUER = 'https://issuer.mcpgate.test';
const AUDIENCE = 'mcpgate-e2e';
const HMAC_KEY = 'hmac-key-for-the-e2e-test-0123456789abcdef';

function hmacToken(claims: Record<string, unknown>, options: { expiresIn?: string | number; issuer?: string; audience?: string; key?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '10m')
    .sign(new TextEncoder().encode(options.key ?? HMAC_KEY));
}

const initialize = (url: URL, token?: string) =>
  fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
  });

/** An MCP upstream over Streamable HTTP (SDK server in this process) that records every request's headers. */
async function recordingUpstream(): Promise<{ url: string; headers: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const headers: IncomingHttpHeaders[] = [];
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const server: Server = createServer(async (req, res) => {
    headers.push(req.headers);
    const sid = req.headers['mcp-session-id'] as string | undefined;
    let transport = sid ? transports.get(sid) : undefined;
    if (!transport) {
      const mcp = new McpServer({ name: 'recorder', version: '1.0.0' });
      mcp.registerTool('whoami', { inputSchema: { note: z.string().optional() } }, async () => ({ content: [{ type: 'text', text: 'recorded' }] }));
      const fresh = new StreamableHTTPServerTransport({ sessionIdGenerator: () => crypto.randomUUID(), onsessioninitialized: (id) => {
        transports.set(id, fresh);
      } });
      await mcp.connect(fresh);
      transport = fresh;
    }
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    headers,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('HMAC bearer tokens (key in the keychain), clients: rules, audit subject', () => {
  let bus: SessionBus;
  let config: TempConfig;
  let gateway: HttpGateway;
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  const clients: Client[] = [];
  let aliceToken: string;
  let bobToken: string;

  const connectAs = async (token: string) => {
    const client = await gateway.connect({}, { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    bus = await startSecretService();
    const set = spawn(process.execPath, [MAIN, 'secrets', 'set', 'jwt-hmac'], { env: { PATH: process.env.PATH ?? '', ...bus.env }, stdio: ['pipe', 'ignore', 'inherit'] });
    set.stdin.end(HMAC_KEY);
    expect(await new Promise((resolve) => set.once('close', resolve))).toBe(0);
    upstream = await recordingUpstream();
    config = await makeConfig({
      gateway: {
        auth: { issuer: ISSUER, audience: AUDIENCE, secret: '${secret:jwt-hmac}', clockTolerance: '5s' },
        approval: { channel: 'none' },
        clients: [
          { subject: 'alice', allow: ['echo/echo'] },
          { group: 'restricted', deny: [{ tool: 'echo/add', reason: 'restricted users may not add' }] },
        ],
      },
      servers: {
        // echo is `ask` by default (no approval channel: denied), add is allowed by a rule
        echo: fixtureServer('echo', { tools: { default: 'ask', allow: ['add'] } }),
        recorder: { url: upstream.url, tools: { default: 'allow' } },
      },
    });
    gateway = await startHttpGateway(config.dir, [], bus.env);
    aliceToken = await hmacToken({ sub: 'alice', groups: ['staff'] });
    bobToken = await hmacToken({ sub: 'bob', groups: ['staff', 'restricted'] });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await gateway?.close();
    await upstream?.close();
    await config?.cleanup();
    await bus?.stop();
  });

  it('accepts a valid token and applies per-subject rules to real calls and to tools/list', async () => {
    const alice = await connectAs(aliceToken);
    const bob = await connectAs(bobToken);
    // alice: a client allow loosens echo's default `ask`
    const aliceEcho = await alice.callTool({ name: 'echo__echo', arguments: { message: 'hi from alice' } });
    expect(aliceEcho.isError).toBeFalsy();
    expect(textOf(aliceEcho)).toBe('hi from alice');
    // bob: no client rule for echo, so its default `ask` stands (no approval channel: not run)
    const bobEcho = await bob.callTool({ name: 'echo__echo', arguments: { message: 'hi from bob' } });
    expect(bobEcho.isError).toBe(true);
    expect(textOf(bobEcho)).toMatch(/approval required/);
    // add: allowed by a server rule for alice; denied for bob's group by a client rule
    expect(textOf(await alice.callTool({ name: 'echo__add', arguments: { a: 2, b: 3 } }))).toBe('5');
    const bobAdd = await bob.callTool({ name: 'echo__add', arguments: { a: 2, b: 3 } });
    expect(bobAdd.isError).toBe(true);
    expect(textOf(bobAdd)).toMatch(/restricted users may not add/);
    // the same layer filters tools/list
    expect((await alice.listTools()).tools.map((t) => t.name)).toContain('echo__add');
    expect((await bob.listTools()).tools.map((t) => t.name)).not.toContain('echo__add');
  });

  it('records the subject on session, decision and result records', async () => {
    const records = await waitForAudit(config.auditFile, (rs) =>
      rs.some((r) => r.event === 'mcpgate.tool.result' && r.subject === 'alice' && r.public_name === 'echo__add'),
    );
    const starts = records.filter((r) => r.event === 'mcpgate.session.start');
    expect(starts.map((r) => r.subject).sort()).toEqual(['alice', 'bob']);
    expect(starts.find((r) => r.subject === 'bob')?.groups).toEqual(['staff', 'restricted']);
    const decisions = records.filter((r) => r.event === 'mcpgate.tool.decision');
    expect(decisions.length).toBeGreaterThanOrEqual(4);
    for (const decision of decisions) expect(['alice', 'bob']).toContain(decision.subject);
    const bobAdd = decisions.find((r) => r.subject === 'bob' && r.public_name === 'echo__add');
    expect(bobAdd).toMatchObject({ decision: 'deny', decided_by: 'rule' });
    expect(String(bobAdd?.rule)).toMatch(/^gateway\.yaml clients\[1\]\.deny\[0\]/);
    expect(decisions.find((r) => r.subject === 'alice' && r.public_name === 'echo__echo')).toMatchObject({ decision: 'allow', rule: expect.stringMatching(/clients\[0\]\.allow\[0\]/) });
    for (const result of records.filter((r) => r.event === 'mcpgate.tool.result')) expect(['alice', 'bob']).toContain(result.subject);
  });

  it('never passes the client token to an upstream', async () => {
    const alice = await connectAs(aliceToken);
    expect(textOf(await alice.callTool({ name: 'recorder__whoami', arguments: {} }))).toBe('recorded');
    expect(upstream.headers.length).toBeGreaterThan(0);
    for (const headers of upstream.headers) {
      expect(headers.authorization).toBeUndefined();
      expect(JSON.stringify(headers)).not.toContain(aliceToken);
    }
    const audit = JSON.stringify(await readAudit(config.auditFile));
    expect(audit).not.toContain(aliceToken);
    expect(audit).not.toContain(HMAC_KEY);
    expect(gateway.stderr()).not.toContain(HMAC_KEY);
  });

  it('answers 401 with WWW-Authenticate for no, expired, wrong-audience, wrong-issuer and tampered tokens', async () => {
    const metadataUrl = `http://127.0.0.1:${gateway.port}/.well-known/oauth-protected-resource/mcp`;
    const none = await initialize(gateway.url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl}"`);

    const [header, payload, signature] = aliceToken.split('.') as [string, string, string];
    const flipped = `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    const cases: Array<[string, string, RegExp]> = [
      ['expired', await hmacToken({ sub: 'alice' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 }), /expired/],
      ['wrong audience', await hmacToken({ sub: 'alice' }, { audience: 'someone-else' }), /audience/],
      ['wrong issuer', await hmacToken({ sub: 'alice' }, { issuer: 'https://evil.test' }), /issuer/],
      ['tampered signature', `${header}.${payload}.${flipped}`, /signature/],
      ['other key', await hmacToken({ sub: 'alice' }, { key: 'another-hmac-key-that-is-long-enough-000' }), /signature/],
      ['no subject', await hmacToken({}), /no 'sub' claim/],
    ];
    for (const [what, token, reason] of cases) {
      const res = await initialize(gateway.url, token);
      expect(res.status, what).toBe(401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      expect(challenge, what).toMatch(/^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="/);
      expect(challenge, what).toMatch(reason);
      expect(challenge, what).toContain(metadataUrl);
      await res.body?.cancel();
    }
    // a token with a payload edited to another subject fails too
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'admin', iss: ISSUER, aud: AUDIENCE, exp: 9999999999 })).toString('base64url')}.${signature}`;
    expect((await initialize(gateway.url, forged)).status).toBe(401);
  });

  it('requires the token on every request of a session, and binds the session to its subject', async () => {
    const res = await initialize(gateway.url, aliceToken);
    expect(res.status).toBe(200);
    const session = res.headers.get('mcp-session-id') as string;
    await res.body?.cancel();
    const list = (token?: string) =>
      fetch(gateway.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': session,
          'mcp-protocol-version': '2025-06-18',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
    expect((await list()).status).toBe(401);
    expect((await list(bobToken)).status).toBe(403);
    const ok = await list(aliceToken);
    expect(ok.status).toBe(200);
    await ok.body?.cancel();
    // the same subject, later in another group (one a clients: rule restricts): a new session is needed
    const regrouped = await list(await hmacToken({ sub: 'alice', groups: ['staff', 'restricted'] }));
    expect(regrouped.status).toBe(403);
    expect(await regrouped.text()).toContain("the token's groups differ");
    // a fresh token with the same groups keeps the session
    const refreshed = await list(await hmacToken({ sub: 'alice', groups: ['staff'], jti: 'refreshed' }));
    expect(refreshed.status).toBe(200);
    await refreshed.body?.cancel();
  });

  it('serves the OAuth protected-resource metadata (RFC 9728)', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const res = await fetch(`http://127.0.0.1:${gateway.port}${path}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        resource: `http://127.0.0.1:${gateway.port}/mcp`,
        authorization_servers: [ISSUER],
        bearer_methods_supported: ['header'],
        resource_name: 'mcpgate',
      });
    }
  });
});

describe('RS256 bearer tokens through a JWKS served on loopback', () => {
  let jwks: Server;
  let config: TempConfig;
  let gateway: HttpGateway;
  let privateKey: CryptoKey;
  let jwksRequests = 0;

  const rsToken = (key: CryptoKey, claims: Record<string, unknown> = { sub: 'carol' }, kid = 'test-key') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m').sign(key);

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      jwksRequests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    config = await makeConfig({
      gateway: { auth: { issuer: ISSUER, audience: [AUDIENCE, 'other'], jwksUrl } },
      servers: { echo: fixtureServer('echo', { tools: { default: 'allow' } }) },
    });
    gateway = await startHttpGateway(config.dir);
  });

  afterAll(async () => {
    await gateway?.close();
    await config?.cleanup();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  it('accepts a token signed by the JWKS key and caches the key set', async () => {
    const token = await rsToken(privateKey);
    const client = await gateway.connect({}, { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    for (let i = 0; i < 5; i++) expect(textOf(await client.callTool({ name: 'echo__echo', arguments: { message: `rs ${i}` } }))).toBe(`rs ${i}`);
    await client.close();
    expect(jwksRequests).toBe(1);
    const records = await waitForAudit(config.auditFile, (rs) => rs.filter((r) => r.event === 'mcpgate.tool.result').length >= 5);
    expect(records.filter((r) => r.event === 'mcpgate.tool.decision').every((r) => r.subject === 'carol')).toBe(true);
  });

  it('rejects a token signed by another key, an HMAC token and a tampered one', async () => {
    const other = await generateKeyPair('RS256');
    const good = await rsToken(privateKey);
    const [h, p, s] = good.split('.') as [string, string, string];
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'mallory' })).toString('base64url')}.${s}`;
    for (const token of [await rsToken(other.privateKey), await hmacToken({ sub: 'carol' }), tampered]) {
      const res = await initialize(gateway.url, token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    }
  });
});

describe('non-loopback HTTP without authentication', () => {
  it('is refused at start unless --insecure-no-auth is given', async () => {
    const config = await makeConfig({ servers: { echo: fixtureServer('echo') } });
    try {
      const port = await freePort();
      const refused = spawn(process.execPath, [MAIN, 'serve', '--config', config.dir, '--transport', 'http', '--host', '0.0.0.0', '--port', String(port)], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      refused.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      expect(await new Promise((resolve) => refused.once('close', resolve))).toBe(1);
      expect(stderr).toMatch(/refusing to serve HTTP on 0\.0\.0\.0, a non-loopback address, without client authentication/);
      expect(stderr).toMatch(/fix: configure bearer-token authentication in gateway\.yaml \(`auth:`\)/);
      const insecure = await startHttpGateway(config.dir, ['--host', '0.0.0.0', '--insecure-no-auth']);
      try {
        expect((await fetch(`http://127.0.0.1:${insecure.port}/healthz`)).status).toBe(200);
        expect(insecure.stderr()).toMatch(/without client authentication \(--insecure-no-auth\)/);
      } finally {
        await insecure.close();
      }
    } finally {
      await config.cleanup();
    }
  });
});
